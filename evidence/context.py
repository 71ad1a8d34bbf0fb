"""What the package builder hands to its optional `extras` hooks (request texts, report,
screenshots, WACZ, timestamp), and the hook protocol itself.

The context streams: `subjects()` reads back, one subject at a time, a JSON Lines file the
builder wrote while collecting (a ``{"subject": …}`` line followed by its ``{"item": …}``
lines), so a hook holds one subject's evidence at a time, never the whole batch. Each subject is
the manifest's subject (ref, candidate_id, type, platform, handle, title, url, category,
decision, origin …) with `items`: the full evidence items (ref, url, channel, post_id,
posted_at, text, views, indicators [{kind, value}], spans [[start, end, label]], verdict, score,
capture {file, record_id, sha256, captured_at, …} or null, missing).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Protocol

from crawler.config_evidence import EvidenceConfig


@dataclass
class PackageContext:
    package_id: str
    created_at: str  # ISO 8601 UTC, "…Z"
    recipient: str  # telegram | regulator | generic
    languages: list[str]
    organisation: str
    organisation_id: str
    notifier: dict  # name, email, contact
    legal_basis: str
    created_by: str  # the exporting user's display name or pseudonym
    config: EvidenceConfig
    subject_count: int = 0
    item_count: int = 0
    missing_count: int = 0
    # filled before report_html: item or subject ref -> entry name of its screenshot
    screenshots: dict[str, str] = field(default_factory=dict)
    # filled before report_html: entry name -> request text
    requests: dict[str, str] = field(default_factory=dict)
    subjects_path: Path | None = None

    def subjects(self) -> Iterator[dict]:
        """Every subject with its items, in package order."""
        if self.subjects_path is None:
            return
        subject = None
        with open(self.subjects_path, encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                if "subject" in record:
                    if subject is not None:
                        yield subject
                    subject = {**record["subject"], "items": []}
                else:
                    subject["items"].append(record["item"])
        if subject is not None:
            yield subject


@dataclass
class ScreenshotItem:
    """An evidence item with a web capture: its WARC record is at `offset`/`length` of
    `warc_path` (the package's captures/web.warc.gz while it is being built)."""

    ref: str
    subject: str
    url: str
    warc_path: Path
    offset: int
    length: int


class Extras(Protocol):
    """The optional hooks of `build_package`; any of them may return None / {} to skip."""

    def request_texts(self, context: PackageContext) -> dict[str, str]:
        """Entry name (requests/<recipient>.<lang>.txt) -> request text."""

    def report_html(self, context: PackageContext) -> str:
        """The self-contained report.html."""

    def report_pdf(self, html: str) -> bytes | None:
        """report.pdf printed from the HTML, or None (no Chromium)."""

    def screenshots(self, items: Iterator[ScreenshotItem]) -> dict[str, bytes]:
        """Entry name (screenshots/<ref>.png) -> PNG bytes, rendered from the captures."""

    def wacz(self, warc_path: Path) -> Path | None:
        """A WACZ file made from the package's WARC (the builder copies it in), or None."""

    def timestamp(self, manifest_bytes: bytes) -> tuple[bytes, bytes] | None:
        """(RFC 3161 TimeStampResp DER, TSA chain PEM) over the manifest, or None."""
