"""The review app's defences that are not about who someone is: the signing key (a file of mode
0600, made when missing and refused when others can read it), the security headers every
response carries, and the per-address limiter of failed logins.

Nothing here logs a secret: the key is read, never printed.
"""

from __future__ import annotations

import os
import secrets
import stat
import threading
import time
from collections import deque
from pathlib import Path

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")

SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


class SecretKeyError(Exception):
    """The signing key cannot be used; the message is one line saying what to do."""


def load_secret_key(path: Path) -> bytes:
    """The key in `path`, made (64 random hex characters, mode 0600) when the file is missing.
    A key file that group or others may read or write is refused: anyone who reads it can
    forge any analyst's session."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # made by a concurrent start: read that one
            pass
        except OSError as exc:
            raise SecretKeyError(f"cannot create the secret key file {path}: {exc.strerror}") \
                from None
        else:
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(secrets.token_hex(32) + "\n")
                out.flush()
                os.fsync(out.fileno())
    try:
        mode = path.stat().st_mode
        key = path.read_bytes().strip()
    except OSError as exc:
        raise SecretKeyError(f"cannot read the secret key file {path}: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SecretKeyError(
            f"the secret key file {path} is open to other users (mode {stat.S_IMODE(mode):o}); "
            f"run: chmod 600 {path}")
    if len(key) < 32:
        raise SecretKeyError(f"the secret key file {path} holds fewer than 32 bytes; delete it "
                             "to have a new key made (every session then ends)")
    return key


class AddressLimiter:
    """Failed logins per client address in a sliding window: past `limit` failures within
    `window` seconds the address is refused until the oldest failure leaves the window. It
    slows guessing across many accounts, which the per-account lock-out alone does not."""

    def __init__(self, limit: int, window: float, clock=time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str) -> deque[float]:
        now = self.clock()
        failures = self._failures.get(address)
        if failures is None:
            return deque()
        while failures and now - failures[0] > self.window:
            failures.popleft()
        if not failures:
            del self._failures[address]
        return failures

    def blocked(self, address: str) -> bool:
        with self._lock:
            return len(self._recent(address)) >= self.limit

    def failed(self, address: str) -> None:
        with self._lock:
            self._recent(address)
            self._failures.setdefault(address, deque()).append(self.clock())
            if len(self._failures) > 100_000:  # bounded memory under a spray of addresses
                self._failures.pop(next(iter(self._failures)))

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._failures.pop(address, None)
