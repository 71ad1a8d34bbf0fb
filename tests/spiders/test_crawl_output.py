"""What a crawl prints: on a terminal one line per channel or target as it finishes; under cron
(stdout not a terminal) only the summary and errors; Scrapy's start-up report only at DEBUG."""

import os
import pty
import subprocess
import sys

from crawler.fixtures.market import FakeMarket, market_target
from crawler.fixtures.server import FixtureServer
from tests.conftest import REPO, write_config
from tests.spiders.crawl_helpers import crawl_config, shop_world
from tests.spiders.test_site_crawl import toml_table
from tests.spiders.test_telegram_crawl import make_world, serve

NOISE = ["Enabled downloader middlewares", "Overridden settings", "Telnet", "Versions:",
         "Dumping Scrapy stats", "Spider opened", "Crawled 0 pages"]


def on_a_terminal(config, *args: str) -> tuple[int, str, str]:
    """Run `kyran crawl ...` with stdout on a pseudo-terminal; (exit status, stdout, stderr)."""
    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "crawler", "--config", str(config),
                                "crawl", *args], cwd=REPO, stdout=follower,
                               stderr=subprocess.PIPE)
    os.close(follower)
    out = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        out += chunk
    err = process.stderr.read().decode()
    process.wait(timeout=120)
    os.close(leader)
    return process.returncode, out.decode().replace("\r\n", "\n"), err


def test_a_terminal_shows_one_line_per_channel(tmp_path, db_url):
    world = make_world(posts=45)
    with serve(world) as server:
        config = crawl_config(tmp_path / "kyran.toml", db_url, server.url)
        code, out, err = on_a_terminal(config, "telegram", "shop_alpha", "hidden_one",
                                       "closed_one")
    assert code == 0, err[-3000:]
    lines = {line.split()[0]: line.split() for line in out.strip().splitlines()}
    assert lines["shop_alpha"][1:] == ["3", "pages", "45", "posts", "complete"]
    assert lines["hidden_one"][1:] == ["1", "pages", "0", "posts", "no", "preview"]
    assert lines["closed_one"][1:] == ["1", "pages", "0", "posts", "no", "posts"]
    assert out.strip().splitlines()[-1] == "crawl telegram ok: 45 posts stored of 45 seen, 5 pages"
    assert err == ""


def test_a_terminal_shows_a_failed_channel_as_failed(tmp_path, db_url):
    world = shop_world()
    answers = [(500, [], b"down")] * 5
    with serve(world, faults={"/s/shop_0000": answers}) as server:
        config = crawl_config(tmp_path / "kyran.toml", db_url, server.url)
        code, out, err = on_a_terminal(config, "telegram", "shop_0000")
    assert code == 1
    assert out.splitlines()[0].split()[:2] == ["shop_0000", "1"]
    assert "failed: HTTP 500" in out.splitlines()[0]
    assert "1 pages could not be fetched" in err.strip().splitlines()[-1]


def test_a_terminal_shows_the_site_target(tmp_path, db_url):
    market = FakeMarket(ads=12)
    with FixtureServer(lambda method, target, headers: market.answer(target)) as server:
        config = write_config(tmp_path / "kyran.toml", db_url,
                              toml_table("bazar", market_target(server.url)))
        config.write_text(config.read_text().replace('log_level = "INFO"\n', ""))
        code, out, err = on_a_terminal(config, "site", "bazar")
    assert code == 0, err[-3000:]
    first = out.strip().splitlines()[0].split()
    assert first[0] == "bazar" and first[3:5] == ["12", "posts"] and first[-1] == "done"


def test_under_cron_only_the_summary_and_no_scrapy_noise(kyran, tmp_path, db_url):
    with serve(make_world()) as server:
        config = crawl_config(tmp_path / "kyran.toml", db_url, server.url)
        result = kyran("crawl", "telegram", "shop_alpha", "hidden_one", config=config)
    assert result.returncode == 0
    assert result.stdout == "crawl telegram ok: 45 posts stored of 45 seen, 4 pages\n"
    assert result.stderr == ""


def test_scrapy_start_up_noise_is_gone_even_at_info(kyran, tmp_path, db_url):
    with serve(make_world()) as server:
        config = crawl_config(tmp_path / "kyran.toml", db_url, server.url)
        config.write_text(config.read_text().replace("[crawl]\n", '[crawl]\nlog_level = "INFO"\n'))
        result = kyran("crawl", "telegram", "shop_alpha", config=config)
    assert result.returncode == 0
    for noise in NOISE:
        assert noise not in result.stderr, noise


def test_the_start_up_report_is_still_there_at_debug(kyran, tmp_path, db_url):
    with serve(make_world()) as server:
        config = crawl_config(tmp_path / "kyran.toml", db_url, server.url)
        config.write_text(config.read_text().replace("[crawl]\n", '[crawl]\nlog_level = "DEBUG"\n'))
        result = kyran("crawl", "telegram", "shop_alpha", config=config)
    assert result.returncode == 0
    assert "Enabled downloader middlewares" in result.stderr
    assert "Overridden settings" in result.stderr
