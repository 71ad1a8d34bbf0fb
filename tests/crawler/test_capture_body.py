"""`kyran capture` shows what the server meant: bodies stored with any content coding Scrapy
accepts (gzip, deflate, br, zstd) are decoded, never past 20 MB, and captures are read from a
store and captures folder that cannot be written."""

import gzip
import json
import zlib

import brotli
import pytest
from backports import zstd

from crawler.content_coding import MAX_SHOWN, decode_body
from crawler.fixtures.server import FixtureServer
from tests.conftest import write_config
from tests.crawler.test_read_only_store import run_on_read_only_folder
from tests.spiders.test_site_crawl import HTML, toml_table

CODERS = {"gzip": gzip.compress, "deflate": zlib.compress,
          "br": lambda data: brotli.compress(data, quality=1),
          "zstd": zstd.compress, "gzip, br": lambda data: brotli.compress(gzip.compress(data))}


def page(coding: str) -> bytes:
    return (f"<html><body><div class=t>Мефедрон в наличии, coded {coding} 💎</div>"
            "</body></html>").encode()


@pytest.fixture
def crawled(kyran, tmp_path, db_url):
    """A real crawl of pages served with each content coding: {coding: post id}."""
    paths = {f"/p/{i}": coding for i, coding in enumerate(CODERS)}

    def handler(method, target, headers):
        coding = paths.get(target)
        if coding is None:
            return 404, HTML, b""
        return 200, HTML + [("Content-Encoding", coding)], CODERS[coding](page(coding))

    with FixtureServer(handler) as server:
        target = {"start_urls": [server.url + path for path in paths], "text": "div.t",
                  "obey_robots": False}
        config = write_config(tmp_path / "kyran.toml", db_url, toml_table("coded", target))
        result = kyran("crawl", "site", "coded", config=config)
        assert result.returncode == 0, result.stderr[-3000:]
        sent = {headers.get("accept-encoding", "") for _, _, headers in server.requests}
    assert all("br" in accepted and "zstd" in accepted for accepted in sent)  # Scrapy asks
    posts = [json.loads(line) for line in kyran("posts", "--json", config=config).stdout
             .splitlines()]
    ids = {paths["/" + post["url"].split("/", 3)[3]]: post["id"] for post in posts}
    assert sorted(ids) == sorted(CODERS)
    return config, ids


def test_capture_body_is_decoded_whatever_the_coding(kyran, crawled):
    config, ids = crawled
    for coding, post_id in ids.items():
        body = kyran("capture", str(post_id), "--body", config=config)
        assert body.returncode == 0, body.stderr
        assert body.stdout == page(coding).decode(), coding
        shown = kyran("capture", str(post_id), config=config)
        assert f"coded {coding} 💎" in shown.stdout, coding


def test_capture_reads_a_store_and_captures_that_cannot_be_written(crawled):
    config, ids = crawled
    for coding, post_id in ids.items():
        result = run_on_read_only_folder(config.parent, "capture", str(post_id))
        assert result.returncode == 0, result.stderr
        assert "(verified)" in result.stdout and f"coded {coding}" in result.stdout


@pytest.mark.parametrize("coding", CODERS)
def test_a_decoded_body_stops_at_20_mb(coding):
    bomb = CODERS[coding](b"<html>" + b" " * (MAX_SHOWN + 5_000_000))
    assert len(bomb) < 1_000_000
    body = decode_body(bomb, coding)
    assert body.startswith(b"<html>   ")
    assert body.endswith(f"[… cut at {MAX_SHOWN} bytes decompressed]".encode())
    assert len(body) < MAX_SHOWN + 100


@pytest.mark.parametrize("coding", CODERS)
def test_a_broken_or_unknown_coding_shows_the_stored_bytes(coding):
    assert decode_body(b"not compressed at all", coding) == b"not compressed at all"
    assert decode_body(b"x", "compress") == b"x"
