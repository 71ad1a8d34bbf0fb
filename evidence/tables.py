"""The tabular members of a package: `posts.csv` and `posts.jsonl` (one row per evidence post,
columns in the order docs/evidence-package.md fixes) and `urls.txt` (subjects' URLs, then
posts' URLs, each once), written row by row.

CSV is RFC 4180 UTF-8 without BOM; a text cell beginning with ``=``, ``+``, ``-``, ``@``, tab or
CR is prefixed with ``'`` so no spreadsheet runs scraped text as a formula. Values are kept
exact otherwise (URLs are not defanged: a blocking form needs them as they are).
"""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

from evidence import names
from evidence.spool import Spool

COLUMNS = ("ref", "subject", "url", "channel", "post_id", "posted_at", "text", "views",
           "indicators", "verdict", "score", "capture_sha256")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def guard(value: object) -> object:
    """A CSV cell that no spreadsheet reads as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def indicators_cell(entities: list[tuple[str, str]]) -> str:
    return "; ".join(f"{kind}:{value}" for kind, value in entities)


class PostTables:
    """posts.csv and posts.jsonl, a row at a time."""

    def __init__(self, directory: Path) -> None:
        self.csv = Spool(directory, names.POSTS_CSV)
        self.jsonl = Spool(directory, names.POSTS_JSONL)
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")
        self._row(COLUMNS)

    def _row(self, values) -> None:
        self._writer.writerow(values)
        self.csv.write(self._buffer.getvalue().encode("utf-8"))
        self._buffer.seek(0)
        self._buffer.truncate()

    def add(self, row: dict) -> None:
        """`row` has the COLUMNS; `indicators` as [(kind, value)]."""
        values = {**row, "indicators": indicators_cell(row["indicators"])}
        self._row([guard("" if values[c] is None else values[c]) for c in COLUMNS])
        self.jsonl.record({c: values[c] for c in COLUMNS})

    def spools(self) -> list[Spool]:
        return [self.csv, self.jsonl]


class UrlList:
    """urls.txt: subjects' URLs first, then posts' URLs; each URL once, one a line (a URL with
    a line break or control character in it is not a URL and is left out)."""

    def __init__(self, directory: Path) -> None:
        self.final = Spool(directory, names.URLS)
        self._posts = Spool(directory, "posts-urls.tmp")
        self._seen: set[bytes] = set()

    def _fresh(self, url: str | None) -> bool:
        if not url or any(ord(ch) < 32 or ord(ch) == 127 for ch in url):
            return False
        digest = hashlib.sha1(url.encode("utf-8", "surrogatepass")).digest()
        if digest in self._seen:
            return False
        self._seen.add(digest)
        return True

    def subject(self, url: str | None) -> None:
        if self._fresh(url):
            self.final.line(url)

    def post(self, url: str | None) -> None:
        if self._fresh(url):
            self._posts.line(url)

    def finish(self) -> Spool:
        self._posts.close()
        with open(self._posts.path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 16), b""):
                self.final.write(chunk)
        self._posts.path.unlink()
        self.final.close()
        return self.final
