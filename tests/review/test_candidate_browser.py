"""The candidate page's additions in real headless Chromium: a hostile captured page opened from
the evidence and rendered in its sandboxed frame runs nothing and asks no host but the app;
a lead assigns with the keyboard (`a`) and sees it in the history."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from crawler.store.models import Post
from tests.review.browser import add_flagged_source, log_in, serve
from tests.review.browser import chromium, watched  # noqa: F401  (fixtures)
from tests.review.test_capture_page import store_capture
from tests.review.test_media import png

@contextmanager
def foreign_server() -> Iterator[tuple[str, list[str]]]:
    """Another origin on loopback standing for the shop's servers: (its host:port, the paths
    asked of it). A request that left the browser for it would be listed."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"fetched")

        do_POST = do_GET

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


def hostile_page(own_image: int, foreign: str) -> bytes:
    """Everything a shop's page could try: script in every form, foreign frames, images,
    styles, fonts, a refresh, a form that submits itself, top navigation."""
    return f"""<!doctype html><html><head><meta charset="utf-8">
<meta http-equiv="refresh" content="0;url=http://{foreign}/refresh">
<link rel="stylesheet" href="http://{foreign}/style.css">
<style>@import url("http://{foreign}/import.css"); body {{ background:
  url("http://{foreign}/bg.png"); }} @font-face {{ font-family: x;
  src: url("http://{foreign}/font.woff"); }} h1 {{ font-family: x; }}</style>
<script>alert("script"); document.body && document.body.setAttribute("data-ran", "1");
  fetch("http://{foreign}/fetch"); top.location = "http://{foreign}/top";</script>
<script src="http://{foreign}/remote.js"></script>
<base href="http://{foreign}/">
</head><body onload="alert('onload')">
<h1 id="shop">Мефедрон закладки</h1>
<img id="remote" src="http://{foreign}/photo.png">
<img id="own" src="/media/{own_image}">
<img src="x" onerror="alert('onerror')">
<iframe src="http://{foreign}/frame"></iframe>
<object data="http://{foreign}/object.swf"></object>
<svg><script>alert("svg")</script><image href="http://{foreign}/svg.png"/></svg>
<form id="f" action="http://{foreign}/form" method="post"><input name="a" autofocus
  onfocus="alert('focus')"></form>
<a href="javascript:alert('link')" id="js">click</a>
<video src="http://{foreign}/v.mp4" autoplay></video>
</body></html>""".encode()


def test_a_hostile_capture_runs_nothing_and_loads_nothing_foreign(store, review_app, users,
                                                                  review_config, watched):  # noqa: F811
    with foreign_server() as (foreign, hits):
        failures = _open_hostile_capture(store, review_app, users, review_config, watched,
                                         foreign)
    assert hits == []  # nothing left the browser for the other origin
    assert watched.dialogs == [], watched.dialogs
    assert watched.page_errors == [], watched.page_errors
    # Chromium reports the subresources it refused; each was stopped by the frame's CSP
    # (hits == [] above is the proof nothing left; under load a report may still be on its way,
    # so only the reports that arrived are checked, and at least one must have.)
    tried = [url for url in watched.requests if foreign in url]
    reported = [url for url in tried if url in failures]
    assert reported and all(failures[url] == "csp" for url in reported), (tried, failures)


def _open_hostile_capture(store, review_app, users, review_config, watched,  # noqa: F811
                          foreign: str) -> dict[str, str]:
    """Open the capture from its candidate; {url: why it failed} of the refused requests."""
    own = store_capture(store, review_config, "https://cdn.evil.kz/own.png", 200,
                        [("Content-Type", "image/png")], png())
    capture_id = store_capture(store, review_config, f"http://{foreign}/shop", 200,
                               [("Content-Type", "text/html; charset=utf-8")],
                               hostile_page(own, foreign))
    with store.session() as session:
        candidate = add_flagged_source(session, handle="captured_shop", title="Shop",
                                       texts=["мефедрон закладки"])
        session.query(Post).filter(Post.url.like("%captured_shop%")).update(
            {"capture_id": capture_id}, synchronize_session=False)
    analyst = users["analyst"]
    page = watched.page
    failures: dict[str, str] = {}
    page.context.on("requestfailed",
                    lambda request: failures.setdefault(request.url, request.failure))
    with serve(review_app) as base:
        log_in(watched, base, analyst.username, analyst.password)
        page.goto(f"{base}/candidates/{candidate}")
        page.click("a.capture-link")
        page.wait_for_url(f"{base}/captures/{capture_id}")
        frame_element = page.wait_for_selector("iframe.capture-frame")
        frame = frame_element.content_frame()
        frame.wait_for_load_state("load")
        assert frame.locator("#shop").inner_text() == "Мефедрон закладки"  # it is shown
        assert frame.locator("body").get_attribute("data-ran") is None  # and no script ran
        frame.locator("#js").click()  # a javascript: link in a sandbox does nothing
        page.wait_for_load_state("load")
        assert page.url == f"{base}/captures/{capture_id}"
        assert frame.url == f"{base}/captures/{capture_id}/rendered"
        watched.shot("capture")
        for _ in range(100):  # Chromium reports a refusal after the request: wait (10 s at most)
            if all(url in failures for url in watched.requests if foreign in url):
                break
            page.wait_for_timeout(100)
    return failures


def test_a_lead_assigns_with_the_keyboard(store, review_app, users, watched):  # noqa: F811
    with store.session() as session:
        candidate = add_flagged_source(session, handle="to_assign", title="Shop",
                                       texts=["мефедрон закладки"])
    lead = users["lead"]
    page = watched.page
    with serve(review_app) as base:
        log_in(watched, base, lead.username, lead.password)
        page.goto(f"{base}/candidates/{candidate}")
        page.keyboard.press("a")
        assert page.evaluate("document.activeElement.name") == "assignee"
        page.select_option("select[name=assignee]", "anna")
        page.click("#form-assign button[type=submit]")
        page.wait_for_selector("#history li[data-action='decision.assign']")
        assert page.locator("#assigned").inner_text() == "Pseudonym A"
        assert "anna" in page.locator("#history li[data-action='decision.assign']").inner_text()
        assert page.locator("#shortcuts dt kbd", has_text="a").count() == 1
        watched.assert_quiet(base.split("://", 1)[1])
