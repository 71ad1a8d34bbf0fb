"""Polling channels that are not joined: usernames resolved once per account (the access hash is
kept in the store, so a restart does not resolve again), history read from the crawl cursor,
oldest-due first, through the token bucket, and a capped backfill that still moves forward."""

from sqlalchemy import select

from crawler.store.models import Capture, Post, Source
from crawler.store.models_ops import TelegramPeer
from tests.monitors.conftest import once, watch_names
from tests.monitors.fake_telegram import access_hash


def posts(store, handle):
    with store.session() as session:
        source = session.scalars(select(Source).where(Source.handle == handle)).one()
        return sorted((int(p.external_id), p.text) for p in source.posts)


def source(store, handle):
    with store.session() as session:
        row = session.scalars(select(Source).where(Source.handle == handle)).one()
        session.expunge(row)
        return row


def test_poll_reads_from_the_cursor_and_never_resolves_twice(store, world, clock, make_monitor):
    shop = world.channel(1001, "shop_one", "Shop one")
    news = world.channel(1002, "city_news", "City news")
    for i in range(3):
        world.post(shop, f"shop post {i}")
        world.post(news, f"news {i}")
    watch_names(store, "shop_one", "city_news")

    summary = once(make_monitor())
    assert summary["resolved"] == 2 and summary["channels_read"] == 2
    assert summary["messages_read"] == 6 and summary["accounts_active"] == 1
    assert posts(store, "shop_one") == [(1, "shop post 0"), (2, "shop post 1"), (3, "shop post 2")]
    assert source(store, "shop_one").crawl_cursor == 3
    assert source(store, "shop_one").external_id == "1001"
    with store.session() as session:
        peers = {(p.source_id, p.account): p.access_hash
                 for p in session.scalars(select(TelegramPeer))}
        assert sorted(peers.values()) == sorted([access_hash("main", 1001),
                                                 access_hash("main", 1002)])
        captures = session.scalars(select(Capture)).all()
        assert {c.kind for c in captures} == {"mtproto-json"} and len(captures) == 6

    # Not due yet: nothing asked.
    world.calls.clear()
    assert once(make_monitor())["channels_read"] == 0
    assert world.called()["GetHistoryRequest"] == 0

    # Due again, after a restart (a new monitor): read from the cursor, no username resolved.
    clock.advance(minutes=16)
    world.post(shop, "shop post 3")
    world.calls.clear()
    summary = once(make_monitor())
    assert summary["messages_read"] == 1 and summary.get("resolved", 0) == 0
    assert world.called()["ResolveUsernameRequest"] == 0
    assert posts(store, "shop_one")[-1] == (4, "shop post 3")
    assert source(store, "shop_one").crawl_cursor == 4
    assert source(store, "city_news").crawl_cursor == 3


def test_token_bucket_defers_and_oldest_due_goes_first(store, world, clock, make_monitor):
    channels = [world.channel(2000 + i, f"chan_{i}") for i in range(5)]
    for channel in channels:
        world.post(channel, "hello")
    watch_names(store, *[c.username for c in channels])
    config = 'history_per_minute = 2\nresolve_per_hour = 3600\nmetadata_refresh = "1d"'

    summary = once(make_monitor(config))
    assert summary["resolved"] == 5
    assert summary["channels_read"] == 2 and summary["deferred"] == 1
    assert world.called()["GetHistoryRequest"] == 2

    clock.advance(seconds=30)  # one token back
    summary = once(make_monitor(config))
    assert summary["channels_read"] == 1 and summary.get("resolved", 0) == 0
    clock.advance(seconds=60)
    once(make_monitor(config))
    with store.session() as session:
        read = session.scalar(select(Source.id).where(Source.crawl_cursor.is_(None)))
        assert read is None  # every channel read once, never one twice before the others
    history = [c for c in world.calls if c[1] == "GetHistoryRequest"]
    assert len(history) == 5


def test_resolving_is_rate_limited(store, world, make_monitor):
    for i in range(6):
        world.channel(3000 + i, f"new_{i}")
    watch_names(store, *[f"new_{i}" for i in range(6)])
    summary = once(make_monitor("resolve_per_hour = 20"))
    assert summary["resolved"] == 3 and summary["deferred"] == 1
    assert world.called()["ResolveUsernameRequest"] == 3


def test_capped_backfill_moves_forward_without_gaps(store, world, clock, make_monitor):
    shop = world.channel(4001, "big_shop")
    for i in range(260):
        world.post(shop, f"post {i + 1}")
    watch_names(store, "big_shop")
    config = "backfill_max_messages = 150\nhistory_per_minute = 600"

    once(make_monitor(config))  # a first visit reads the newest 150
    assert [pid for pid, _ in posts(store, "big_shop")] == list(range(111, 261))
    assert source(store, "big_shop").crawl_cursor == 260

    for i in range(400):  # a long gap: 400 new posts
        world.post(shop, f"later {i}")
    clock.advance(minutes=16)
    once(make_monitor(config))
    assert source(store, "big_shop").crawl_cursor == 410  # 150 up from the cursor, no gap
    clock.advance(minutes=16)
    once(make_monitor(config))
    clock.advance(minutes=16)
    once(make_monitor(config))
    ids = [pid for pid, _ in posts(store, "big_shop")]
    assert ids == list(range(111, 661)) and source(store, "big_shop").crawl_cursor == 660
    with store.session() as session:
        assert session.scalar(select(Post.url).where(Post.external_id == "660")) == (
            "https://t.me/big_shop/660")



def test_joined_channels_are_backfilled_after_a_restart(store, world, clock, make_monitor):
    joined = world.channel(4101, "joined_one")
    world.post(joined, "first", live=False)
    watch_names(store, "joined_one")
    config = "join = true\nmax_joined_per_account = 5"
    once(make_monitor(config))
    assert world.members["main"] == {4101}
    world.post(joined, "missed while away", live=False)  # no monitor was running
    clock.advance(minutes=1)  # not due as a polled channel would be, but a restart backfills
    summary = once(make_monitor(config))
    assert summary["channels_read"] == 1 and summary["joined"] == 0
    assert posts(store, "joined_one") == [(1, "first"), (2, "missed while away")]
    assert source(store, "joined_one").crawl_cursor == 2
