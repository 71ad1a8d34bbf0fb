"""Real crawls of the `site` spider: a fictional classifieds site, proxies, and bad input."""

import gzip
import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from crawler.fixtures.market import FakeMarket, market_target
from crawler.fixtures.server import FixtureServer
from crawler.store.db import open_store
from crawler.store.models import Post, Source
from spiders.site import parse_date
from tests.conftest import write_config
from tests.socks5 import Socks5Server

HTML = [("Content-Type", "text/html; charset=utf-8")]


def toml_table(name: str, values: dict) -> str:
    lines = [f"\n[sites.{name}]"]
    for key, value in values.items():
        lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
    return "\n".join(lines) + "\n"


def stored_posts(db_url, target):
    store = open_store(db_url)
    with store.session() as session:
        posts = session.scalars(select(Post).join(Source).where(Source.handle == target)
                                .order_by(Post.id)).all()
    store.dispose()
    return posts


@pytest.fixture
def market_server():
    market = FakeMarket(ads=45)
    with FixtureServer(lambda method, target, headers: market.answer(target)) as server:
        yield market, server


def test_market_is_crawled_with_fields_and_robots(kyran, tmp_path, db_url, market_server):
    market, server = market_server
    target = market_target(server.url)
    config = write_config(tmp_path / "kyran.toml", db_url, toml_table("bazar", target))
    result = kyran("crawl", "site", "bazar", config=config)
    assert result.returncode == 0, result.stderr[-3000:]
    posts = stored_posts(db_url, "bazar")
    assert sorted(int(p.external_id) for p in posts) == list(range(1, 46))
    ad = market.ads[9]
    post = next(p for p in posts if p.external_id == "9")
    assert (post.title, post.price, post.author) == (ad.title, ad.price, ad.author)
    assert post.text == ad.text  # the <script> inside the body is dropped
    assert post.posted_at == ad.posted
    assert post.capture_id is not None
    paths = [target for _, target, _ in server.requests]
    assert "/robots.txt" in paths
    assert not any(path.startswith("/market/private/") for path in paths)
    again = kyran("crawl", "site", "bazar", config=config)
    assert again.returncode == 0
    assert len(stored_posts(db_url, "bazar")) == 45  # re-crawl updates, never duplicates


def test_robots_can_be_switched_off_per_target(kyran, tmp_path, db_url, market_server):
    market, server = market_server
    target = market_target(server.url) | {"obey_robots": False, "max_depth": 1,
                                          "follow": ["a"], "post_url_pattern": "/private/"}
    config = write_config(tmp_path / "kyran.toml", db_url, toml_table("bazar", target))
    result = kyran("crawl", "site", "bazar", config=config)
    # the private pages hold no `article.ad`: no posts found counts as a failed crawl
    assert result.returncode == 1 and "no posts found" in result.stderr
    paths = [target for _, target, _ in server.requests]
    assert "/robots.txt" not in paths
    assert "/market/private/admin" in paths


def test_page_limit_is_honoured(kyran, tmp_path, db_url, market_server):
    market, server = market_server
    target = market_target(server.url) | {"max_pages": 5}
    config = write_config(tmp_path / "kyran.toml", db_url, toml_table("bazar", target))
    assert kyran("crawl", "site", "bazar", config=config).returncode == 0
    pages = [t for _, t, _ in server.requests if t != "/robots.txt"]
    assert len(pages) == 5


def test_onion_market_through_an_http_proxy(kyran, tmp_path, db_url, market_server):
    """Privoxy style: the proxy receives absolute URIs for an .onion host it alone can reach."""
    market, server = market_server
    onion = "http://bazarxyzbazarxyzbazarxyzbazarxyzbazarxyzbazarxyzbazarxyz.onion"
    target = market_target(onion) | {"proxy": server.url, "max_pages": 8}
    config = write_config(tmp_path / "kyran.toml", db_url, toml_table("hidden", target))
    result = kyran("crawl", "site", "hidden", config=config)
    assert result.returncode == 0, result.stderr[-3000:]
    targets = [t for _, t, _ in server.requests]
    assert f"{onion}/robots.txt" in targets  # robots.txt goes through the proxy too
    assert all(t.startswith(onion) for t in targets)
    posts = stored_posts(db_url, "hidden")
    assert posts and all(p.url.startswith(onion) for p in posts)


def test_onion_market_through_tor_socks(kyran, tmp_path, db_url, market_server):
    market, server = market_server
    socks = Socks5Server(lambda host, port: ("127.0.0.1", server.port)
                         if host.endswith(".onion") else None)
    import threading
    threading.Thread(target=socks.serve_forever, daemon=True).start()
    try:
        onion = "http://marketmarketmarketmarketmarketmarketmarketmarketmark.onion"
        proxy = f"socks5h://127.0.0.1:{socks.server_address[1]}"
        target = market_target(onion) | {"proxy": proxy, "max_pages": 8}
        config = write_config(tmp_path / "kyran.toml", db_url, toml_table("tor", target))
        result = kyran("crawl", "site", "tor", config=config)
        assert result.returncode == 0, result.stderr[-3000:]
        assert {seen["host"] for seen in socks.seen} == {onion.removeprefix("http://")}
        assert stored_posts(db_url, "tor")
    finally:
        socks.shutdown()
        socks.server_close()


BAD_PAGES = {
    "/list": (200, HTML, (
        b'<html><body><a class=p href="/p/cp1251">1</a><a class=p href="/p/wrong">2</a>'
        b'<a class=p href="/p/huge">3</a><a class=p href="/p/bomb">4</a>'
        b'<a class=p href="/p/loop">5</a><a class=p href="/p/flaky">6</a>'
        b'<a class=p href="/p/missing">7</a><a class=p href="/p/broken">8</a>'
        b'<a class=p href="/p/binary">9</a><a class=p href="/p/chain/0">10</a></body></html>')),
    "/p/cp1251": (200, [("Content-Type", "text/html; charset=windows-1251")],
                  "<html><body><div class=t>Закладки в Алматы, оператор @shop_bot</div>"
                  "</body></html>".encode("cp1251")),
    "/p/wrong": (200, [("Content-Type", "text/html; charset=utf-8")],
                 "<html><body><div class=t>Мефедрон в наличии</div></body></html>"
                 .encode("cp1251")),
    "/p/huge": (200, HTML, b"<html><body><div class=t>" + b"a" * 3_000_000 + b"</div></body>"),
    "/p/bomb": (200, HTML + [("Content-Encoding", "gzip")],
                gzip.compress(b"<html><body><div class=t>" + b" " * 50_000_000)),
    "/p/loop": (302, [("Location", "/p/loop2")], b""),
    "/p/loop2": (302, [("Location", "/p/loop")], b""),
    "/p/chain/0": (302, [("Location", "/p/chain/1")], b""),
    "/p/missing": (404, HTML, b"<html><body>gone</body></html>"),
    "/p/broken": (200, HTML, b"<html><body><div class=t>\xd0\x9a\xd1\x83\xd1\x80\xd1\x8c\xd0"
                             b"\xb5\xd1\x80 <b>\xd0\xbd\xd1\x83\xd0\xb6\xd0\xb5\xd0\xbd<div"),
    "/p/binary": (200, [("Content-Type", "image/png")], b"\x89PNG\r\n\x1a\n" + b"\0" * 100),
}


def test_bad_pages_are_recorded_or_refused_and_the_crawl_goes_on(kyran, tmp_path, db_url):
    flaky = [(503, HTML, b"busy"), (200, HTML, "<div class=t>Курьер нужен</div>".encode())]

    def handler(method, target, headers):
        if target.startswith("/p/chain/"):  # an endless chain of new redirect targets
            step = int(target.rsplit("/", 1)[1])
            return 302, [("Location", f"/p/chain/{step + 1}")], b""
        if target == "/p/flaky":
            return flaky.pop(0) if len(flaky) > 1 else flaky[0]
        return BAD_PAGES.get(target, (404, HTML, b""))

    with FixtureServer(handler) as server:
        target = {"start_urls": [f"{server.url}/list"], "follow": ["a.p"],
                  "post_url_pattern": "/p/", "text": "div.t", "obey_robots": False}
        extra = toml_table("bad", target).replace("[sites.bad]", "[sites.bad]")
        config = write_config(tmp_path / "kyran.toml", db_url, extra)
        config.write_text(config.read_text().replace("[crawl]\n", "[crawl]\ndownload_maxsize = 2000000\n"))
        result = kyran("crawl", "site", "bad", config=config)
        # the refused pages (404, too big, a bomb, a redirect loop) make the crawl partial
        assert result.returncode == 1, result.stderr[-3000:]
        assert "4 pages could not be fetched" in result.stderr.splitlines()[-1]
        hits = [t for _, t, _ in server.requests]
    texts = {p.url.rsplit("/", 1)[1]: p.text for p in stored_posts(db_url, "bad")}
    assert texts["cp1251"] == "Закладки в Алматы, оператор @shop_bot"
    assert texts["wrong"] == "Мефедрон в наличии"  # the header lied; the bytes were cp1251
    assert texts["flaky"] == "Курьер нужен"  # a 503 was retried
    assert texts["broken"] == "Курьер нужен"  # truncated HTML still gives its text
    assert hits.count("/p/flaky") == 2
    assert not {"huge", "bomb", "loop", "loop2", "missing", "binary"} & set(texts)
    log = result.stderr
    failed = [line for line in log.splitlines() if "site bad: " in line and " failed: " in line]
    assert any("/p/huge failed" in line and "download max size (2000000)" in line
               for line in failed), log[-3000:]
    assert any("/p/bomb failed" in line and "DOWNLOAD_MAXSIZE" in line for line in failed), failed
    assert any(line.endswith("/p/missing failed: HTTP 404") for line in failed), failed
    assert 10 <= sum(t.startswith("/p/chain/") for t in hits) <= 11  # REDIRECT_MAX_TIMES
    assert hits.count("/p/loop") == hits.count("/p/loop2") == 1  # the redirect loop was cut off


@pytest.mark.parametrize("text, moment", [
    ("9999-12-31T23:00-05:00", None), ("0001-01-01T00:30+05:00", None),
    ("2026-11-01T12:00+03:00", datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc)),
    ("01.11.2026 09:30", datetime(2026, 11, 1, 9, 30, tzinfo=timezone.utc)),
    ("31/12/9999", datetime(9999, 12, 31, tzinfo=timezone.utc)), ("not a date", None),
])
def test_site_dates_are_utc_or_unknown_never_an_error(text, moment):
    assert parse_date(text) == moment


def test_an_ad_whose_date_overflows_in_utc_is_kept_with_an_unknown_date(kyran, tmp_path,
                                                                         db_url):
    market = FakeMarket(ads=12)
    market.ads[3].posted = datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5)))
    market.ads[4].posted = datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=5)))
    with FixtureServer(lambda method, target, headers: market.answer(target)) as server:
        config = write_config(tmp_path / "kyran.toml", db_url,
                              toml_table("bazar", market_target(server.url)))
        result = kyran("crawl", "site", "bazar", config=config)
        assert result.returncode == 0, result.stderr[-3000:]
    posts = {p.external_id: p for p in stored_posts(db_url, "bazar")}
    assert sorted(map(int, posts)) == list(range(1, 13))
    assert posts["3"].posted_at is None and posts["4"].posted_at is None
    assert posts["5"].posted_at == market.ads[5].posted
