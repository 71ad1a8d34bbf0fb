"""Live updates of joined channels: each new or edited message is stored at once (it does not
move the crawl cursor: polling and backfill do). A lost connection or lost updates make the
account backfill its joined channels from their cursors."""

from __future__ import annotations

import logging
from functools import partial

from telethon.tl import types

from monitors.telegram.convert import channel_username, is_post, post_items
from pipelines.chain import StoreUnavailable

log = logging.getLogger(__name__)


async def listen(monitor, account) -> None:
    """Consume one account's update stream until it ends or the connection drops."""
    try:
        async for update, chats in account.boundary.updates():
            if update is None:  # updates were lost: backfill the joined channels
                account.backfill |= monitor.joined(account)
                account.wake.set()
                continue
            try:
                await handle_update(monitor, update, chats)
            except StoreUnavailable:
                raise
            except Exception:  # one odd message never ends the stream; polling rereads it
                log.exception("telegram account %s: a live update could not be handled",
                              account.name)
                monitor.stats["live_errors"] += 1
    except (ConnectionError, OSError):
        account.lost = True
        monitor.stats["disconnects"] += 1
        account.wake.set()
    except StoreUnavailable as exc:
        log.error("telegram account %s: live update not stored: %s", account.name, exc)
        account.lost = True  # reconnecting backfills what was missed
        account.wake.set()


async def handle_update(monitor, update, chats: list) -> None:
    if not isinstance(update, (types.UpdateNewChannelMessage, types.UpdateEditChannelMessage)):
        return
    message = update.message
    channel_id = getattr(message.peer_id, "channel_id", None)
    channel = next((c for c in monitor.channels if c.channel_id == channel_id), None)
    if channel is None or not is_post(message):
        monitor.stats["live_ignored"] += 1
        return
    by_id = {chat.id: chat for chat in chats}
    chat = by_id.get(channel_id)
    username = channel_username(chat) if chat is not None else (
        channel.handle if channel.handle and not channel.handle.isdigit() else None)
    await monitor.process([], build=partial(post_items, [message], channel_id, username, by_id,
                                            monitor.captures))
    monitor.stats["live_messages"] += 1
