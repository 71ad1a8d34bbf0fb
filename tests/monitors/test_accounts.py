"""Several accounts: channels shared out stably, each account with its own access hashes; a
flood wait pauses only that account (for the seconds Telegram names plus jitter, recorded); a
revoked or duplicated session stops only that account, once, with one clear line; channels of
an account stopped or paused for long go to the others."""

import asyncio
from datetime import timedelta

from sqlalchemy import select
from telethon import errors

from crawler.store.ingest import watch
from crawler.store.models import Event, Post, Source
from crawler.store.models_ops import TelegramAccountState, TelegramPeer
from monitors.telegram.accounts import owner
from tests.monitors.conftest import once
from tests.monitors.fake_telegram import access_hash

FAST = "resolve_per_hour = 3600\nhistory_per_minute = 600"
TWO = ("alpha", "beta")


def setup_channels(store, world, count=12):
    channels = [world.channel(7000 + i, f"chan_{i:02d}") for i in range(count)]
    for channel in channels:
        world.post(channel, f"post in {channel.username}", live=False)
    with store.session() as session:
        for channel in channels:
            watch(session, "telegram", channel.username)
    return channels


def account(store, name):
    with store.session() as session:
        row = session.get(TelegramAccountState, name)
        session.expunge(row)
        return row


def peers(store):
    with store.session() as session:
        return {(p.source_id, p.account): p.access_hash for p in session.scalars(select(TelegramPeer))}


def stored_posts(store):
    with store.session() as session:
        return session.scalar(select(Post.id).order_by(Post.id.desc()).limit(1)) and len(
            session.scalars(select(Post)).all())


def test_two_accounts_share_the_channels(store, world, make_monitor):
    setup_channels(store, world)
    summary = once(make_monitor(FAST, accounts=TWO))
    assert summary["accounts"] == 2 and summary["channels_read"] == 12
    assert stored_posts(store) == 12
    found = peers(store)
    assert len(found) == 12  # each channel reached by one account only
    by_account = {name: {sid for sid, who in found if who == name} for name in TWO}
    assert by_account["alpha"] and by_account["beta"]
    for (sid, who), hash_ in found.items():
        assert who == owner(sid, list(TWO))
        with store.session() as session:
            channel_id = int(session.get(Source, sid).external_id)
        assert hash_ == access_hash(who, channel_id)
    assert world.called("alpha")["GetHistoryRequest"] == len(by_account["alpha"])


def test_flood_wait_pauses_one_account_and_the_other_goes_on(store, world, clock, make_monitor):
    setup_channels(store, world)
    once(make_monitor(FAST, accounts=TWO))
    clock.advance(minutes=16)
    for channel in world.channels.values():
        world.post(channel, "second", live=False)
    world.fail("alpha", "GetHistoryRequest", errors.FloodWaitError(request=None, capture=120))
    summary = once(make_monitor(FAST, accounts=TWO))
    assert summary["flood_waits"] == 1
    row = account(store, "alpha")
    assert row.state == "paused" and row.flood_waits == 1 and row.flood_wait_seconds == 120
    assert clock() + timedelta(seconds=120) <= row.paused_until <= clock() + timedelta(seconds=125)
    assert account(store, "beta").state == "active"
    assert summary["channels_read"] == len({s for s, who in peers(store) if who == "beta"})
    with store.session() as session:
        (event,) = session.scalars(select(Event).where(Event.action == "telegram.flood_wait"))
        assert event.payload["account"] == "alpha" and event.payload["seconds"] == 120

    # Still paused: alpha asks nothing (a short pause keeps its channels).
    world.calls.clear()
    summary = once(make_monitor(FAST, accounts=TWO))
    assert summary["accounts_paused"] == 1
    assert not world.called("alpha")
    # After the pause: alpha reads its channels again and is active.
    clock.advance(seconds=130)
    summary = once(make_monitor(FAST, accounts=TWO))
    assert account(store, "alpha").state == "active"
    assert stored_posts(store) == 24


def test_long_flood_wait_moves_channels_to_the_other_account(store, world, clock, make_monitor):
    setup_channels(store, world)
    once(make_monitor(FAST, accounts=TWO))
    alpha_channels = {s for s, who in peers(store) if who == "alpha"}
    clock.advance(minutes=16)
    world.fail("alpha", "GetHistoryRequest", errors.FloodWaitError(request=None, capture=86400))
    once(make_monitor(FAST, accounts=TWO))
    assert account(store, "alpha").state == "paused"
    for channel in world.channels.values():
        world.post(channel, "during the ban", live=False)
    clock.advance(minutes=16)
    world.calls.clear()
    once(make_monitor(FAST, accounts=TWO))
    assert world.called("beta")["ResolveUsernameRequest"] == len(alpha_channels)
    assert {s for s, who in peers(store) if who == "beta"} >= alpha_channels
    assert stored_posts(store) == 24
    assert world.called("alpha").get("GetHistoryRequest", 0) == 0


def test_revoked_session_stops_that_account_once(store, world, clock, make_monitor):
    setup_channels(store, world)
    world.fail("alpha", "GetStateRequest", errors.AuthKeyUnregisteredError(request=None))
    summary = once(make_monitor(FAST, accounts=TWO))
    assert summary["accounts_stopped"] == 1
    assert summary["channels_read"] == 12 and stored_posts(store) == 12  # beta took them all
    row = account(store, "alpha")
    assert row.state == "stopped"
    assert "\n" not in row.stop_reason and "kyran telegram login" in row.stop_reason
    assert "AuthKeyUnregisteredError" in row.stop_reason
    assert not world.boundaries["alpha"].is_connected()
    with store.session() as session:
        (event,) = session.scalars(select(Event).where(Event.action == "telegram.account_stopped"))
        assert event.payload["account"] == "alpha"


def test_duplicated_session_in_the_long_run_is_not_retried(store, world, clock, make_monitor):
    setup_channels(store, world, count=4)
    world.fail("alpha", "GetStateRequest", errors.AuthKeyDuplicatedError(request=None))
    monitor = make_monitor(FAST, accounts=TWO)

    async def scenario():
        stop = asyncio.Event()
        task = asyncio.create_task(monitor.run(stop))
        for _ in range(2000):
            if stored_posts(store) == 4 and account(store, "alpha").state == "stopped":
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)  # would be time enough for a reconnect loop to show
        stop.set()
        await asyncio.wait_for(task, timeout=10)

    asyncio.run(scenario())
    assert world.boundaries["alpha"].connects == 1
    assert world.called("alpha") == {"GetStateRequest": 1}
    assert "AuthKeyDuplicatedError" in account(store, "alpha").stop_reason
    assert stored_posts(store) == 4


def test_joining_is_capped_and_telegrams_refusal_leaves_the_rest_polled(store, world, make_monitor):
    setup_channels(store, world, count=5)
    summary = once(make_monitor(FAST + "\njoin = true\nmax_joined_per_account = 2"))
    assert summary["joined"] == 2 and summary["channels_read"] == 5
    assert len(world.members["main"]) == 2
    world.fail("main", "JoinChannelRequest", errors.ChannelsTooMuchError(request=None))
    summary = once(make_monitor(FAST + "\njoin = true\nmax_joined_per_account = 4"))
    assert summary["joined"] == 0 and summary["join_refused"] == 1
    assert world.called("main")["JoinChannelRequest"] == 3  # two, then one refused, then none
    with store.session() as session:
        assert sum(session.scalars(select(TelegramPeer.joined))) == 2


def test_secrets_never_reach_logs_events_or_states(store, world, clock, make_monitor, caplog):
    setup_channels(store, world, count=3)
    secret = "0123456789abcdef0123456789abcdef"
    caplog.set_level("DEBUG")
    config = FAST + f'\napi_id = 12345\napi_hash = "{secret}"'
    world.fail("alpha", "GetHistoryRequest", errors.FloodWaitError(request=None, capture=60))
    world.fail("beta", "GetStateRequest", errors.AuthKeyDuplicatedError(request=None))
    once(make_monitor(config, accounts=TWO))
    with store.session() as session:
        texts = [str(e.payload) for e in session.scalars(select(Event))]
        texts += [f"{a.stop_reason} {a.last_error}" for a in session.scalars(select(TelegramAccountState))]
    assert secret not in caplog.text and not any(secret in text for text in texts)


def test_status_overview_per_account(store, world, clock, make_monitor):
    from monitors.telegram.status import account_overview

    setup_channels(store, world, count=6)
    world.fail("beta", "GetHistoryRequest", errors.FloodWaitError(request=None, capture=30))
    once(make_monitor(FAST, accounts=TWO))
    rows = {row["account"]: row for row in account_overview(store, clock(), timedelta(minutes=15))}
    assert rows["alpha"]["state"] == "active" and rows["alpha"]["overdue"] == 0
    assert rows["alpha"]["channels"] + rows["beta"]["channels"] == 6
    assert rows["beta"]["state"] == "paused" and rows["beta"]["flood_waits"] == 1
    assert rows["beta"]["overdue"] == rows["beta"]["channels"]  # never read: overdue
    clock.advance(hours=1)
    rows = {row["account"]: row for row in account_overview(store, clock(), timedelta(minutes=15))}
    assert rows["alpha"]["overdue"] == rows["alpha"]["channels"]


def test_a_stopped_account_is_tried_once_at_the_next_start(store, world, make_monitor):
    setup_channels(store, world, count=4)
    world.fail("alpha", "GetStateRequest", errors.AuthKeyUnregisteredError(request=None))
    once(make_monitor(FAST, accounts=TWO))
    assert account(store, "alpha").state == "stopped"
    # The operator signed in again (`kyran telegram login`) and restarts the daemon.
    monitor = make_monitor(FAST, accounts=TWO)

    async def scenario():
        stop = asyncio.Event()
        task = asyncio.create_task(monitor.run(stop))
        for _ in range(3000):
            if account(store, "alpha").state == "active":
                break
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(task, timeout=10)

    asyncio.run(scenario())
    assert account(store, "alpha").state == "active"
    with store.session() as session:
        assert session.scalars(select(Event.action).where(
            Event.action == "telegram.account_active")).all() == ["telegram.account_active"]
