"""Headless Chromium renders for an evidence package: `report.pdf` printed from report.html, and
`screenshots/<ref>.png` of evidence pages rendered from the stored captures — never a live fetch.

A captured page is hostile: it is loaded with JavaScript disabled, under a CSP that forbids
scripts, frames and plugins, and with every network request intercepted (Playwright
`page.route`): the page's own URL is answered with the captured bytes from the WARC record, any
other request is aborted, so nothing leaves the machine. The report is printed the same way from
a temporary directory holding only report.html and its screenshots.

Chromium is optional: when its executable is missing or will not start, the functions return
None / {} and `unavailable()` says why, for the report and the manifest.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urldefrag

from warcio.archiveiterator import ArchiveIterator

from crawler.defang import one_line
from evidence.context import ScreenshotItem

ARGS = ["--headless", "--no-sandbox", "--disable-gpu"]
VIEWPORT = {"width": 1280, "height": 900}
MAX_HEIGHT = 4_000  # pixels of a page's screenshot; the rest is cut
MIN_HEIGHT = 120
MAX_BODY = 20 * 1024 * 1024  # bytes of a captured page served to the browser
TIMEOUT_MS = 30_000  # per captured page: a loaded machine renders slowly, a hung page must end
PDF_TIMEOUT_MS = 300_000  # the report of a large batch is a long document
# Replaces the captured response's headers: no script, frame, plugin or form even if enabled.
PAGE_CSP = ("script-src 'none'; object-src 'none'; frame-src 'none'; worker-src 'none'; "
            "form-action 'none'; base-uri 'none'")
_REF = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SHOT = re.compile(r"screenshots/[A-Za-z0-9_-]{1,64}\.png")
ORIGIN = "http://report.kyran.invalid/"  # never resolved: every request to it is answered here


class RenderError(Exception):
    """Chromium cannot be used (the reason, one line)."""


def unavailable(executable: Path) -> str | None:
    """Why Chromium cannot render here, or None when its executable is there."""
    path = Path(executable)
    if not path.is_file():
        return f"Chromium is not installed at {path}"
    return None


@contextmanager
def chromium(executable: Path) -> Iterator[object]:
    """A headless Chromium browser (Playwright, the system executable); RenderError if none."""
    reason = unavailable(executable)
    if reason:
        raise RenderError(reason)
    from playwright.sync_api import sync_playwright

    try:  # refuses, among others, to run inside a running asyncio loop
        driver = sync_playwright().start()
    except Exception as exc:  # noqa: BLE001 - any failure to drive Chromium is a reason
        raise RenderError(f"Playwright could not start: {_first_line(exc)}") from None
    try:
        try:
            browser = driver.chromium.launch(executable_path=str(executable), args=ARGS)
        except Exception as exc:  # noqa: BLE001
            raise RenderError(f"Chromium at {executable} did not start: "
                              f"{_first_line(exc)}") from None
        try:
            yield browser
        finally:
            browser.close()
    finally:
        driver.stop()


def _isolated(browser):
    """A context with JavaScript off, no service workers, nothing downloaded."""
    return browser.new_context(viewport=VIEWPORT, java_script_enabled=False,
                               service_workers="block", accept_downloads=False,
                               locale="en-US", offline=False)


def read_page(warc_path: Path, offset: int, length: int) -> tuple[str, int, str, bytes]:
    """(URL, status, content type, decoded body) of the WARC response record at offset."""
    with open(warc_path, "rb") as handle:
        handle.seek(offset)
        data = handle.read(length)
    for record in ArchiveIterator(io.BytesIO(data)):
        if record.rec_type not in ("response", "resource"):
            break
        url = record.rec_headers.get_header("WARC-Target-URI") or ""
        http = record.http_headers
        status = int(http.get_statuscode()) if http is not None else 200
        ctype = (http.get_header("Content-Type") if http is not None
                 else record.rec_headers.get_header("Content-Type")) or "text/html"
        body = record.content_stream().read(MAX_BODY)
        return url, status, ctype, body
    raise RenderError(f"no page record at {warc_path.name}@{offset}")


class _Stage:
    """One isolated page showing one captured response at a time: its URL is answered with the
    captured bytes, a navigation away gets 204 (the page stays), every other request is
    aborted. Reused from capture to capture (nothing a page does outlives it: no script runs,
    no cookie is set), and opened anew after a page that failed."""

    def __init__(self, browser) -> None:
        self.context = _isolated(browser)
        self.page = None
        self.serving: tuple[str, int, str, bytes] = ("", 200, "text/html", b"")

    def _handle(self, route) -> None:
        request = route.request
        wanted, status, ctype, body = self.serving
        if urldefrag(request.url).url == wanted:
            route.fulfill(status=status if 200 <= status < 600 else 200, body=body,
                          headers={"content-type": ctype, "content-security-policy": PAGE_CSP})
        elif request.is_navigation_request() and request.frame == self.page.main_frame:
            route.fulfill(status=204)  # a refresh or redirect away: stay on the captured page
        else:
            route.abort("blockedbyclient")

    def shoot(self, url: str, status: int, ctype: str, body: bytes) -> bytes:
        if self.page is None:
            self.page = self.context.new_page()
            self.page.set_default_timeout(TIMEOUT_MS)
            self.page.route("**/*", self._handle)
        self.serving = (urldefrag(url).url, status, ctype, body)
        try:
            self.page.goto(url, wait_until="load")
            height = min(MAX_HEIGHT, max(MIN_HEIGHT, _page_height(self.page)))
            return self.page.screenshot(full_page=True, type="png",
                                        clip={"x": 0, "y": 0, "width": VIEWPORT["width"],
                                              "height": height})
        except Exception:
            self.page.close()
            self.page = None
            raise

    def close(self) -> None:
        self.context.close()


def _shoot(stage: _Stage, item: ScreenshotItem) -> bytes:
    url, status, ctype, body = read_page(item.warc_path, item.offset, item.length)
    if not url.lower().startswith(("http://", "https://")):
        raise RenderError(f"{item.ref}: the capture's URL is not http(s)")
    return stage.shoot(url, status, ctype, body)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return one_line(lines[0]) if lines else type(exc).__name__


def _page_height(page) -> int:
    """The height of the page's content: measured in a viewport of MIN_HEIGHT, since a page
    without a doctype stretches to the viewport. Playwright evaluates in its own world, so this
    works with the page's JavaScript disabled."""
    page.set_viewport_size({"width": VIEWPORT["width"], "height": MIN_HEIGHT})
    try:
        return int(page.evaluate("document.documentElement.scrollHeight"))
    except Exception:  # noqa: BLE001 - a page that cannot be measured gets the viewport height
        return VIEWPORT["height"]


def screenshots(items: Iterable[ScreenshotItem], executable: Path,
                failures: list[str] | None = None) -> dict[str, bytes]:
    """`screenshots/<ref>.png` → PNG for each item whose capture renders; a page that fails is
    left out and its reason appended to `failures`. RenderError when Chromium is unusable."""
    shots: dict[str, bytes] = {}
    failures = failures if failures is not None else []
    with chromium(executable) as browser:
        stage = _Stage(browser)
        try:
            for item in items:
                if not _REF.fullmatch(item.ref or ""):
                    failures.append(f"{one_line(item.ref)!r}: not a safe item reference")
                    continue
                try:
                    shots[f"screenshots/{item.ref}.png"] = _shoot(stage, item)
                except Exception as exc:  # noqa: BLE001 - one bad capture must not stop the rest
                    failures.append(f"{item.ref}: {_first_line(exc)}")
        finally:
            stage.close()
    return shots


def report_pdf(html: str, executable: Path, images: dict[str, bytes] | None = None) -> bytes:
    """report.pdf printed from report.html with its screenshots, both served from memory at a
    private origin (every other request is aborted). RenderError when Chromium is unusable."""
    files = {"report.html": ("text/html; charset=utf-8", html.encode("utf-8"))}
    files.update({name: ("image/png", data) for name, data in (images or {}).items()
                  if _SHOT.fullmatch(name)})

    def handle(route) -> None:
        url = urldefrag(route.request.url).url
        name = url[len(ORIGIN):] if url.startswith(ORIGIN) else None
        if name in files:
            ctype, body = files[name]
            route.fulfill(status=200, body=body, headers={"content-type": ctype})
        else:
            route.abort("blockedbyclient")

    from playwright.sync_api import Error

    with chromium(executable) as browser:
        context = _isolated(browser)
        try:
            page = context.new_page()
            page.set_default_timeout(PDF_TIMEOUT_MS)
            page.route("**/*", handle)
            page.goto(ORIGIN + "report.html", wait_until="load")
            return page.pdf(format="A4", print_background=True,
                            margin={"top": "15mm", "bottom": "15mm", "left": "12mm",
                                    "right": "12mm"})
        except Error as exc:
            raise RenderError(f"report.pdf could not be printed: {_first_line(exc)}") from None
        finally:
            context.close()
