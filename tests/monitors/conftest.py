"""Fixtures of the monitor tests: a simulated Telegram on an injected clock, and a monitor on the
store under test with the real processing chain and capture writer."""

import asyncio

import pytest

from crawler.config import load_config
from crawler.store.captures import CaptureWriter
from crawler.store.ingest import watch
from monitors.telegram import TelegramMonitor
from pipelines.chain import ProcessingChain
from tests.monitors.fake_telegram import Clock, FakeTelegram


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def world(clock):
    return FakeTelegram(clock)


@pytest.fixture
def make_config(tmp_path, db_url):
    def make(telegram: str = "", accounts=("main",)):
        lines = "".join(f"[telegram.accounts.{name}]\nenabled = true\n" for name in accounts)
        path = tmp_path / "kyran.toml"
        path.write_text(f'[store]\nurl = "{db_url}"\ncaptures_dir = "captures"\n'
                        "[discovery]\nmax_depth = 2\nmax_new_per_run = 50\n"
                        f"[telegram]\nflood_wait_jitter = 5\n{telegram}\n{lines}")
        return load_config(path, environ={})
    return make


@pytest.fixture
def make_monitor(store, world, clock, tmp_path, make_config):
    made = []

    def make(telegram: str = "", accounts=("main",), config=None):
        config = config or make_config(telegram, accounts)
        chain = ProcessingChain(store, config, "component:telegram-monitor")
        captures = CaptureWriter(tmp_path / "captures", fsync=False)
        boundaries = {name: world.boundaries.get(name) or world.boundary(name)
                      for name in accounts}
        monitor = TelegramMonitor(config, store, chain, captures, boundaries, clock=clock)
        made.append(captures)
        return monitor
    yield make
    for captures in made:
        captures.close()


def once(monitor) -> dict:
    return asyncio.run(monitor.run_once())


def watch_names(store, *names):
    """Put Telegram usernames on the watchlist, as `kyran watchlist add` does."""
    with store.session() as session:
        for name in names:
            watch(session, "telegram", name)
