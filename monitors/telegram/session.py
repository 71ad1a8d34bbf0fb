"""The Telegram session file of one account: a Telethon StringSession (a full credential to the
account) kept in a file of mode 0600 in a 0700 directory, written atomically.

The session string only ever leaves this module inside `SessionSecret`, whose repr and str hide
it; errors name the file and what to do, never its content.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from crawler.config import KyranConfig
from crawler.durable import fsync_dir


class SessionFileError(Exception):
    """A session file cannot be used; the message is one line naming the file and the fix."""


class SessionSecret:
    """A StringSession that does not show itself: `reveal()` is the only way to the string."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "SessionSecret(***)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SessionSecret) and other._value == self._value

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self):  # never pickled into a job store or a log record by accident
        raise TypeError("a session secret is not serialisable")


def session_path(config: KyranConfig, account: str) -> Path:
    """Where `account` keeps its session file."""
    return config.telegram.session_path(config.home, account)


def mode_problem(path: Path) -> str | None:
    """Why the file at `path` is unsafe (readable or writable by group or others), or None."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return (f"{path} is accessible by group or others (mode {mode:04o}): a session is a full "
                f"login to the account; run: chmod 600 {path}")
    return None


def session_file_state(config: KyranConfig, account: str) -> str:
    """The session file of `account` as `kyran telegram accounts` and `kyran status` show it:
    saved (with its path), none, unreadable or UNSAFE (and the fix). Never its content."""
    path = session_path(config, account)
    try:
        problem = mode_problem(path)
    except FileNotFoundError:
        return "none (run kyran telegram login)"
    except OSError as exc:
        return f"unreadable ({exc.strerror})"
    if problem:
        return f"UNSAFE: {problem}"
    return f"saved ({path})"


def read_session(config: KyranConfig, account: str) -> SessionSecret | None:
    """The saved session of `account`, or None when it has none yet. SessionFileError when the
    file is unsafe, unreadable or not a session."""
    path = session_path(config, account)
    try:
        problem = mode_problem(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SessionFileError(f"{path}: cannot read the session file: {exc.strerror}") from None
    if problem:
        raise SessionFileError(problem)
    try:
        value = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not a session (not ASCII text)"
        raise SessionFileError(f"{path}: cannot read the session file: {reason}") from None
    if not value:
        return None
    check_session_string(value, path)
    return SessionSecret(value)


def check_session_string(value: str, where: Path | str) -> None:
    """SessionFileError unless `value` is a StringSession Telethon can load."""
    from telethon.sessions import StringSession

    try:
        StringSession(value)
    except Exception:  # ValueError, struct.error, binascii.Error: none may echo the string
        raise SessionFileError(
            f"{where}: not a Telethon session string (sign in again with kyran telegram "
            "login)") from None


def write_session(config: KyranConfig, account: str, secret: SessionSecret) -> Path:
    """Save `secret` as `account`'s session: a temporary file of mode 0600 beside the target,
    flushed to disk, then renamed over it (a crash leaves the old file or the new one, never
    half of one). A missing directory is created with mode 0700."""
    path = session_path(config, account)
    _make_private_dir(path.parent)
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise SessionFileError(f"{path.parent}: cannot write the session file there: "
                               f"{exc.strerror}") from None
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "w", encoding="ascii") as out:
            out.write(secret.reveal() + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return path


def _make_private_dir(directory: Path) -> None:
    missing = []
    for parent in [directory, *directory.parents]:
        if parent.exists():
            break
        missing.append(parent)
    for parent in reversed(missing):
        try:
            parent.mkdir(mode=0o700)
        except FileExistsError:
            pass
        except OSError as exc:
            raise SessionFileError(f"{parent}: cannot create the session directory: "
                                   f"{exc.strerror}") from None
    if missing:
        os.chmod(directory, 0o700)  # mkdir's mode is filtered by the umask
