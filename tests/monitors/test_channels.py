"""Channel metadata over MTProto (about, subscribers, linked chat, pinned post) on schedule;
renames followed by numeric id without resolving again; channels that became private, were
deleted, lost their username or were restricted, marked with the time it was noticed."""

from datetime import timedelta

from sqlalchemy import select
from telethon.tl import types

from crawler.store.models import Event, Post, Source
from tests.monitors.conftest import once, watch_names


def source_by_id(store, numeric_id):
    with store.session() as session:
        row = session.scalars(select(Source).where(Source.external_id == str(numeric_id))).one()
        session.expunge(row)
        return row


def events(store, action):
    with store.session() as session:
        return [(e.subject_id, e.payload) for e in session.scalars(
            select(Event).where(Event.action == action).order_by(Event.id))]


def test_metadata_refreshed_on_schedule(store, world, clock, make_monitor):
    shop = world.channel(6001, "meta_shop", "Meta shop", about="Бот: @meta_bot",
                         participants=4321, linked_chat_id=6999, pinned=3)
    world.post(shop, "hello", live=False)
    watch_names(store, "meta_shop")
    summary = once(make_monitor('metadata_refresh = "12h"'))
    assert summary["metadata_refreshed"] == 1
    source = source_by_id(store, 6001)
    assert (source.title, source.about, source.subscribers) == ("Meta shop", "Бот: @meta_bot", 4321)
    assert (source.linked_chat_id, source.pinned_message_id) == (6999, 3)
    assert source.metadata_refreshed_at == clock() and source.status == "active"

    shop.participants, shop.about = 5000, "new about"
    clock.advance(hours=1)
    world.calls.clear()
    once(make_monitor('metadata_refresh = "12h"'))
    assert world.called()["GetFullChannelRequest"] == 0
    clock.advance(hours=12)
    once(make_monitor('metadata_refresh = "12h"'))
    source = source_by_id(store, 6001)
    assert (source.subscribers, source.about) == (5000, "new about")


def test_rename_followed_by_numeric_id(store, world, clock, make_monitor):
    shop = world.channel(6101, "old_name", "Shop")
    world.post(shop, "before", live=False)
    watch_names(store, "old_name")
    once(make_monitor())
    shop.username = "new_name"
    world.post(shop, "after", live=False)
    clock.advance(minutes=16)
    world.calls.clear()
    summary = once(make_monitor())
    assert summary["renames"] == 1 and world.called()["ResolveUsernameRequest"] == 0
    source = source_by_id(store, 6101)
    assert source.handle == "new_name"
    ((_, payload),) = events(store, "source.renamed")
    assert (payload["old"], payload["new"]) == ("old_name", "new_name")
    with store.session() as session:
        urls = dict(session.execute(select(Post.external_id, Post.url)).all())
        assert urls == {"1": "https://t.me/old_name/1", "2": "https://t.me/new_name/2"}
        assert session.scalar(select(Source.id).where(Source.handle == "old_name")) is None


def test_gone_channels_are_marked_when_noticed(store, world, clock, make_monitor):
    private = world.channel(6201, "goes_private")
    deleted = world.channel(6202, "gets_deleted")
    banned = world.channel(6203, "gets_banned")
    for channel in (private, deleted, banned):
        world.post(channel, "hi", live=False)
    world.bots["some_bot"] = 777
    watch_names(store, "goes_private", "gets_deleted", "gets_banned", "never_existed",
                "some_bot")
    fast = "resolve_per_hour = 3600"
    first = once(make_monitor(fast))
    assert first["channels_gone"] == 1  # never_existed: its username is free
    noticed = clock()
    assert (source_by_id(store, 6201).status, source_by_id(store, 6201).gone_at) == ("active", None)

    clock.advance(hours=13)
    private.state, deleted.state = "private", "deleted"
    banned.restriction = [types.RestrictionReason("all", "porn", "Blocked for violations")]
    summary = once(make_monitor(fast))
    assert summary["channels_gone"] == 2 and summary["errors"] == 0
    assert summary["peers_dropped"] == 1  # ChannelInvalid: deleted, or a hash gone stale
    clock.advance(minutes=1)
    summary = once(make_monitor(fast))  # resolved again: the channel is deleted indeed
    assert summary["channels_gone"] == 1
    with store.session() as session:
        rows = {s.handle: s for s in session.scalars(select(Source))}
        assert (rows["goes_private"].status, rows["goes_private"].gone_how) == ("private", "private")
        assert (rows["gets_deleted"].status, rows["gets_deleted"].gone_how) == ("gone", "deleted")
        assert rows["goes_private"].gone_at == clock() - timedelta(minutes=1)
        assert rows["gets_deleted"].gone_at == clock()
        assert (rows["gets_banned"].status, rows["gets_banned"].gone_how) == ("blocked", "restricted")
        assert "Blocked for violations" in rows["gets_banned"].restriction
        assert (rows["never_existed"].status, rows["never_existed"].gone_how) == (
            "gone", "username_free")
        assert rows["never_existed"].gone_at == noticed
        assert rows["some_bot"].kind == "bot"
    gone = {payload["how"] for _, payload in events(store, "source.gone")}
    assert gone == {"private", "deleted", "restricted", "username_free"}

    # Gone channels are not asked again.
    clock.advance(hours=13)
    world.calls.clear()
    once(make_monitor(fast))
    assert sum(world.called().values()) == 1  # only the session check



def test_a_stale_access_hash_is_resolved_again_not_called_deleted(store, world, clock, make_monitor):
    shop = world.channel(6301, "hash_shop")
    world.post(shop, "one", live=False)
    watch_names(store, "hash_shop")
    once(make_monitor())
    with store.session() as session:  # as if the account had been signed in as another user
        from crawler.store.models_ops import TelegramPeer

        session.scalars(select(TelegramPeer)).one().access_hash = 12345
    world.post(shop, "two", live=False)
    clock.advance(minutes=16)
    assert once(make_monitor())["peers_dropped"] == 1
    once(make_monitor())
    source = source_by_id(store, 6301)
    assert (source.status, source.gone_at, source.crawl_cursor) == ("active", None, 2)
