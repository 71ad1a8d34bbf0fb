"""Entry names inside an evidence package (docs/evidence-package.md, "Layout").

Every name is one of the fixed paths below or is built from a ref (``S12``, ``P345``), a
recipient profile or a language — never from scraped text. `check_name` is the rule the builder
and the verifier share: ASCII letters, digits, ``.``, ``_``, ``-`` and ``/`` separators only; no
leading ``/``, no ``.``/``..`` or empty segment, at most 200 characters; `NameSet` adds
"unique ignoring case".
"""

from __future__ import annotations

import re

from crawler.config_evidence import LANGUAGES, RECIPIENTS

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
TIMESTAMP = "manifest.tsr"
TSA_CHAIN = "tsa-chain.pem"
MANIFEST_ENTRIES = (MANIFEST, SIGNATURE, TIMESTAMP, TSA_CHAIN)  # not listed in manifest.files

POSTS_CSV = "posts.csv"
POSTS_JSONL = "posts.jsonl"
URLS = "urls.txt"
INDICATORS = "indicators.json"
REPORT_HTML = "report.html"
REPORT_PDF = "report.pdf"
WARC = "captures/web.warc.gz"
WACZ = "captures/web.wacz"
MTPROTO = "captures/mtproto.jsonl"

MAX_NAME = 200
_CHARS = re.compile(r"[A-Za-z0-9._/-]+")
_REF = re.compile(r"[SP][1-9][0-9]{0,17}")


class BadName(ValueError):
    """An entry name the format does not allow; the message gives the reason."""


def check_name(name: str) -> str:
    """`name` if it is an allowed entry name, else BadName saying why."""
    if not isinstance(name, str) or not name:
        raise BadName("empty entry name")
    shown = ascii(name[:80])
    if len(name) > MAX_NAME:
        raise BadName(f"entry name {shown}… longer than {MAX_NAME} characters")
    if not _CHARS.fullmatch(name):
        raise BadName(f"entry name {shown} has a character other than A-Z a-z 0-9 . _ - /")
    if name.startswith("/"):
        raise BadName(f"entry name {shown} is an absolute path")
    for segment in name.split("/"):
        if segment in ("", ".", ".."):
            raise BadName(f"entry name {shown} has an empty, '.' or '..' segment")
    return name


class NameSet:
    """The names of one archive: each checked, and unique ignoring case."""

    def __init__(self) -> None:
        self._folded: dict[str, str] = {}

    def add(self, name: str) -> str:
        check_name(name)
        folded = name.casefold()
        if folded in self._folded:
            raise BadName(f"entry name {name!r} duplicates {self._folded[folded]!r} (names are "
                          "unique ignoring case)")
        self._folded[folded] = name
        return name

    def __contains__(self, name: str) -> bool:
        return name.casefold() in self._folded

    def __len__(self) -> int:
        return len(self._folded)


def subject_ref(number: int) -> str:
    """``S<number>``, the ref of the number-th subject of a package (from 1)."""
    return _ref("S", number)


def item_ref(number: int) -> str:
    """``P<number>``, the ref of the number-th evidence item of a package (from 1)."""
    return _ref("P", number)


def _ref(prefix: str, number: int) -> str:
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise BadName(f"a ref number is a positive integer, not {number!r}")
    return f"{prefix}{number}"


def check_ref(ref: str) -> str:
    if not isinstance(ref, str) or not _REF.fullmatch(ref):
        raise BadName(f"{ascii(str(ref)[:40])} is not a ref (S<n> or P<n>)")
    return ref


def screenshot_name(ref: str) -> str:
    """``screenshots/<ref>.png`` for an item or subject ref."""
    return check_name(f"screenshots/{check_ref(ref)}.png")


def request_name(recipient: str, language: str) -> str:
    """``requests/<recipient>.<lang>.txt`` for a known recipient profile and language."""
    if recipient not in RECIPIENTS:
        raise BadName(f"unknown recipient {recipient!r} (one of {', '.join(RECIPIENTS)})")
    if language not in LANGUAGES:
        raise BadName(f"unknown language {language!r} (one of {', '.join(LANGUAGES)})")
    return check_name(f"requests/{recipient}.{language}.txt")


def package_file_name(package_id: str) -> str:
    """``kyran-<package_id>.zip``; the id must be a UUID in its canonical text form."""
    if not re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
                        package_id or ""):
        raise BadName(f"package id {ascii(str(package_id)[:60])} is not a UUID")
    return f"kyran-{package_id}.zip"
