"""The long-lived monitor: joined channels' live posts and edits stored at once (without moving
the crawl cursor), a dropped connection reconnected and the gap backfilled from the cursor, a
connection refused retried with backoff, and a prompt, clean stop."""

import asyncio
import time

import pytest
from sqlalchemy import select

from crawler.store.ingest import watch
from crawler.store.models import Post, PostRevision, Source
from crawler.store.models_ops import TelegramPeer

LIVE = "join = true\nresolve_per_hour = 3600\nhistory_per_minute = 600"


def post_texts(store):
    with store.session() as session:
        return dict(session.execute(select(Post.external_id, Post.text)).all())


def cursor(store, handle):
    with store.session() as session:
        return session.scalar(select(Source.crawl_cursor).where(Source.handle == handle))


async def until(condition, what, timeout=60.0):
    """Wait for a condition (bounded), letting the monitor's tasks run meanwhile."""
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(condition):
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout:.0f} s for {what}")
        await asyncio.sleep(0.02)


def test_live_updates_gap_backfill_and_stop(store, world, make_monitor):
    shop = world.channel(8001, "live_shop")
    world.post(shop, "old 1", live=False)
    world.post(shop, "old 2", live=False)
    with store.session() as session:
        watch(session, "telegram", "live_shop")
    monitor = make_monitor(LIVE)
    boundary = world.boundaries["main"]

    async def scenario():
        stop = asyncio.Event()
        task = asyncio.create_task(monitor.run(stop))
        await until(lambda: len(post_texts(store)) == 2 and 8001 in world.members["main"],
                    "the first read and the join")
        with store.session() as session:
            assert session.scalars(select(TelegramPeer.joined)).one() is True

        world.post(shop, "live 3")
        await until(lambda: post_texts(store).get("3") == "live 3", "a live post")
        assert cursor(store, "live_shop") == 2  # live posts do not move the cursor
        world.edit(shop, 3, "live 3, edited")
        await until(lambda: post_texts(store).get("3") == "live 3, edited", "a live edit")
        with store.session() as session:
            assert session.scalars(select(PostRevision.text)).one() == "live 3"

        boundary.drop()  # the network goes; posts meanwhile never arrive as updates
        world.post(shop, "missed 4")
        world.post(shop, "missed 5")
        await until(lambda: {"4", "5"} <= set(post_texts(store)), "the gap backfilled")
        await until(lambda: cursor(store, "live_shop") == 5, "the cursor after the backfill")
        assert boundary.connects == 2

        world.post(shop, "live 6")  # live again after the reconnect
        await until(lambda: post_texts(store).get("6") == "live 6", "live after reconnect")

        started = time.monotonic()
        stop.set()
        await asyncio.wait_for(task, timeout=10)
        return time.monotonic() - started

    stopped_in = asyncio.run(scenario())
    assert stopped_in < 5
    assert not boundary.is_connected()
    assert monitor.stats["live_messages"] >= 3 and monitor.stats["disconnects"] >= 1


def test_unreachable_telegram_is_retried_with_backoff(store, world, make_monitor):
    shop = world.channel(8101, "far_shop")
    world.post(shop, "first", live=False)
    with store.session() as session:
        watch(session, "telegram", "far_shop")
    monitor = make_monitor(LIVE)
    boundary = world.boundaries["main"]
    boundary.unreachable = True

    async def scenario():
        stop = asyncio.Event()
        task = asyncio.create_task(monitor.run(stop))
        await until(lambda: boundary.connects >= 2, "a second connection attempt")
        assert post_texts(store) == {}
        boundary.unreachable = False  # the proxy is back
        await until(lambda: post_texts(store) == {"1": "first"}, "the read after reconnecting")
        stop.set()
        await asyncio.wait_for(task, timeout=10)

    asyncio.run(scenario())
    # 1 s then 2 s between attempts: a handful of attempts, not a tight loop.
    assert boundary.connects <= 6
    with store.session() as session:
        from crawler.store.models_ops import TelegramAccountState

        row = session.get(TelegramAccountState, "main")
        assert row.state == "active" and "cannot connect" in row.last_error


def test_stop_ends_a_long_read_after_the_page_in_hand(store, world, make_monitor):
    big = world.channel(8201, "big_channel")
    for i in range(3000):
        world.post(big, f"post {i + 1}", live=False)
    with store.session() as session:
        watch(session, "telegram", "big_channel")
    config = "resolve_per_hour = 3600\nhistory_per_minute = 600\nbackfill_max_messages = 3000"
    monitor = make_monitor(config)
    world.boundaries["main"].latency = 0.05  # 30 pages: 1.5 s of round trips at least

    async def scenario():
        stop = asyncio.Event()
        task = asyncio.create_task(monitor.run(stop))
        await until(lambda: len(post_texts(store)) >= 100, "the first page stored")
        started = time.monotonic()
        stop.set()
        await asyncio.wait_for(task, timeout=10)
        return time.monotonic() - started

    assert asyncio.run(scenario()) < 2
    stored = len(post_texts(store))
    assert 100 <= stored < 3000
    assert cursor(store, "big_channel") is None  # a first visit cut short sets no cursor
    from tests.monitors.conftest import once

    world.boundaries["main"].latency = 0
    once(make_monitor(config))
    assert len(post_texts(store)) == 3000 and cursor(store, "big_channel") == 3000
