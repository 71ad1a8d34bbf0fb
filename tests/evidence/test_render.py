"""Renders with the system's headless Chromium: screenshots of evidence pages come from the
stored WARC records only (a local trap server referenced everywhere in a hostile captured page,
and even serving the page's own URL, receives nothing), JavaScript never runs, a broken capture
is reported and the rest rendered; report.pdf is printed with its screenshots; a missing
Chromium is a clear reason, never a crash."""

from __future__ import annotations

import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from crawler.store.captures import CaptureWriter
from evidence.context import ScreenshotItem
from evidence.render import RenderError, chromium, report_pdf, screenshots, unavailable
from evidence.report import report_html
from tests.evidence.report_samples import subjects

CHROMIUM = Path("/usr/bin/chromium")


class Trap:
    """An HTTP server on port 0 that records every request it gets."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        trap = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                trap.paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(b"<h1>LIVE</h1>")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def trap():
    server = Trap()
    yield server
    server.close()


def hostile_page(trap: str) -> bytes:
    return f"""<!DOCTYPE html><html><head><title>shop</title>
<link rel="stylesheet" href="{trap}/css"><link rel="prefetch" href="{trap}/prefetch">
<link rel="icon" href="{trap}/icon"><style>@import url("{trap}/import");
body {{ background: url("{trap}/bg") }}</style>
<meta http-equiv="refresh" content="0; url={trap}/refresh"></head>
<body><h1>Мефедрон закладки</h1><img src="{trap}/img"><iframe src="{trap}/frame"></iframe>
<script>fetch("{trap}/fetch"); new Image().src = "{trap}/js-img";</script>
<script src="{trap}/script.js"></script><video poster="{trap}/poster"></video>
<object data="{trap}/object"></object><form action="{trap}/form"><input autofocus></form>
</body></html>""".encode()


def capture(tmp_path: Path, pages: list[tuple[str, bytes]]) -> list[ScreenshotItem]:
    writer = CaptureWriter(tmp_path / "captures", fsync=False)
    refs = [writer.write_response(url, 200, [("Content-Type", "text/html; charset=utf-8")], body)
            for url, body in pages]
    writer.close()
    return [ScreenshotItem(ref=f"P{n + 1}", subject="S1", url=ref.url,
                           warc_path=tmp_path / "captures" / ref.path, offset=ref.offset,
                           length=ref.length) for n, ref in enumerate(refs)]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_screenshots_come_from_the_capture_and_nothing_leaves(tmp_path, trap):
    items = capture(tmp_path, [("https://t.me/s/shop_alm/12", hostile_page(trap.url)),
                               (trap.url + "/page", hostile_page(trap.url)),
                               ("https://t.me/s/shop_alm/13", b"<html><body></body></html>")])
    failures: list[str] = []
    shots = screenshots(items, CHROMIUM, failures)
    assert failures == []
    assert sorted(shots) == ["screenshots/P1.png", "screenshots/P2.png", "screenshots/P3.png"]
    assert all(png_size(data)[0] == 1280 for data in shots.values())
    assert shots["screenshots/P1.png"] != shots["screenshots/P3.png"]  # the captured page shows
    assert trap.paths == []  # not the page, not one of its resources, not a script's request


def test_a_broken_capture_is_reported_and_the_rest_rendered(tmp_path):
    good, bad = capture(tmp_path, [("https://t.me/s/a/1", b"<h1>a</h1>"),
                                   ("https://t.me/s/a/2", b"<h1>b</h1>")])
    bad.offset += 3
    odd = ScreenshotItem(ref="../x", subject="S1", url="", warc_path=good.warc_path,
                         offset=good.offset, length=good.length)
    failures: list[str] = []
    shots = screenshots([good, bad, odd], CHROMIUM, failures)
    assert list(shots) == ["screenshots/P1.png"]
    assert len(failures) == 2 and failures[0].startswith("P2: ")
    assert failures[1] == "'../x': not a safe item reference"


def test_javascript_is_off_in_the_rendering_context():
    from evidence.render import _isolated

    with chromium(CHROMIUM) as browser:
        context = _isolated(browser)
        page = context.new_page()
        page.set_content("<title>before</title><script>document.title = 'ran'</script>")
        assert page.title() == "before"
        context.close()


def test_report_pdf_is_printed_with_its_screenshots_and_nothing_else(tmp_path, trap):
    items = capture(tmp_path, [("https://t.me/s/shop_alm/12", b"<h1>captured</h1>")])
    shots = screenshots(items, CHROMIUM)
    page = report_html(package={"package_id": "p"}, subjects=subjects(),
                       screenshots={"P1": "screenshots/P1.png"})
    pdf = report_pdf(page, CHROMIUM, shots)
    assert pdf.startswith(b"%PDF-") and b"/Width 1280" in pdf  # the screenshot
    plain = report_pdf(page.replace('src="screenshots/P1.png"', f'src="{trap.url}/x.png"'),
                       CHROMIUM, shots)
    assert plain.startswith(b"%PDF-") and b"/Width 1280" not in plain
    assert trap.paths == []


def test_missing_chromium_is_a_reason_not_a_crash(tmp_path):
    missing = tmp_path / "no-chromium"
    assert unavailable(missing) == f"Chromium is not installed at {missing}"
    assert unavailable(CHROMIUM) is None
    with pytest.raises(RenderError, match="not installed"):
        screenshots([], missing)
    with pytest.raises(RenderError, match="not installed"):
        report_pdf("<p>x</p>", missing)
    broken = tmp_path / "chromium"
    broken.write_text("#!/bin/sh\nexit 1\n")
    broken.chmod(0o755)
    with pytest.raises(RenderError, match="did not start"):
        report_pdf("<p>x</p>", broken)


def test_inside_a_running_event_loop_it_is_a_reason():
    import asyncio

    async def inside():
        with pytest.raises(RenderError, match="^Playwright could not start: "):
            report_pdf("<p>x</p>", CHROMIUM)

    asyncio.run(inside())
