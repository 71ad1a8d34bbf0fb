"""Extract indicators from a post: Telegram handles, bots and links, URLs, domains, onion
addresses, crypto wallets (checksum-validated) and phone numbers (validated by ``phonenumbers``).

Values are normalised so one shop seen in many posts is one entity:

=================  ==========================================================================
kind               value
=================  ==========================================================================
telegram_handle    ``@name`` (lower case) — from ``@name``, ``t.me/name`` is a telegram_link
telegram_bot       ``@namebot`` — from ``@namebot``, ``t.me/namebot``, ``tg://resolve?domain=``
telegram_link      ``t.me/name`` (post numbers and ``/s/`` dropped)
invite_link        ``t.me/+HASH`` (``joinchat/HASH`` is the same invite; the hash keeps its case)
url                the URL as written, scheme and host lower-cased, trailing punctuation dropped
domain             host name, lower case, without ``www.`` (from URLs and bare domains)
onion              ``<56 chars>.onion`` (v3, checksum valid)
btc/eth/tron/xmr   the address as written (``eth`` lower-cased)
phone              E.164 (``+77011234567``), Kazakhstan and neighbouring countries only
=================  ==========================================================================

Every pattern has bounded repetition and the expensive ones only run when a cheap test says the
text can hold a match, so extraction is linear in the text length.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from urllib.parse import urlsplit

import phonenumbers

from detection import wallets
from detection.charclass import bitmap_class

__all__ = ["Extractor", "Indicator", "extract_indicators"]

KINDS = ("telegram_handle", "telegram_bot", "telegram_link", "invite_link", "url", "domain",
         "onion", "btc", "eth", "tron", "xmr", "phone")
PHONE_REGIONS = frozenset({"KZ", "RU", "KG", "UZ", "TJ", "TM", "CN", "AZ", "MN"})
_TLDS = ("kz|ru|com|net|org|info|biz|io|me|su|uz|kg|tj|am|ge|by|ua|cc|to|pw|ws|co|xyz|top|"
         "shop|store|site|online|club|live|link|app|pro|market|space|fun|icu|vip|win|onion|"
         "рф|қаз|срб")
_B58 = "1-9A-HJ-NP-Za-km-z"
_TRAILING = ".,;:!?)»\"'…"


@dataclass(frozen=True, slots=True)
class Indicator:
    """Something a post carries that identifies a shop: ``kind``, normalised ``value``, ``span``
    (in the original text of ``field``: ``"text"`` for a post, or a source's ``"title"``,
    ``"description"``, ``"pinned"``)."""

    kind: str
    value: str
    span: tuple[int, int]
    field: str = "text"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "value": self.value, "span": list(self.span),
                "field": self.field}


class Extractor:
    """Compiled patterns for indicator extraction; build once, call :meth:`extract`."""

    def __init__(self, phone_regions: frozenset[str] = PHONE_REGIONS) -> None:
        self.phone_regions = phone_regions
        # Bounded LRU cache per instance (not on the method, where it would be shared by all
        # instances and keep each one alive).
        self._phone_value = lru_cache(maxsize=8192)(self._parse_phone)
        self._raw_phone_value = lru_cache(maxsize=8192)(self._phone_of)
        self._tg = re.compile(
            r"(?<![\w.])(?:https?://)?(?:www\.)?(?:t\.me|telegram\.me|telegram\.dog)/"
            r"(?:(?:joinchat/|\+)([\w-]{8,64})|(?:s/)?([A-Za-z]\w{3,31})(?![\w]))", re.I)
        self._tg_resolve = re.compile(r"tg://resolve\?domain=([A-Za-z]\w{3,31})(?!\w)", re.I)
        self._handle = re.compile(r"(?<![\w@./])@([A-Za-z]\w{3,31})(?![\w@])")
        self._url = re.compile(r"(?<![\w@/])(?:https?://|www\.)[^\s<>\"'«»()\[\]{}|]{1,2048}", re.I)
        # A host starts at a word start (not after "." or "/"), so each attempt is bounded.
        self._domain = re.compile(
            rf"(?<![\w.\-/])(?:[a-z0-9\u0430-\u044f\u0451\u04d9\u0493\u049b\u04a3\u04e9\u04b1\u04af\u04bb\u0456-]{{1,63}}\.){{1,8}}"
            rf"(?:{_TLDS})(?![\w\-])", re.I)
        # Pre-checks: the end of every domain (a dot, a known TLD, no word after it) and the core
        # of every phone number (digit, 7-18 digits or separators, digit). Both start with a
        # literal or a small class the engine skips to, so the full patterns, which must try a
        # match at each word start, only run on the few posts that can hold a match.
        self._domain_end = re.compile(rf"\.(?=\w)(?:{_TLDS})(?![\w\-])", re.I)
        self._phone_core = re.compile(bitmap_class(r"\d") + r"(?<=\d)[\d \t().\-]{7,18}\d")
        # Runs of 26+ ASCII letters and digits (wallet candidates), tried only at a run's first
        # character rather than at each of its characters.
        self._long = re.compile(r"[A-Za-z0-9](?<![A-Za-z0-9].)[A-Za-z0-9]{25,}")
        self._btc = re.compile(rf"^(?:[13][{_B58}]{{25,34}}"
                               rf"|(?:bc1|BC1)[02-9ac-hj-np-zAC-HJ-NP-Z]{{8,87}})$")
        self._tron = re.compile(rf"^T[{_B58}]{{33}}$")
        self._eth = re.compile(r"0x[0-9a-fA-F]{40}(?![0-9a-zA-Z])")
        self._xmr = re.compile(rf"^[48][{_B58}]{{94}}(?:[{_B58}]{{11}})?$")
        # A phone number: optional "+" or "00", a digit, 7-18 digits or separators, a digit, not
        # inside a word. Written to consume its first character ("+" or a digit) before checking
        # what stands behind it, so the engine skips to those characters; the branches, tried in
        # this order, are the prefixes "+", "00" and none. Both phone patterns start with a bitmap
        # class (charclass.bitmap_class), which takes any character above the BMP too: each branch
        # then checks behind it that it was "+" or a digit.
        self._phone = re.compile(
            bitmap_class(r"[\d+]") + r"(?<![\w+].)(?:(?<=\+)\d[\d \t().\-]{7,18}\d(?!\w)"
            r"|(?<=0)0\d[\d \t().\-]{7,18}\d(?!\w)|(?<=\d)[\d \t().\-]{7,18}\d(?!\w))")
        self._nondigit = re.compile(r"\D")
        # An ASCII phone match holds only digits and these; deleting them is a cheap \D removal.
        self._phone_marks = str.maketrans("", "", "+ \t().-")

    def extract(self, text: str) -> list[Indicator]:
        """All indicators in ``text``, ordered by position."""
        out: list[Indicator] = []
        taken: list[tuple[int, int]] = []  # spans of Telegram links, so URLs do not repeat them
        low = None
        if "t" in text or "T" in text:
            low = text.lower()
            if "me/" in low or "tg:" in low or "telegram" in low:
                self._telegram(text, out, taken)
        if "@" in text:
            for m in self._handle.finditer(text):
                name = m.group(1).lower()
                kind = "telegram_bot" if name.endswith("bot") else "telegram_handle"
                out.append(Indicator(kind, "@" + name, m.span()))
        if "." in text:
            self._web(text, out, taken)
        if "0x" in text:
            for m in self._eth.finditer(text):
                at_word_start = m.start() == 0 or not text[m.start() - 1].isalnum()
                if at_word_start and wallets.is_eth(m.group()):
                    out.append(Indicator("eth", m.group().lower(), m.span()))
        self._wallets(text, out)
        self._phones(text, out)
        if len(out) > 1:
            out.sort(key=lambda i: (i.span, i.kind))
        return out

    def _telegram(self, text: str, out: list[Indicator], taken: list) -> None:
        for m in self._tg.finditer(text):
            invite, name = m.group(1), m.group(2)
            if invite:
                out.append(Indicator("invite_link", "t.me/+" + invite, m.span()))
            elif name.lower() in ("joinchat", "share", "addstickers", "proxy", "socks", "iv"):
                continue
            elif name.lower().endswith("bot"):
                out.append(Indicator("telegram_bot", "@" + name.lower(), m.span()))
            else:
                out.append(Indicator("telegram_link", "t.me/" + name.lower(), m.span()))
            taken.append(m.span())
        for m in self._tg_resolve.finditer(text):
            name = m.group(1).lower()
            kind = "telegram_bot" if name.endswith("bot") else "telegram_handle"
            out.append(Indicator(kind, "@" + name, m.span()))
            taken.append(m.span())

    def _web(self, text: str, out: list[Indicator], taken: list) -> None:
        seen_hosts: set[tuple[int, int]] = set()
        if "://" in text or (("w." in text or "W." in text) and "www." in text.lower()):
            for m in self._url.finditer(text):
                if any(s <= m.start() < e for s, e in taken):
                    continue
                url = m.group().rstrip(_TRAILING)
                start, end = m.start(), m.start() + len(url)
                try:
                    parts = urlsplit(url if "://" in url else "http://" + url)
                    host = (parts.hostname or "").rstrip(".")
                except ValueError:
                    continue
                if "." not in host:
                    continue
                norm = parts._replace(scheme=parts.scheme.lower(),
                                      netloc=parts.netloc.lower()).geturl()
                out.append(Indicator("url", norm if "://" in url else url.lower(), (start, end)))
                host_start = text.lower().find(host, start, end)
                self._add_host(host, host_start, out, seen_hosts, (start, end))
        if not self._domain_end.search(text):
            return
        for m in self._domain.finditer(text):
            if any(s <= m.start() < e for s, e in taken):
                continue
            self._add_host(m.group(), m.start(), out, seen_hosts, None)

    def _add_host(self, host: str, start: int, out: list[Indicator], seen: set, url_span) -> None:
        host = host.lower()
        if host.startswith("www."):
            host, start = host[4:], start + 4
        labels = host.split(".")
        if len(labels) < 2 or not all(labels) or start < 0:
            return
        span = (start, start + len(host))
        if span in seen:
            return
        seen.add(span)
        if labels[-1] == "onion":
            if len(labels) == 2 and wallets.is_onion_v3(labels[0]):
                out.append(Indicator("onion", host, span))
            return
        if host in ("t.me", "telegram.me", "telegram.dog"):
            return
        out.append(Indicator("domain", host, span))

    def _wallets(self, text: str, out: list[Indicator]) -> None:
        for m in self._long.finditer(text):
            s = m.group()
            if len(s) > 120:
                continue
            if self._btc.match(s) and wallets.is_btc(s):
                out.append(Indicator("btc", s.lower() if s[:3].lower() == "bc1" else s, m.span()))
            elif self._tron.match(s) and wallets.is_tron(s):
                out.append(Indicator("tron", s, m.span()))
            elif self._xmr.match(s) and wallets.is_xmr(s):
                out.append(Indicator("xmr", s, m.span()))

    def _phones(self, text: str, out: list[Indicator]) -> None:
        core = self._phone_core.search(text)
        if core is None:
            return
        # A number starts at most two characters ("+" or "00") before its first core, so the
        # full pattern's scan can start there (its look-behind still sees the text before).
        for m in self._phone.finditer(text, max(0, core.start() - 2)):
            value = self._raw_phone_value(m.group())
            if value:
                out.append(Indicator("phone", value, m.span()))

    def _phone_of(self, raw: str) -> str | None:
        """The E.164 form of a phone match as written (``8 (701) 123-45-67``), if valid. Called
        through the per-instance cache ``_raw_phone_value``: a number recurs in its own
        spelling."""
        if raw.isascii():
            digits = raw.translate(self._phone_marks)
        else:
            digits = self._nondigit.sub("", raw)
        if raw.startswith("+"):
            candidate = "+" + digits
        elif raw.startswith("00"):
            candidate = "+" + digits[2:]
        elif len(digits) == 11 and digits[0] in "78":
            candidate = "+7" + digits[1:]
        elif len(digits) == 10 and digits[0] == "7":
            candidate = "+7" + digits
        else:
            return None
        return self._phone_value(candidate)

    def _parse_phone(self, candidate: str) -> str | None:
        """E.164 form of a valid number in an allowed region. Called through the per-instance
        cache ``_phone_value``: parsing is the slowest step of extraction and the same numbers
        (shops, hotlines) recur across posts."""
        try:
            num = phonenumbers.parse(candidate, None)
        except phonenumbers.NumberParseException:
            return None
        if not phonenumbers.is_valid_number(num):
            return None
        if phonenumbers.region_code_for_number(num) not in self.phone_regions:
            return None
        return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


@cache
def default_extractor() -> Extractor:
    """The shared extractor, built on first use (not at import)."""
    return Extractor()


def extract_indicators(text: str) -> list[Indicator]:
    """All indicators in ``text`` (see the module docstring for kinds and values)."""
    return default_extractor().extract(text)
