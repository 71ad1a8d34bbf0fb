"""The daemon's logs: text or JSON lines (one object per line: time, level, logger, message and
the record's extra fields), with every secret masked before a line is written.

`setup_logging(level, format)` installs one handler on the root logger and returns its
`SecretMasker`; `masker.add(value)` masks a secret the daemon read (a bot token, an SMTP
password, a session) wherever it would appear. Known shapes of secrets are masked without being
added: Telegram StringSessions, Bot API tokens, passwords in URLs, `password=`/`token=` pairs.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import datetime, timezone
from typing import IO

MASK = "***"

_PATTERNS = [
    # Bot API token (digits:35 characters), alone or in a /bot<token>/ URL path.
    (re.compile(r"(?<![\d])\d{5,12}:[A-Za-z0-9_-]{30,}"), MASK),
    # Telethon StringSession: version "1" then base64 of a server address and a 256-byte key.
    (re.compile(r"\b1[A-Za-z0-9+/_-]{200,}={0,2}"), MASK),
    # user:password@ in a URL.
    (re.compile(r"(//[^/:@\s]*:)[^@\s/]+@"), r"\1" + MASK + "@"),
    # password=…, token: …, api_hash=…, secret=… (query strings, reprs, messages).
    (re.compile(r"(?i)\b((?:pass(?:word)?|passwd|token|api_hash|secret|session)"
                r"[\"']?\s*[=:]\s*[\"']?)[^\s\"'&,;]+"), r"\1" + MASK),
]

_SECRET_KEY = re.compile(r"(?i)pass|token|secret|api_hash|session_string")

# What every LogRecord carries; anything else on a record came as `extra=`.
_STANDARD = set(vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None))) | {
    "message", "asctime", "taskName"}


class SecretMasker:
    """Masks known secret values and secret-shaped text."""

    def __init__(self, secrets: list[str] | None = None) -> None:
        self._secrets: set[str] = set()
        for secret in secrets or []:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        if secret and len(secret.strip()) >= 4:  # a 1-3 character "secret" would mask words
            self._secrets.add(secret.strip())

    def __call__(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, MASK)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


class TextFormatter(logging.Formatter):
    def __init__(self, masker: SecretMasker) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.masker = masker

    def formatTime(self, record, datefmt=None):  # noqa: N802 - logging's name
        return _utc(record.created)

    def format(self, record: logging.LogRecord) -> str:
        return self.masker(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line; values that are not JSON are written as their str()."""

    def __init__(self, masker: SecretMasker) -> None:
        super().__init__()
        self.masker = masker

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": _utc(record.created), "level": record.levelname,
                 "logger": record.name, "message": record.getMessage()}
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        masked = _mask_values(entry, self.masker)
        return json.dumps(masked, ensure_ascii=True, default=str)


def _mask_values(value, masker: SecretMasker):
    if isinstance(value, str):
        return masker(value)
    if isinstance(value, dict):
        return {str(k): MASK if _SECRET_KEY.search(str(k)) and v else _mask_values(v, masker)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_mask_values(v, masker) for v in value]
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return masker(str(value))


def _utc(created: float) -> str:
    return datetime.fromtimestamp(created, timezone.utc).isoformat(timespec="milliseconds")


def setup_logging(level: str = "INFO", format: str = "text",  # noqa: A002 - config's name
                  stream: IO[str] | None = None,
                  secrets: list[str] | None = None) -> SecretMasker:
    """Route every logger to one handler on `stream` (stderr by default) in `format` (text or
    json) at `level`; replaces handlers installed before. Returns the masker of secrets."""
    if format not in ("text", "json"):
        raise ValueError(f"log format {format!r}: expected text or json")
    masker = SecretMasker(secrets)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(masker) if format == "json" else TextFormatter(masker))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Telethon logs every request at DEBUG: keep it to warnings unless asked for DEBUG.
    if level.upper() != "DEBUG":
        logging.getLogger("telethon").setLevel(logging.WARNING)
    return masker
