"""Showing scraped text safely: it comes from the people we watch.

`defang` makes links unclickable the way threat-intelligence reports do (`hxxps://shop[.]kz`,
`t[.]me/name`), so an analyst never opens a shop by accident; `printable` removes control
characters (terminal escape sequences, bidirectional overrides) that could rewrite what an
analyst's terminal or page shows, keeping line breaks and tabs.
"""

from __future__ import annotations

import re
import unicodedata

_SCHEME = re.compile(r"\b(h)tt(ps?)(://)", re.IGNORECASE)
_HOST = re.compile(
    r"\b((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+)(onion|me|kz|ru|com|org|net|io|xyz|top|"
    r"info|biz|cc|ws|to|su|uz|kg|tj|by|ua|shop|site|online|store|link|app|dev|example)\b",
    re.IGNORECASE)
_BIDI = {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
         "\u2069"}


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
