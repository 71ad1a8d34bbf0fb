"""Helpers of the crawl tests: a fake t.me with shop adverts, a crawl run in the background,
waiting for a condition with a deadline, and the crawl's chain process."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, select

from crawler.fixtures.tme_pages import FakeChannel, FakePost
from crawler.fixtures.tme_world import FakeTelegram
from crawler.store.db import open_store
from crawler.store.models import Post, Verdict
from tests.conftest import REPO

SHOP_AD = ("🔥 Мефедрон VHQ в наличии 🔥\n1г — {price} тг\nКлады по Алматы: магнит, прикоп\n"
           "Заказ через бота @kristall_kz_bot, оплата BTC")


def shop_world(channels: int = 1, posts: int = 45, first: int = 1) -> FakeTelegram:
    world = FakeTelegram()
    start = datetime(2026, 10, 1, tzinfo=timezone.utc)
    for number in range(channels):
        name = f"shop_{number:04d}"
        world.add_channel(FakeChannel(name, 1600000000 + number, f"Shop {number}", "Бот"),
                          shop_posts(first, posts, start))
    return world


def shop_posts(first: int, count: int, start: datetime) -> list[FakePost]:
    return [FakePost(i, start + timedelta(hours=i), SHOP_AD.format(price=1000 + i))
            for i in range(first, first + count)]


def stored(db_url: str) -> tuple[int, int]:
    """(posts, posts flagged 'sale') in the store; (0, 0) before it has its tables."""
    from sqlalchemy.exc import DBAPIError

    store = open_store(db_url, migrate=False)
    try:
        with store.reader() as session:
            posts = session.scalar(select(func.count()).select_from(Post))
            sale = session.scalar(select(func.count()).select_from(Verdict).where(
                Verdict.subject_type == "post", Verdict.category == "sale"))
    except DBAPIError:
        return 0, 0
    finally:
        store.dispose()
    return posts, sale


def start_crawl(config: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "crawler", "--config", str(config), "crawl",
                             *args], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(child) for child in text]
    return found


def chain_process(pid: int) -> int | None:
    """The crawl's chain process (multiprocessing also starts a resource tracker)."""
    for child in children(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if b"spawn_main" in command:
            return child
    return None


def one_line_failure(stderr: str) -> None:
    """A failed crawl says why in lines, never in a traceback."""
    assert "Traceback" not in stderr, stderr[-3000:]


def gated_world(big: int = 3, pages: int = 10) -> FakeTelegram:
    """`shop_0000` (45 posts, read at once) and `big` channels of `pages` full pages each."""
    world = FakeTelegram()
    start = datetime(2026, 10, 1, tzinfo=timezone.utc)
    for number in range(big + 1):
        count = 45 if number == 0 else 20 * pages
        world.add_channel(FakeChannel(f"shop_{number:04d}", 1600000000 + number,
                                      f"Shop {number}", "Бот"), shop_posts(1, count, start))
    return world


def gated_server(world: FakeTelegram):
    """A local t.me that serves `shop_0000` at once and every other page only once the
    returned event is set: a test acts while the crawl has stored the first channel."""
    import threading

    from crawler.fixtures.server import FixtureServer

    gate = threading.Event()

    def handler(method, target, headers):
        if not target.startswith("/s/shop_0000"):
            gate.wait(120)
        status, answer_headers, body = world.handle(target)
        return status, list(answer_headers.items()), body

    return FixtureServer(handler), gate


def crawl_config(path: Path, db_url: str, base_url: str, store: str = "",
                 extra: str = "") -> Path:
    path.write_text(
        f'[store]\nurl = "{db_url}"\ncaptures_dir = "captures"\n{store}\n'
        '[crawl]\ndownload_delay = 0\nautothrottle = false\nconcurrent_requests = 16\n'
        'concurrent_requests_per_domain = 16\nretry_times = 2\n\n'
        f'[telegram_preview]\nbase_url = "{base_url}"\n' + extra, encoding="utf-8")
    return path


GATED = [f"shop_{number:04d}" for number in range(4)]
