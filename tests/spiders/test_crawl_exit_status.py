"""A crawl that failed, or stored less than it read, exits non-zero with one summary line and
one line per cause, never a traceback per item (real crawls against the local fake t.me and a
fake marketplace, on both databases)."""

import os
import shutil
import signal
import subprocess
import time
from contextlib import contextmanager
from datetime import datetime, timezone

from sqlalchemy import text

from crawler.fixtures.market import FakeMarket, market_target
from crawler.fixtures.server import FixtureServer
from crawler.store.db import open_store
from pipelines.scoring import BUNDLED_LEXICONS
from tests.conftest import wait_until, write_config
from tests.spiders.crawl_helpers import (
    GATED,
    chain_process,
    crawl_config,
    gated_server,
    gated_world,
    one_line_failure,
    shop_posts,
    shop_world,
    start_crawl,
    stored,
)
from tests.spiders.test_site_crawl import toml_table
from tests.spiders.test_telegram_crawl import serve


def finish(process, timeout=120):
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def crawl_broken_midway(tmp_path, db_url, break_it) -> tuple[int, str, str]:
    """Crawl the gated world; once its first channel is stored, `break_it(crawl)`; then let the
    rest through and wait for the crawl's end: (exit status, stdout, stderr)."""
    server, gate = gated_server(gated_world())
    with server:
        config = crawl_config(tmp_path / "kyran.toml", db_url, server.url)
        crawl = start_crawl(config, "telegram", *GATED)
        try:
            wait_until(lambda: stored(db_url)[0] >= 45, 90, "the first channel to be stored")
            break_it(crawl)
        finally:
            gate.set()
        return finish(crawl)


def test_a_good_crawl_exits_0_with_one_summary_line(kyran, tmp_path, db_url):
    with serve(shop_world()) as server:
        config = crawl_config(tmp_path / "kyran.toml", db_url, server.url)
        result = kyran("crawl", "telegram", "shop_0000", config=config)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines() == [
        "crawl telegram ok: 45 posts stored of 45 seen, 3 pages"]
    assert result.stderr == ""  # quiet when all went well (stdout is not a terminal)


def test_store_failing_mid_crawl_fails_the_crawl_in_one_line(tmp_path, db_url):
    """A table dropped while the crawl runs used to give thousands of tracebacks and exit 0."""
    def drop_a_table(crawl) -> None:
        store = open_store(db_url, migrate=False)
        with store.session() as session:
            session.execute(text("DROP TABLE verdict"))
        store.dispose()

    code, out, err = crawl_broken_midway(tmp_path, db_url, drop_a_table)
    assert code == 1, err[-3000:]
    one_line_failure(err)
    assert "the store failed" in err and "verdict" in err
    summary = err.strip().splitlines()[-1]
    assert summary.startswith("crawl telegram failed:") and "posts stored of" in summary
    assert err.count("the store failed") <= 3  # the cause, the stop, the summary


def test_a_killed_chain_process_fails_the_crawl(tmp_path, db_url):
    code, out, err = crawl_broken_midway(
        tmp_path, db_url, lambda crawl: os.kill(chain_process(crawl.pid), signal.SIGKILL))
    assert code == 1, err[-3000:]
    one_line_failure(err)
    assert "the chain process stopped" in err
    assert err.strip().splitlines()[-1].startswith("crawl telegram failed:")


@contextmanager
def read_only(db_url: str):
    """The store's URL, read-only: a SQLite file that cannot be written (immutable: the tests
    run as root, whom file modes do not stop), or PostgreSQL in read-only transactions."""
    if not db_url.startswith("sqlite"):
        yield db_url + "%20-cdefault_transaction_read_only%3Don"
        return
    path = db_url.removeprefix("sqlite:///")
    subprocess.run(["chattr", "+i", path], check=True)
    try:
        yield db_url
    finally:
        subprocess.run(["chattr", "-i", path], check=True)


def test_a_read_only_store_fails_before_fetching(tmp_path, db_url):
    open_store(db_url).dispose()  # an existing store, then opened read-only
    with serve(shop_world()) as server, read_only(db_url) as url:
        config = crawl_config(tmp_path / "kyran.toml", url, server.url)
        code, out, err = finish(start_crawl(config, "telegram", "shop_0000"))
        assert server.requests == []
    assert code == 1
    one_line_failure(err)
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("kyran: crawl not started: the store cannot be written")
    assert "read" in err.lower()


def test_unwritable_captures_fail_before_fetching(tmp_path, db_url):
    (tmp_path / "a-file").write_text("not a folder")
    with serve(shop_world()) as server:
        config = crawl_config(tmp_path / "kyran.toml", db_url, server.url)
        config.write_text(config.read_text().replace('captures_dir = "captures"',
                                                     'captures_dir = "a-file/captures"'))
        code, out, err = finish(start_crawl(config, "telegram", "shop_0000"))
        assert server.requests == []
    assert code == 1
    one_line_failure(err)
    assert err.startswith("kyran: crawl not started: captures cannot be written")
    assert stored(db_url)[0] == 0


def lexicon_copy(tmp_path):
    folder = tmp_path / "lexicons"
    shutil.copytree(BUNDLED_LEXICONS, folder)
    return folder


def test_a_broken_lexicon_before_the_first_crawl_fails_before_fetching(tmp_path, db_url):
    folder = lexicon_copy(tmp_path)
    with open(folder / "substance.toml", "a", encoding="utf-8") as handle:
        handle.write("\n[[entry]\nterms = [\n")
    with serve(shop_world()) as server:
        config = crawl_config(tmp_path / "kyran.toml", db_url, server.url,
                              extra=f'\n[detection]\nlexicon_dir = "{folder}"\n')
        code, out, err = finish(start_crawl(config, "telegram", "shop_0000"))
        assert server.requests == []
    assert code == 1
    one_line_failure(err)
    assert err.startswith("kyran: crawl not started: lexicons") and "substance.toml" in err


def test_a_deleted_lexicon_file_is_loud_and_scoring_keeps_its_concepts(tmp_path, db_url):
    """The same ads were flagged before and not after a lexicon file was deleted. Now the crawl
    scores with the last good copy (so nothing is missed), says so, and exits 1 so cron or the
    daemon reports it; the good copy keeps the file."""
    folder = lexicon_copy(tmp_path)
    world = shop_world()
    with serve(world) as server:
        config = crawl_config(tmp_path / "kyran.toml", db_url, server.url,
                              extra=f'\n[detection]\nlexicon_dir = "{folder}"\n')
        first = finish(start_crawl(config, "telegram", "shop_0000"))
        assert first[0] == 0, first[2][-3000:]
        assert stored(db_url) == (45, 45)
        (folder / "substance.toml").unlink()
        world.add_posts("shop_0000", shop_posts(46, 10, datetime(2026, 11, 1, tzinfo=timezone.utc)))
        code, out, err = finish(start_crawl(config, "telegram", "shop_0000"))
    assert code == 1, err[-3000:]
    one_line_failure(err)
    assert "concepts no lexicon file defines: substance" in err
    assert "scored with the last good lexicons" in err.strip().splitlines()[-1]
    assert stored(db_url) == (55, 55)  # the new ads are flagged as the old ones were
    assert (tmp_path / "lexicons.last-good" / "substance.toml").is_file()


def test_a_deleted_lexicon_file_without_a_good_copy_fails_before_fetching(tmp_path, db_url):
    folder = lexicon_copy(tmp_path)
    (folder / "shop.toml").unlink()
    with serve(shop_world()) as server:
        config = crawl_config(tmp_path / "kyran.toml", db_url, server.url,
                              extra=f'\n[detection]\nlexicon_dir = "{folder}"\n')
        code, out, err = finish(start_crawl(config, "telegram", "shop_0000"))
        assert server.requests == []
    assert code == 1 and "concepts no lexicon file defines" in err
    assert not (tmp_path / "lexicons.last-good").exists()


def site_config(tmp_path, db_url, target):
    return write_config(tmp_path / "kyran.toml", db_url, toml_table("bazar", target))


def test_an_unresolvable_site_fails_fast(kyran, tmp_path, db_url):
    target = {"start_urls": ["http://kyran-nowhere.invalid/market/"], "item": "article.ad"}
    started = time.monotonic()
    result = kyran("crawl", "site", "bazar", config=site_config(tmp_path, db_url, target))
    assert time.monotonic() - started < 30
    assert result.returncode == 1
    one_line_failure(result.stderr)
    summary = result.stderr.strip().splitlines()[-1]
    assert summary.startswith("crawl site bazar failed:") and "could not be fetched" in summary


def test_a_site_whose_selectors_match_nothing_fails(kyran, tmp_path, db_url):
    market = FakeMarket(ads=10)
    with FixtureServer(lambda method, target, headers: market.answer(target)) as server:
        target = market_target(server.url) | {"item": "article.no-such-class"}
        result = kyran("crawl", "site", "bazar", config=site_config(tmp_path, db_url, target))
    assert result.returncode == 1, result.stderr[-3000:]
    summary = result.stderr.strip().splitlines()[-1]
    assert "no posts found on" in summary and "selectors" in summary


def test_an_invalid_xpath_is_refused_before_crawling(kyran, tmp_path, db_url):
    target = {"start_urls": ["http://127.0.0.1:9/"], "text": "xpath://div[@class='body'"}
    result = kyran("crawl", "site", "bazar", config=site_config(tmp_path, db_url, target))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "sites.bazar.text" in result.stderr and "not a valid XPath" in result.stderr


def test_captures_failing_mid_crawl_stop_the_crawl(tmp_path, db_url):
    """A WARC write failure (disk full) left 60 of 200 posts stored and exit 0. Now the crawl
    stops at the first capture it cannot write, says so once, and stores no post without its
    capture. (The files are made immutable: the tests run as root.)"""
    server, gate = gated_server(gated_world(big=3, pages=3))
    captures = tmp_path / "captures"
    with server:
        config = crawl_config(tmp_path / "kyran.toml", db_url, server.url)
        crawl = start_crawl(config, "telegram", *GATED)
        frozen = []
        try:
            wait_until(lambda: stored(db_url)[0] >= 45, 90, "the first channel to be stored")
            frozen = [str(path) for path in captures.rglob("*")] + [str(captures)]
            subprocess.run(["chattr", "+i", *frozen], check=True)
        finally:
            gate.set()
            try:
                code, out, err = finish(crawl)
            finally:
                if frozen:
                    subprocess.run(["chattr", "-i", *frozen], check=True)
    assert code == 1, err[-3000:]
    one_line_failure(err)
    assert err.count("captures cannot be written") >= 2  # the cause, and the summary
    summary = err.strip().splitlines()[-1]
    assert "captures cannot be written" in summary and "45 posts stored of 45 seen" in summary
    assert stored(db_url)[0] == 45
