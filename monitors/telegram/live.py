"""The long-lived side of the monitor: one loop per account (connect, with bounded backoff; a
pass of what is due; sleep until the next is due or something happens) and its stream of live
updates. Each new or edited message of a joined channel is stored at once (it does not move the
crawl cursor: polling and backfill do). A lost connection or lost updates make the account
backfill its joined channels from their cursors. A stopped account's loop ends: a dead session
is never retried in a loop."""

from __future__ import annotations

import asyncio
import logging
from functools import partial

from telethon.tl import types

from monitors.telegram import ledger
from monitors.telegram.convert import channel_username, is_post, post_items
from pipelines.chain import StoreUnavailable

log = logging.getLogger(__name__)

MAX_BACKOFF = 300.0  # seconds between reconnection attempts at most
TICK = 30.0  # seconds between an account's passes at most (a pass does only what is due)


async def account_loop(monitor, account, stop: asyncio.Event) -> None:
    try:
        while not stop.is_set():
            try:
                if not await _step(monitor, account, stop):
                    return
            except Exception:  # never let one account's task die in silence
                log.exception("telegram account %s: its pass failed; retrying in %.0f s",
                              account.name, account.backoff)
                monitor.stats["pass_errors"] += 1
                await _sleep(account, stop, account.backoff)
                account.backoff = min(account.backoff * 2, MAX_BACKOFF)
    finally:
        if account.listener is not None:
            account.listener.cancel()


async def _step(monitor, account, stop: asyncio.Event) -> bool:
    """One round of the loop; False when the account is stopped for good."""
    counts = monitor.stats
    if monitor.states[account.name].state == "stopped" and account.tried:
        return False  # a stopped account is tried once a start (a new login may have fixed it)
    account.tried = True
    if account.lost or not account.boundary.is_connected() or (
            monitor.states[account.name].state == "stopped"):
        if account.listener is not None:
            account.listener.cancel()
            account.listener = None
        account.lost = False
        if not await monitor.connect(account, counts):
            if monitor.states[account.name].state == "stopped":
                return False
            await _sleep(account, stop, _next_wait(monitor, account, account.backoff))
            account.backoff = min(account.backoff * 2, MAX_BACKOFF)
            return True
        account.backoff = 1.0
    if account.listener is None or account.listener.done():
        account.listener = asyncio.create_task(listen(monitor, account))
    try:
        monitor.channels = await monitor.db(ledger.load_channels)
        await monitor.pass_(account, counts)
    except (ConnectionError, OSError) as exc:
        account.lost = True
        counts["disconnects"] += 1
        await monitor.db(ledger.account_error, account.name,
                         f"connection lost: {type(exc).__name__}: {exc}", monitor.clock())
        return True
    await _sleep(account, stop, _next_wait(monitor, account, TICK))
    return True


def _next_wait(monitor, account, default: float) -> float:
    row = monitor.states[account.name]
    if row.state == "paused" and row.paused_until:
        return max(0.0, (row.paused_until - monitor.clock()).total_seconds())
    return 0.0 if account.backfill and default == TICK else default


async def _sleep(account, stop: asyncio.Event, seconds: float) -> None:
    account.wake.clear()
    if stop.is_set() or seconds <= 0:
        return
    try:
        await asyncio.wait_for(account.wake.wait(), timeout=seconds)
    except asyncio.TimeoutError:
        pass


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
