"""Telegram usernames: the one check every name passes where it enters Kyran (command line,
`--file`, configuration seeds, the watchlist, a page's own header).

A username is 4 to 64 ASCII letters, digits and underscores (Telegram's own rule is 5-32 from a
letter; the bound is looser so old and bot names still pass). Anything else — a path (`../x`),
a query (`x?before=1`), look-alike Cyrillic letters, control characters — is refused with one
line saying what is wrong, before it can become part of a URL or a stored handle.
"""

from __future__ import annotations

import re
import string

_USERNAME = re.compile(r"[A-Za-z0-9_]{4,64}")
_PREFIX = re.compile(r"^(?:https?://)?(?:www\.)?(?:t\.me|telegram\.me|telegram\.dog)/(?:s/)?",
                     re.IGNORECASE)


_ALLOWED = frozenset(string.ascii_letters + string.digits + "_")


class UsernameError(ValueError):
    """Not a Telegram username; the message is one line fit to show a user."""


def parse_username(raw: str) -> str:
    """The lower-case username in `raw` (`name`, `@name`, `t.me/name`, `https://t.me/s/name/`),
    or UsernameError."""
    name = _PREFIX.sub("", raw.strip()).strip("/").lstrip("@")
    if _USERNAME.fullmatch(name):
        return name.lower()
    shown = ascii(raw) if len(raw) <= 80 else ascii(raw[:77]) + "…"
    if any(ord(ch) > 127 for ch in name) and any(ch.isalpha() and ord(ch) > 127 for ch in name):
        hint = "non-Latin letters (look-alikes?)"
    elif name and set(name) <= _ALLOWED:
        hint = "4 to 64 characters"
    else:
        hint = "only A-Z, 0-9 and _"
    raise UsernameError(f"{shown} is not a Telegram username ({hint})")


def is_username(raw: str) -> bool:
    try:
        parse_username(raw)
    except UsernameError:
        return False
    return True
