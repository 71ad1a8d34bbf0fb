"""A PostgreSQL that stops answering mid-crawl (black-holed: no error, only silence) or whose
connection is reset must not hang the crawl: it fails within `store.write_timeout`, with a
non-zero exit and one line saying why. The network is broken by a loopback TCP proxy between
the crawl and PostgreSQL; the server itself is never touched."""

import time

import pytest

from crawler.fixtures.tcp_proxy import TcpProxy
from tests.conftest import postgres_schema, wait_until
from tests.spiders.crawl_helpers import (
    GATED,
    crawl_config,
    gated_server,
    gated_world,
    one_line_failure,
    start_crawl,
    stored,
)

WRITE_TIMEOUT = 5
LIMITS = (f"write_timeout = {WRITE_TIMEOUT}\nconnect_timeout = 3\nstatement_timeout = 10\n"
          "idle_timeout = 5\nnetwork_timeout = 10\n")


@pytest.fixture
def schema():
    """A PostgreSQL schema of its own (the `db_url` fixture would also run this on SQLite,
    which has no network to break)."""
    with postgres_schema() as name:
        yield name


def url(host: str, port: int, schema: str) -> str:
    return f"postgresql+psycopg://{host}:{port}/test?options=-csearch_path%3D{schema}"


@pytest.mark.parametrize("fault", ["blackhole", "cut"])
def test_a_store_that_stops_answering_fails_the_crawl_within_the_bound(tmp_path, schema, fault):
    direct = url("127.0.0.1", 5432, schema)
    server, gate = gated_server(gated_world(big=3, pages=10))
    with TcpProxy(("127.0.0.1", 5432)) as proxy, server:
        config = crawl_config(tmp_path / "kyran.toml", url(*proxy.address, schema), server.url,
                              store=LIMITS)
        crawl = start_crawl(config, "telegram", *GATED)
        try:
            wait_until(lambda: stored(direct)[0] >= 45, 90, "the first channel to be stored")
            getattr(proxy, fault)()
            broken = time.monotonic()
        finally:
            gate.set()
        try:
            out, err = crawl.communicate(timeout=WRITE_TIMEOUT + 60)
        except Exception:
            crawl.kill()
            raise
        elapsed = time.monotonic() - broken
    assert crawl.returncode == 1, err[-3000:]
    assert elapsed < WRITE_TIMEOUT + 30, elapsed
    one_line_failure(err)
    summary = err.strip().splitlines()[-1]
    assert summary.startswith("crawl telegram failed:") and "posts stored of" in summary
    if fault == "blackhole":
        assert "took no batch" in summary and "is the database answering" in summary
    else:
        assert "the store failed" in summary
    assert stored(direct)[0] >= 45  # what was stored before stays stored


@pytest.mark.parametrize("fault", ["blackhole", "cut"])
def test_a_store_unreachable_at_the_start_fails_before_fetching(tmp_path, schema, fault):
    server, gate = gated_server(gated_world(big=0))
    gate.set()
    with TcpProxy(("127.0.0.1", 5432)) as proxy, server:
        getattr(proxy, fault)()
        config = crawl_config(tmp_path / "kyran.toml", url(*proxy.address, schema), server.url,
                              store=LIMITS)
        started = time.monotonic()
        crawl = start_crawl(config, "telegram", "shop_0000")
        try:
            out, err = crawl.communicate(timeout=60)
        except Exception:
            crawl.kill()
            raise
        assert server.requests == []
    assert crawl.returncode == 1, err[-3000:]
    assert time.monotonic() - started < 3 + 20  # connect_timeout, and the start-up
    one_line_failure(err)
    assert err.startswith("kyran: crawl not started: the store cannot be written")
