"""The `extras` hooks `build_package` calls (evidence/context.py), wiring the report part:
request texts from the templates (requests.py), report.html (report.py), screenshots and
report.pdf by headless Chromium (render.py), the WACZ (wacz.py) and the RFC 3161 timestamp
(timestamp.py), all as `[evidence]` configures them.

The builder calls `screenshots` before `report_html` and `report_pdf` after it, so the
screenshots made (or the reason none were) reach the report and its PDF. Screenshots are limited
to the first few evidence pages of each subject: the report is a summary, every post is in
posts.csv and every capture in the WARC and the WACZ. Chromium missing, or turned off with
`screenshots = false`: no screenshots and no PDF, and the report says why.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from evidence import render
from evidence.context import PackageContext, ScreenshotItem
from evidence.report import report_html
from evidence.requests import request_texts
from evidence.timestamp import timestamp_manifest
from evidence.wacz import make_wacz

SHOTS_PER_SUBJECT = 2
MAX_SHOTS = 200  # the builder holds them in memory: a bounded number of bounded PNGs


class Extras:
    """Hooks for `build_package(..., extras=Extras(config))`; `config` is the KyranConfig."""

    def __init__(self, config) -> None:
        self.config = config
        self.evidence = config.evidence
        self.shots: dict[str, bytes] = {}
        self.screenshots_note: str | None = None
        self.notes: list[str] = []  # what was left out and why (shown by whoever builds)

    def _chromium(self) -> Path:
        return self.config.resolve(Path(self.evidence.chromium))

    def _no_chromium(self) -> str | None:
        if not self.evidence.screenshots:
            return "turned off ([evidence] screenshots = false)"
        return render.unavailable(self._chromium())

    def request_texts(self, context: PackageContext) -> dict[str, str]:
        return request_texts(context.config, package_id=context.package_id,
                             created_at=context.created_at, recipient=context.recipient,
                             subjects=context.subjects())

    def screenshots(self, items: Iterator[ScreenshotItem]) -> dict[str, bytes]:
        self.screenshots_note = self._no_chromium()
        if self.screenshots_note:
            return {}
        failures: list[str] = []
        try:
            self.shots = render.screenshots(_first_per_subject(items), self._chromium(), failures)
        except render.RenderError as exc:
            self.screenshots_note = str(exc)
            return {}
        self.notes += [f"screenshot not made of {failure}" for failure in failures]
        return dict(self.shots)

    def report_html(self, context: PackageContext) -> str:
        package = {"package_id": context.package_id, "created_at": context.created_at,
                   "organisation": context.organisation, "recipient": context.recipient}
        return report_html(package=package, subjects=context.subjects(),
                           requests=context.requests, screenshots=context.screenshots,
                           screenshots_note=self.screenshots_note,
                           lang=(context.languages or ["en"])[0])

    def report_pdf(self, html: str) -> bytes | None:
        reason = self._no_chromium()
        if reason is None:
            try:
                return render.report_pdf(html, self._chromium(), self.shots)
            except render.RenderError as exc:
                reason = str(exc)
        self.notes.append(f"report.pdf not made: {reason}")
        return None

    def wacz(self, warc_path: Path) -> Path | None:
        return make_wacz(warc_path, Path(warc_path).with_name("extras-web.wacz"))

    def timestamp(self, manifest_bytes: bytes) -> tuple[bytes, bytes] | None:
        if not self.evidence.timestamp_url:
            return None
        chain = self.evidence.timestamp_chain_file
        return timestamp_manifest(self.evidence.timestamp_url,
                                  self.config.resolve(Path(chain)) if chain else None,
                                  manifest_bytes)


def _first_per_subject(items: Iterator[ScreenshotItem]) -> Iterator[ScreenshotItem]:
    """At most SHOTS_PER_SUBJECT items of each subject, MAX_SHOTS in all."""
    per_subject: dict[str, int] = {}
    total = 0
    for item in items:
        if total >= MAX_SHOTS:
            return
        if per_subject.get(item.subject, 0) < SHOTS_PER_SUBJECT:
            per_subject[item.subject] = per_subject.get(item.subject, 0) + 1
            total += 1
            yield item
