"""The raw capture behind an evidence post: linked from the candidate page, shown from the stored
WARC record (hash verified) as escaped text, decoded from its Content-Encoding and charset; an
HTML capture also served for a sandboxed frame with a CSP that lets nothing run or load from
elsewhere; a JSON (MTProto) capture pretty-printed."""

from __future__ import annotations

import gzip
import html
import re
from pathlib import Path

from crawler.store.captures import CaptureWriter
from crawler.store.ingest import record_capture
from crawler.store.models import Candidate
from review.routes.captures import RENDERED_CSP
from tests.review.test_media import png
from tests.review.test_stats_support import at, post, source

HOSTILE_HTML = (
    "<html><head><meta charset=\"windows-1251\"><title>Магазин</title>"
    "<script>alert('captured')</script>"
    "<link rel=stylesheet href=\"https://cdn.evil.kz/s.css\"></head>"
    "<body onload=\"alert('onload')\"><h1>Мефедрон закладки</h1>"
    "<img src=\"https://cdn.evil.kz/p.png\"><iframe src=\"https://evil.kz/\"></iframe>"
    "<a href=\"javascript:alert(1)\">https://shop.evil.kz/buy</a>\u202e</body></html>")


def store_capture(store, config, url: str, status: int, headers, body: bytes) -> int:
    writer = CaptureWriter(config.captures_path, fsync=False)
    try:
        ref = writer.write_response(url, status, headers, body)
    finally:
        writer.close()
    with store.session() as session:
        return record_capture(session, ref).id


def hostile_capture(store, config) -> int:
    body = gzip.compress(HOSTILE_HTML.encode("cp1251", errors="replace"))
    return store_capture(store, config, "https://shop.evil.kz/", 200,
                         [("Content-Type", "text/html"), ("Content-Encoding", "gzip"),
                          ("X-Evil", "<script>alert('header')</script>")], body)


def candidate_with_capture(store, capture_id: int) -> int:
    with store.session() as session:
        src = source(session, "captured_shop")
        row = post(session, src, at(days=1))
        row.text, row.capture_id = "мефедрон", capture_id
        candidate = Candidate(subject_type="source", subject_id=src.id, category="sale",
                              status="open", reasons=[])
        session.add(candidate)
        session.flush()
        return candidate.id


def test_the_candidate_page_links_each_evidence_post_to_its_capture(client_for, users, store,
                                                                    review_config):
    capture_id = hostile_capture(store, review_config)
    candidate = candidate_with_capture(store, capture_id)
    page = client_for("analyst").get(f"/candidates/{candidate}").text
    evidence = page.split('id="evidence"')[1].split("</section>")[0]
    assert f'<a class="capture-link" href="/captures/{capture_id}">' in evidence


def test_source_view_is_escaped_decoded_text(client_for, users, store, review_config):
    capture_id = hostile_capture(store, review_config)
    answer = client_for("analyst").get(f"/captures/{capture_id}")
    assert answer.status_code == 200, answer.text
    page = answer.text
    source = page.split('<pre class="capture-source">')[1].split("</pre>")[0]
    assert "&lt;script&gt;alert(&#39;captured&#39;)&lt;/script&gt;" in source
    assert "Мефедрон закладки" in source  # gzip undone, windows-1251 read as declared
    assert "hxxps://shop[.]evil[.]kz/buy" in source and "\u202e" not in page
    assert "<script>alert" not in page and "https://cdn.evil.kz" not in page
    assert "&lt;script&gt;alert(&#39;header&#39;)" in page.split('id="headers"')[1]
    assert re.search(r'<iframe class="capture-frame" sandbox src="/captures/\d+/rendered"', page)
    assert "script-src 'self'" in answer.headers["content-security-policy"]


def test_rendered_view_is_sandboxed_and_framed_only_by_the_app(client_for, users, store,
                                                               review_config):
    capture_id = hostile_capture(store, review_config)
    answer = client_for("analyst").get(f"/captures/{capture_id}/rendered")
    assert answer.status_code == 200
    assert answer.headers["content-security-policy"] == RENDERED_CSP
    assert RENDERED_CSP.startswith("sandbox; default-src 'none'; img-src 'self' data:; "
                                   "style-src 'unsafe-inline'")
    assert answer.headers["x-frame-options"] == "SAMEORIGIN"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["content-type"] == "text/html; charset=cp1251"
    assert answer.content == HOSTILE_HTML.encode("cp1251", errors="replace")  # decompressed


def test_json_capture_pretty_printed_and_not_rendered(client_for, users, store, review_config):
    writer = CaptureWriter(review_config.captures_path, fsync=False)
    try:
        ref = writer.write_json("tg://channel/1/5", {"message": "<b>hi</b>", "id": 5,
                                                     "entities": [{"url": "https://t.me/x"}]})
    finally:
        writer.close()
    with store.session() as session:
        capture_id = record_capture(session, ref).id
    analyst = client_for("analyst")
    page = analyst.get(f"/captures/{capture_id}").text
    source = html.unescape(page.split('<pre class="capture-source">')[1].split("</pre>")[0])
    assert '\n "id": 5,\n "message": "<b>hi</b>"' in source
    assert "hxxps://t[.]me/x" in source and "<iframe" not in page
    assert analyst.get(f"/captures/{capture_id}/rendered").status_code == 415


def test_image_capture_shown_through_media_only(client_for, users, store, review_config):
    capture_id = store_capture(store, review_config, "https://cdn.evil.kz/a.png", 200,
                               [("Content-Type", "image/png")], png())
    analyst = client_for("analyst")
    page = analyst.get(f"/captures/{capture_id}").text
    assert f'src="/media/{capture_id}"' in page and "capture-source" not in page
    assert analyst.get(f"/captures/{capture_id}/rendered").status_code == 415


def test_altered_or_missing_captures_are_refused_in_one_line(client_for, users, store,
                                                             review_config):
    capture_id = hostile_capture(store, review_config)
    analyst = client_for("analyst")
    assert analyst.get("/captures/999999").status_code == 404
    files = list(Path(review_config.captures_path).rglob("*.warc.gz"))
    assert len(files) == 1
    data = bytearray(files[0].read_bytes())
    data[-5] ^= 0xFF
    files[0].write_bytes(bytes(data))
    for path in (f"/captures/{capture_id}", f"/captures/{capture_id}/rendered"):
        answer = analyst.get(path, headers={"accept": "application/json"})
        assert answer.status_code == 409
        assert answer.json() == {"detail": "the capture cannot be read back intact; its file "
                                           "is missing or was altered"}
    assert analyst.get("/captures/0").status_code == 422
