"""Values on Telegram's preview pages: counters (``1.58M``), the channel id inside
``data-view``, dates, usernames in links, and decoding a page's bytes."""

from __future__ import annotations

import base64
import binascii
import codecs
import json
import re
from datetime import datetime, timezone
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

_SPACES = str.maketrans("", "", " \u00a0\u2009\u202f")
_SUFFIX = {"K": 1_000, "M": 1_000_000, "B": 1_000_000_000}
BG_URL = re.compile(r"background-image\s*:\s*url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")
_META_CHARSET = re.compile(rb"<meta[^>]{0,200}?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.I)
_COUNT = re.compile(r"[0-9]{1,18}(?:\.[0-9]{1,6})?")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")
AT_MENTION = re.compile(r"(?<![\w@.])@([A-Za-z][A-Za-z0-9_]{3,31})(?![A-Za-z0-9_])")
_TG_HOSTS = frozenset({"t.me", "www.t.me", "telegram.me", "www.telegram.me", "telegram.dog"})
# first path segments of t.me links that are not usernames
_NOT_NAMES = frozenset(
    "s c joinchat addstickers addemoji addtheme addlist share proxy socks iv setlanguage bg "
    "login confirmphone invoice boost contact giftcode m k a z".split()
)
COUNTER_TYPES = ("subscriber", "member", "подписчик", "участник")


def parse_count(text: str | None) -> int | None:
    """Parse Telegram's counters: ``'1.58M'`` -> 1580000, ``'974K'``, ``'1.2B'``, ``'1 234'``.
    Plain digits only (no exponents, infinities or other scripts' digits), below 2**63."""
    if not text:
        return None
    s = text.translate(_SPACES).upper()
    mult = _SUFFIX.get(s[-1:], 1)
    if mult != 1:
        s = s[:-1].replace(",", ".") if "." not in s else s[:-1].replace(",", "")
    else:
        s = s.replace(",", "")
    if not _COUNT.fullmatch(s):
        return None
    value = int(Decimal(s) * mult)
    return value if value < 2**63 else None


def decode_data_view(value: str | None) -> int | None:
    """Positive channel id from a post's ``data-view`` (base64 JSON whose ``c`` is the negated
    id). Tolerates missing padding and the URL-safe alphabet; returns None for anything bad
    (``c`` not a JSON integer, above 2**63, or JSON nested too deep to decode)."""
    if not value:
        return None
    s = value.strip().replace("-", "+").replace("_", "/")
    s += "=" * (-len(s) % 4)
    try:
        view = json.loads(base64.b64decode(s))
    except (binascii.Error, ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    c = view.get("c") if isinstance(view, dict) else None
    if type(c) is not int:  # not bool, not a float such as -1e999 (-inf)
        return None
    return abs(c) if 0 < abs(c) < 2**63 else None


def decode_body(html: bytes | str, encoding: str | None) -> str:
    """Decode a response body: the caller's encoding if given, else a BOM, else UTF-8 when the
    bytes are valid UTF-8, else the page's declared charset, else windows-1251."""
    if isinstance(html, str):
        return html
    if encoding:
        try:
            return html.decode(encoding, "replace")
        except (LookupError, ValueError):  # unknown, or a codec that always fails ("undefined")
            pass
    for bom, enc in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                     (codecs.BOM_UTF16_BE, "utf-16")):
        if html.startswith(bom):
            return html.decode(enc, "replace")
    candidates = ["utf-8"]
    if m := _META_CHARSET.search(html, 0, 4096):
        candidates.append(m.group(1).decode("ascii"))
    for enc in (*candidates, "windows-1251"):
        try:
            return html.decode(enc)
        except (ValueError, LookupError):  # UnicodeError is a ValueError
            continue
    return html.decode("utf-8", "replace")


def parse_time(value: str | None) -> datetime | None:
    """A post's ``<time datetime>`` in UTC (naive times are taken as UTC); None when it is not
    a date, or when it falls outside the years 1-9999 once moved to UTC
    (``9999-12-31T23:00-05:00``): the post is kept with an unknown date."""
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value.strip())
        return dt.astimezone(timezone.utc) if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
    except (ValueError, OverflowError):
        return None


def telegram_name(url: str, page_host: str) -> str | None:
    """The username a Telegram link points at (t.me/NAME, t.me/s/NAME, t.me/NAME/ID,
    tg://resolve?domain=NAME), or None for invite links, stickers and other sites."""
    low = url.lower()
    if not low.startswith("tg:") and "t.me" not in low and "telegram." not in low and (
            not page_host or page_host not in low):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme == "tg":
        name = (parse_qs(parts.query).get("domain") or [""])[0]
    else:
        host = (parts.hostname or "").lower()
        if host not in _TG_HOSTS and host != page_host:
            return None
        segs = [p for p in parts.path.split("/") if p]
        if segs[:1] == ["s"]:
            segs = segs[1:]
        if not segs or segs[0].lower() in _NOT_NAMES:
            return None
        name = segs[0]
    return name if _NAME.fullmatch(name) else None
