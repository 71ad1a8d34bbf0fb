"""Showing scraped text safely: it comes from the people we watch.

`defang` makes links unclickable the way threat-intelligence reports do (`hxxps://shop[.]kz`,
`t[.]me/name`), so an analyst never opens a shop by accident; `printable` removes control
characters (terminal escape sequences, bidirectional overrides) that could rewrite what an
analyst's terminal or page shows, keeping line breaks and tabs; `one_line` also folds every line
break, so a title cannot forge a row of a table; `json_line` writes a record as JSON whose
control, format and separator characters are all `\\uXXXX` escapes (ordinary letters and emoji
stay readable).
"""

from __future__ import annotations

import json
import re
import unicodedata

_SCHEME = re.compile(r"\b(h)tt(ps?)(://)", re.IGNORECASE)
_HOST = re.compile(
    r"\b((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+)(onion|me|kz|ru|com|org|net|io|xyz|top|"
    r"info|biz|cc|ws|to|su|uz|kg|tj|by|ua|shop|site|online|store|link|app|dev|example)\b",
    re.IGNORECASE)
_BIDI = {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
         "\u2069"}
# Everything str.splitlines() breaks on, and tabs: folded to one space by one_line.
_BREAKS = re.compile(r"[\s\u2028\u2029\x85\x1c-\x1f]+")
# Characters a JSON line must never carry raw: controls (C0, DEL, C1), format characters
# (bidi overrides, zero-width ones), line and paragraph separators, unassigned and private use.
_UNSAFE_CATEGORIES = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")


def defang(text: str) -> str:
    text = _SCHEME.sub(lambda m: f"{m.group(1)}xx{m.group(2)}{m.group(3)}", text)
    return _HOST.sub(lambda m: m.group(1)[:-1].replace(".", "[.]") + "[.]" + m.group(2), text)


def printable(text: str) -> str:
    return "".join(ch for ch in text if ch in "\n\t" or (
        unicodedata.category(ch) not in ("Cc", "Cf") or ch in "\u200d\ufe0f")
        and ch not in _BIDI)


def safe(text: str | None) -> str:
    """Both: what a terminal or a page may show of a scraped text."""
    return defang(printable(text or ""))


def one_line(text: str | None) -> str:
    """`safe` text folded to one line: every line break and run of blanks becomes one space."""
    return _BREAKS.sub(" ", safe(text)).strip()


def _escape(ch: str) -> str:
    if ord(ch) > 0xFFFF:  # JSON spells these as a UTF-16 surrogate pair
        high, low = divmod(ord(ch) - 0x10000, 0x400)
        return f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}"
    return f"\\u{ord(ch):04x}"


def json_line(record: object) -> str:
    """One line of JSON for a terminal or a script: non-ASCII text is kept readable, but every
    character that could move the cursor, reorder or hide text is escaped as \\uXXXX."""
    text = json.dumps(record, ensure_ascii=False, default=str)
    return "".join(_escape(ch) if ord(ch) > 0x7e and unicodedata.category(ch)
                   in _UNSAFE_CATEGORIES and ch not in "\u200d\ufe0f" else ch for ch in text)
