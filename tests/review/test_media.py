"""Media safety: a post's image is shown only from our own capture (never its remote URL),
blurred and greyscale until clicked for users with `blur_media` on, and served with a sandbox
CSP and nosniff, only when the capture's recorded content type is a raster image."""

from __future__ import annotations

import re
import struct
import zlib

from sqlalchemy import update

from crawler.store.captures import CaptureWriter
from crawler.store.ingest import record_capture
from crawler.store.models import User
from review.routes.entities import entity_href
from tests.review.test_stats_support import at, entity, post, source

IMAGE_URL = "https://cdn.evil.kz/file/photo.png"


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


def capture(store, config, url: str, kind: str, body: bytes) -> int:
    writer = CaptureWriter(config.captures_path, fsync=False)
    try:
        ref = writer.write_response(url, 200, [("Content-Type", kind)], body)
    finally:
        writer.close()
    with store.session() as session:
        return record_capture(session, ref).id


def post_with_image(store, config) -> tuple[str, int]:
    capture_id = capture(store, config, IMAGE_URL, "image/png", png())
    with store.session() as session:
        wallet = entity(session, "wallet", "TXYZwallet0001")
        row = post(session, source(session, "photo_shop"), at(days=1), entities=[wallet])
        row.media_kind, row.media_url = "photo", IMAGE_URL
    return entity_href("wallet", "TXYZwallet0001"), capture_id


def test_image_from_our_capture_blurred_until_clicked(client_for, users, store, review_config):
    href, capture_id = post_with_image(store, review_config)
    analyst = client_for("analyst")
    page = analyst.get(href).text
    shown = re.search(r'<details class="media-reveal"( open)?>\s*<summary><img '
                      r'class="capture-image" src="([^"]+)"', page)
    assert shown and shown.group(1) is None  # blurred: closed until the analyst clicks
    assert shown.group(2) == f"/media/{capture_id}"
    assert "cdn.evil.kz/file" not in page and "style=" not in page and "<script" not in page
    with store.session() as session:
        session.execute(update(User).where(User.id == users["analyst"].id)
                        .values(blur_media=False))
    unblurred = re.search(r'<details class="media-reveal"( open)?>', analyst.get(href).text)
    assert unblurred and unblurred.group(1) == " open"


def test_blur_rules_in_the_stylesheet(client_for, users):
    css = client_for(None).get("/static/pages.css").text
    assert re.search(r"details\.media-reveal:not\(\[open\]\) img\.capture-image \{ "
                     r"filter: blur\(\d+px\) grayscale\(1\); \}", css)


def test_served_bytes_with_sandbox_and_nosniff(client_for, users, store, review_config):
    _href, capture_id = post_with_image(store, review_config)
    answer = client_for("analyst").get(f"/media/{capture_id}")
    assert answer.status_code == 200 and answer.content == png()
    assert answer.headers["content-type"] == "image/png"
    assert answer.headers["content-security-policy"].startswith("sandbox")
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_only_raster_images_are_served(client_for, users, store, review_config):
    analyst = client_for("analyst")
    for kind, body in (("text/html", b"<script>alert(1)</script>"),
                       ("image/svg+xml", b"<svg onload='alert(1)'/>"),
                       ("application/octet-stream", png())):
        capture_id = capture(store, review_config, "https://evil.kz/x", kind, body)
        answer = analyst.get(f"/media/{capture_id}", headers={"accept": "application/json"})
        assert answer.status_code == 415, kind
        assert answer.json() == {"detail": "this capture is not an image"}
        assert b"alert" not in answer.content


def test_missing_altered_and_anonymous(client_for, users, store, review_config):
    _href, capture_id = post_with_image(store, review_config)
    analyst = client_for("analyst")
    json = {"accept": "application/json"}
    assert analyst.get("/media/424242", headers=json).status_code == 404
    assert analyst.get("/media/0", headers=json).status_code == 422
    assert client_for(None).get(f"/media/{capture_id}", headers=json).status_code == 401
    [warc] = list(review_config.captures_path.rglob("*.warc.gz"))
    data = bytearray(warc.read_bytes())
    data[-5] ^= 0xFF
    warc.write_bytes(bytes(data))
    altered = analyst.get(f"/media/{capture_id}", headers=json)
    assert altered.status_code == 409 and "\n" not in altered.json()["detail"]
