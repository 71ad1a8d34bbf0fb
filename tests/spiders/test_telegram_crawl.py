"""Real crawls of the `telegram_preview` spider against a local fake t.me, into the store."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from crawler.fixtures.server import FixtureServer
from crawler.fixtures.tme_pages import FakeChannel, FakePost
from crawler.fixtures.tme_world import FakeTelegram
from crawler.store.db import open_store
from crawler.store.models import Capture, Event, Post, Source, Verdict
from tests.conftest import REPO, wait_until, write_config


class Gate:
    """Lets the first `requests` requests through, then holds every later one until `open()`
    (or for at most `hold` seconds), so a test can act while a crawl is surely mid-way."""

    def __init__(self, requests: int, hold: float = 120.0) -> None:
        self.requests, self.hold, self.served = requests, hold, 0
        self.reached = threading.Event()  # `requests` requests have come in
        self._lock, self._open = threading.Lock(), threading.Event()

    def pass_through(self) -> None:
        with self._lock:
            self.served += 1
            if self.served >= self.requests:
                self.reached.set()
            held = self.served > self.requests
        if held:
            self._open.wait(self.hold)

    def open(self) -> None:
        self._open.set()


def serve(world: FakeTelegram, faults: dict | None = None, delay: float = 0.0,
          gate: Gate | None = None):
    """A local t.me: the fake world, plus per-path faults (a list of answers used in turn), a
    delay before each answer, or a gate that holds requests after the first few."""
    faults = faults or {}

    def handler(method, target, headers):
        if gate is not None:
            gate.pass_through()
        if delay:
            time.sleep(delay)
        if target in faults and faults[target]:
            return faults[target].pop(0)
        status, answer_headers, body = world.handle(target)
        return status, list(answer_headers.items()), body

    return FixtureServer(handler)


def make_world(posts=45) -> FakeTelegram:
    world = FakeTelegram()
    start = datetime(2026, 10, 1, tzinfo=timezone.utc)
    world.add_channel(
        FakeChannel("shop_alpha", 1500000001, "Альфа шоп", "Бот: @alpha_shop_bot\nПрайс внутри",
                    subscribers=12400),
        [FakePost(i, start + timedelta(hours=i), f"Пост {i}\nвторая строка 😀", views=100 + i)
         for i in range(1, posts + 1)])
    world.add_channel(FakeChannel("hidden_one", 1500000002, "Hidden", preview="none"))
    world.add_channel(FakeChannel("closed_one", 1500000003, "Closed", preview="empty"))
    return world


@pytest.fixture
def crawl_config(tmp_path, db_url):
    def make(server, extra=""):
        return write_config(tmp_path / "kyran.toml", db_url,
                            f'\n[telegram_preview]\nbase_url = "{server.url}"\n' + extra)
    return make


def counts(db_url):
    store = open_store(db_url)
    with store.session() as session:
        rows = session.execute(select(Source.handle, func.count(Post.id))
                               .outerjoin(Post).group_by(Source.handle)).all()
    store.dispose()
    return dict(rows)


def test_crawl_stores_posts_channel_and_captures(kyran, crawl_config, db_url, tmp_path):
    with serve(make_world()) as server:
        config = crawl_config(server)
        result = kyran("crawl", "telegram", "shop_alpha", "hidden_one", "closed_one",
                       "--stats", config=config)
        assert result.returncode == 0, result.stderr[-3000:]
        assert "kyran/worker/cpu_s" in result.stdout  # stored and scored in the child process
    store = open_store(db_url)
    with store.session() as session:
        sources = {s.handle: s for s in session.scalars(select(Source))}
        alpha = sources["shop_alpha"]
        assert (alpha.external_id, alpha.title, alpha.subscribers, alpha.status) == (
            "1500000001", "Альфа шоп", 12400, "active")
        assert alpha.about == "Бот: @alpha_shop_bot\nПрайс внутри"
        assert sources["hidden_one"].status == "no_preview"
        assert sources["closed_one"].status == "empty"
        posts = session.scalars(select(Post).order_by(Post.id)).all()
        assert sorted(int(p.external_id) for p in posts) == list(range(1, 46))
        post = next(p for p in posts if p.external_id == "7")
        assert post.text == "Пост 7\nвторая строка 😀"
        assert post.views == 107
        assert post.url == f"{server.url}/shop_alpha/7"
        assert all(p.capture_id is not None for p in posts)
        assert alpha.crawl_cursor == 45
        assert session.scalar(select(func.count()).select_from(Capture)) >= 3
    store.dispose()
    shown = kyran("capture", str(post.id), config=config)
    assert shown.returncode == 0, shown.stderr
    assert "sha256" in shown.stdout and "(verified)" in shown.stdout
    assert 'data-post="shop_alpha/7"' in shown.stdout
    listed = kyran("posts", "--source", "shop_alpha", "--json", "--limit", "3", config=config)
    lines = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [line["external_id"] for line in lines] == ["45", "44", "43"]
    table = kyran("sources", config=config)
    assert "shop_alpha" in table.stdout and "no_preview" in table.stdout


def test_recrawl_is_incremental_and_updates_views(kyran, crawl_config, db_url):
    world = make_world(posts=70)
    with serve(world) as server:
        config = crawl_config(server)
        assert kyran("crawl", "telegram", "shop_alpha", config=config).returncode == 0
        first_requests = len(server.requests)
        start = datetime(2026, 12, 1, tzinfo=timezone.utc)
        world.add_posts("shop_alpha", [FakePost(i, start + timedelta(hours=i), f"Новый {i}")
                                       for i in range(71, 76)])
        world.add_posts("shop_alpha", [FakePost(70, start, "Пост 70, исправлен", views=987,
                                                edited=True)])
        del server.requests[:]
        result = kyran("crawl", "telegram", "shop_alpha", config=config)
        assert result.returncode == 0, result.stderr[-2000:]
        assert first_requests == 4  # 70 posts: four pages on the first visit
        assert [target for _, target, _ in server.requests] == ["/s/shop_alpha"]
    assert counts(db_url)["shop_alpha"] == 75
    store = open_store(db_url)
    with store.session() as session:
        post = session.scalars(select(Post).where(Post.external_id == "70")).one()
        assert (post.text, post.views, post.edited) == ("Пост 70, исправлен", 987, True)
        assert [r.text for r in post.revisions] == ["Пост 70\nвторая строка 😀"]
    store.dispose()


def test_first_visit_depth_is_limited(kyran, crawl_config, db_url):
    with serve(make_world(posts=100)) as server:
        config = crawl_config(server, "first_visit_max_pages = 2\n")
        assert kyran("crawl", "telegram", "shop_alpha", config=config).returncode == 0
    assert counts(db_url)["shop_alpha"] == 40


def test_renamed_channel_stays_one_source(kyran, crawl_config, db_url):
    world = make_world(posts=5)
    with serve(world) as server:
        config = crawl_config(server)
        assert kyran("crawl", "telegram", "shop_alpha", config=config).returncode == 0
        world.rename("shop_alpha", "shop_alpha_v2")
        world.add_posts("shop_alpha_v2", [FakePost(6, datetime(2026, 12, 1, tzinfo=timezone.utc),
                                                   "после переименования")])
        result = kyran("crawl", "telegram", "shop_alpha", "shop_alpha_v2", config=config)
        assert result.returncode == 0, result.stderr[-2000:]
    store = open_store(db_url)
    with store.session() as session:
        sources = session.scalars(select(Source).where(Source.external_id == "1500000001")).all()
        assert [s.handle for s in sources] == ["shop_alpha_v2"]
        assert session.scalar(select(func.count()).select_from(Post)) == 6
        assert session.scalars(select(Event).where(Event.action == "source.renamed")).one()
    store.dispose()


def test_faults_are_survived(kyran, crawl_config, db_url):
    """A 503 is retried, a truncated page is parsed as far as it goes, a 404 channel and a
    media-only post do not stop the crawl."""
    world = make_world(posts=10)
    world.add_channel(FakeChannel("media_only", 1500000009, "Media"),
                      [FakePost(1, datetime(2026, 11, 1, tzinfo=timezone.utc), "",
                                media_kind="photo", media_url="https://cdn.example.invalid/1.jpg")])
    world.add_channel(FakeChannel("cut_page", 1500000010, "Cut"),
                      [FakePost(i, datetime(2026, 11, 1, i, tzinfo=timezone.utc), f"текст {i}")
                       for i in range(1, 6)])
    _, _, full = world.handle("/s/cut_page")
    truncated = full[: full.index(b'data-post="cut_page/4"')]
    faults = {
        "/s/shop_alpha": [(503, [], b"busy"), (503, [], b"busy")],
        "/s/cut_page": [(200, [("Content-Type", "text/html; charset=utf-8")], truncated)],
        "/s/no_such": [(404, [], b"")],
    }
    with serve(world, faults) as server:
        config = crawl_config(server)
        result = kyran("crawl", "telegram", "shop_alpha", "media_only", "cut_page", "no_such",
                       config=config)
        # the other channels are read; the crawl is partial (no_such was not): exit 1
        assert result.returncode == 1, result.stderr[-2000:]
        assert "1 pages could not be fetched" in result.stderr.splitlines()[-1]
    found = counts(db_url)
    assert found["shop_alpha"] == 10
    assert found["media_only"] == 1
    assert found["cut_page"] == 3
    store = open_store(db_url)
    with store.session() as session:
        media = session.scalars(select(Post).join(Source).where(Source.handle == "media_only")).one()
        assert (media.text, media.media_kind) == ("", "photo")
    store.dispose()


def stored_posts(db_url) -> int:
    try:
        return sum(counts(db_url).values())
    except Exception:  # the child has not created the store yet
        return 0


def test_killed_crawl_resumes_without_loss_or_doubles(crawl_config, db_url):
    """The server answers 15 requests (300 posts), then holds the crawl; the test kills it once a
    first batch is stored (300 posts make at least one batch of KYRAN_STORE_BATCH=200, or one
    sent early by the 2-second rule): killed mid-way, always, however fast or slow the machine."""
    world = FakeTelegram.generate(seed=3, channels=6, posts_per_channel=200)
    names = [c.username for c in world.channels if c.preview == "public"]
    expected = sum(len(world.posts(name)) for name in names)
    gate = Gate(requests=15)
    with serve(world, gate=gate) as server:
        config = crawl_config(server, "first_visit_max_pages = 50\n")
        command = [sys.executable, "-m", "crawler", "--config", str(config), "crawl",
                   "telegram", *names]
        process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        try:
            wait_until(gate.reached.is_set, 60, "the server to answer 15 requests")
            wait_until(lambda: stored_posts(db_url) > 0, 60, "a first batch to be stored")
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
            gate.open()
        partial = stored_posts(db_url)
        assert 0 < partial <= 15 * 20 < expected
        result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
    store = open_store(db_url)
    with store.session() as session:
        total = session.scalar(select(func.count()).select_from(Post))
        distinct = session.scalar(select(func.count(func.distinct(
            Post.source_id.op("||")("/").op("||")(Post.external_id)))))
    store.dispose()
    assert total == distinct == expected


REFERENCE = REPO.parent / "shared" / "reference" / "telegram-preview" / "telegram-channel-page.html"


@pytest.mark.skipif(not REFERENCE.exists(), reason=f"{REFERENCE} absent: ../shared not beside the repo")
def test_real_preview_page_through_scrapy_crawl(crawl_config, db_url):
    """`scrapy crawl` from the repository root, on Telegram's real markup, with the chain in the
    crawl's own process (`KYRAN_CHAIN_PROCESS=False`; every other crawl test uses the child)."""
    page = REFERENCE.read_bytes()

    def handler(method, target, headers):
        if target == "/s/telegram":
            return 200, [("Content-Type", "text/html; charset=utf-8")], page
        return 404, [], b""

    with FixtureServer(handler) as server:
        config = crawl_config(server, "first_visit_max_pages = 1\n")
        result = subprocess.run(
            [sys.executable, "-m", "scrapy", "crawl", "telegram_preview", "-a", "channels=telegram",
             "-s", "KYRAN_CHAIN_PROCESS=False"],
            cwd=REPO, capture_output=True, text=True, timeout=120,
            env={**os.environ, "KYRAN_CONFIG": str(config)})
        assert result.returncode == 0, result.stderr[-3000:]
    store = open_store(db_url)
    with store.session() as session:
        source = session.scalars(select(Source)).one()
        assert (source.handle, source.external_id, source.title, source.subscribers,
                source.verified) == ("telegram", "1005640892", "Telegram News", 9780000, True)
        posts = {int(p.external_id): p for p in session.scalars(select(Post))}
        assert sorted(posts) == list(range(435, 455))
        assert posts[435].views == 1580000 and posts[452].media_kind == "photo"
        assert session.scalar(select(func.count()).select_from(Verdict)) >= 20  # scored too
        assert "kyran/verdicts/" in result.stderr and "kyran/worker/cpu_s" not in result.stderr
    store.dispose()


def test_discovered_channels_are_crawled_next_time_and_garbage_is_survived(
        kyran, crawl_config, db_url):
    world = make_world(posts=3)
    when = datetime(2026, 11, 20, tzinfo=timezone.utc)
    world.add_channel(FakeChannel("kristall_seed", 1600000001, "Shop", "Бот: @kristall_x_bot"),
                      [FakePost(1, when, "Мефедрон VHQ в наличии, клады по Алматы: магнит. "
                                         "Заказ через бота @kristall_x_bot, оплата BTC. "
                                         "Резерв: @kristall_reserve")])
    world.add_channel(FakeChannel("kristall_reserve", 1600000002, "Reserve"),
                      [FakePost(1, when, "Резервный канал магазина")])
    garbage = bytes(range(256)) * 40
    faults = {"/s/garbage_chan": [(200, [("Content-Type", "text/html")], garbage)] * 3}
    with serve(world, faults) as server:
        config = crawl_config(server)
        first = kyran("crawl", "telegram", "kristall_seed", "garbage_chan", config=config)
        assert first.returncode == 0, first.stderr[-2000:]
        assert "/s/kristall_reserve" not in [t for _, t, _ in server.requests]
        second = kyran("crawl", "telegram", config=config)  # the watchlist
        assert second.returncode == 0, second.stderr[-2000:]
        assert "/s/kristall_reserve" in [t for _, t, _ in server.requests]
        assert "/s/kristall_x_bot" not in [t for _, t, _ in server.requests]  # bots: no preview
    store = open_store(db_url)
    with store.session() as session:
        reserve = session.scalars(select(Source).where(Source.handle == "kristall_reserve")).one()
        assert (reserve.discovered_via, reserve.discovery_depth, reserve.status) == (
            "mention", 1, "active")
        junk = session.scalars(select(Source).where(Source.handle == "garbage_chan")).one()
        assert junk.status == "unknown"  # not a channel page: not taken for a deleted channel
    store.dispose()


def test_a_visit_cut_short_leaves_the_cursor_so_nothing_is_skipped(kyran, crawl_config, db_url):
    world = make_world(posts=30)
    with serve(world) as server:
        config = crawl_config(server)
        assert kyran("crawl", "telegram", "shop_alpha", config=config).returncode == 0
        start = datetime(2026, 12, 1, tzinfo=timezone.utc)
        world.add_posts("shop_alpha", [FakePost(i, start + timedelta(hours=i), f"новый {i}")
                                       for i in range(31, 111)])
        short = kyran("crawl", "telegram", "shop_alpha", "--max-pages", "1", config=config)
        assert short.returncode == 0 and "the crawl cursor stays" in short.stderr
        assert kyran("crawl", "telegram", "shop_alpha", config=config).returncode == 0
    assert counts(db_url)["shop_alpha"] == 110
