"""The real boundary over a real (never connected) `TelegramClient`: raw updates are queued in
order with their chats, an overflow says updates were lost (so the monitor backfills), and a
request on a disconnected client is a ConnectionError, which the monitor reconnects from."""

import asyncio

import pytest
from telethon import TelegramClient
from telethon.sessions import StringSession
from telethon.tl import functions, types

from monitors.telegram import TelethonBoundary


def update(message_id):
    message = types.Message(id=message_id, peer_id=types.PeerChannel(42), message="x")
    raw = types.UpdateNewChannelMessage(message, pts=message_id, pts_count=1)
    raw._entities = {42: types.Channel(id=42, title="t", photo=types.ChatPhotoEmpty(), date=None),
                     7: types.User(id=7)}
    return raw


def test_updates_are_queued_and_an_overflow_is_reported():
    async def scenario():
        client = TelegramClient(StringSession(), 1, "0" * 32)
        boundary = TelethonBoundary(client, queue_size=2)
        ((handler, _event),) = client.list_event_handlers()
        for message_id in (1, 2, 3):  # the third does not fit
            await handler(update(message_id))
        stream = boundary.updates()
        got = [await anext(stream) for _ in range(3)]
        assert got[0] == (None, [])  # lost updates: the monitor backfills
        assert [u.message.id for u, _ in got[1:]] == [1, 2]
        assert [c.id for c in got[1][1]] == [42]  # chats only, not users
        assert not boundary.is_connected()
        with pytest.raises(ConnectionError):
            await boundary.call(functions.updates.GetStateRequest())

    asyncio.run(scenario())


def test_a_connection_seen_down_then_up_is_reported_as_lost_updates():
    async def scenario():
        client = TelegramClient(StringSession(), 1, "0" * 32)
        boundary = TelethonBoundary(client, check_every=0.01)
        stream = boundary.updates()
        pending = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0.05)  # the client is down (never connected here)
        assert not pending.done()
        client.is_connected = lambda: True  # Telethon reconnected by itself
        assert await asyncio.wait_for(pending, timeout=5) == (None, [])
        pending = asyncio.ensure_future(anext(stream))
        ((handler, _event),) = client.list_event_handlers()
        await handler(update(9))
        got, _ = await asyncio.wait_for(pending, timeout=5)
        assert got.message.id == 9

    asyncio.run(scenario())
