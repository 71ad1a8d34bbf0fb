"""The browser fixtures catch what the XSS tests look for: a page that renders the corpus raw
opens dialogs and asks other hosts, the same corpus escaped does neither. Without this, a quiet
XSS test could be a blind one."""

from __future__ import annotations

from markupsafe import escape
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from tests.review.browser import chromium, serve, watched, xss_corpus  # noqa: F401


def _app():
    corpus = xss_corpus()

    def raw(request):
        return HTMLResponse("<html><body>" + "".join(
            f"<div>{item['text']}</div>" for item in corpus) + "</body></html>")

    def escaped(request):
        return HTMLResponse("<html><body>" + "".join(
            f"<div>{escape(item['text'])}</div>" for item in corpus) + "</body></html>")

    return Starlette(routes=[Route("/raw", raw), Route("/escaped", escaped)])


def test_raw_corpus_is_caught_and_escaped_corpus_is_quiet(watched, tmp_path):  # noqa: F811
    assert len(xss_corpus()) >= 50
    with serve(_app()) as base:
        host = base.split("://", 1)[1]
        watched.page.goto(base + "/escaped")
        watched.page.wait_for_load_state("load")
        watched.shot("escaped")
        watched.assert_quiet(host)
        watched.page.goto(base + "/raw")
        watched.page.wait_for_load_state("load")
        assert watched.dialogs, "an unescaped <script>alert()</script> must be seen"
        assert "xss.invalid" in watched.hosts()
    assert (tmp_path / "screenshots" / "escaped.png").stat().st_size > 1000
