"""What one account does with one channel over MTProto: resolve its username (only when this
account has never reached it), join it, read its history from the crawl cursor, refresh its
metadata. Each request first takes a token from the account's bucket. Messages go to the chain
as PostItems, with a CrawlCheckpoint after each complete page read upwards from the cursor.

History is read the way Telethon's `iter_messages(reverse=True, min_id=cursor)` does it:
`offset_id = cursor + 1`, `add_offset = -limit`, so a capped read (`backfill_max_messages`)
still moves the cursor forward and the next visit goes on from there, nothing skipped. A channel
never read is read newest first, up to the cap, and its cursor set to the newest message."""

from __future__ import annotations

from collections import Counter
from functools import partial

from telethon import errors
from telethon.tl import functions, types

from crawler.config_telegram import TelegramConfig
from crawler.items import CrawlCheckpoint
from monitors.telegram import ledger
from monitors.telegram.accounts import FATAL, gone_status
from monitors.telegram.convert import (
    channel_item,
    channel_username,
    is_post,
    post_items,
    restriction_text,
)
from monitors.telegram.ledger import Channel, Peer
from monitors.telegram.limits import AccountLimits, Clock

PAGE = 100  # GetHistory returns at most 100 messages


class Deferred(Exception):
    """The account's bucket has no token now: what is left waits for the next pass."""


class AccountReader:
    def __init__(self, name: str, boundary, config: TelegramConfig, limits: AccountLimits,
                 clock: Clock, sink, captures) -> None:
        self.name = name
        self.boundary = boundary
        self.config = config
        self.limits = limits
        self.clock = clock
        # async process(items), db(fn, *args), pause(seconds) -> bool, stopping() -> bool
        self.sink = sink
        self.captures = captures
        self.join_refused = False

    async def _call(self, bucket, request, wait_for_token: bool = True):
        wait = bucket.wait()
        if wait > 0 and (not wait_for_token or not await self.sink.pause(wait)):
            raise Deferred(type(request).__name__)
        if not bucket.take():
            raise Deferred(type(request).__name__)
        return await self.boundary.call(request)

    async def guarded(self, channel: Channel, work, counts: Counter) -> None:
        """Run `work(channel, counts)`; a channel's own error marks the channel (gone) or is
        counted, and the account goes on. Account-wide errors (flood wait, a dead session, a
        lost connection, no token) are raised."""
        if channel.gone:
            return
        try:
            await work(channel, counts)
        except errors.RPCError as exc:
            if isinstance(exc, (errors.FloodError, *FATAL)):
                raise
            if (isinstance(exc, errors.ChannelInvalidError) and work != self.resolve
                    and channel.handle and self.name in channel.peers):
                # Deleted, or a stored access hash this session cannot use (the account was
                # signed in again as another user): resolve once more before calling it gone.
                channel.gone = True  # for the rest of this pass
                channel.peers.pop(self.name)
                counts["peers_dropped"] += 1
                await self.sink.db(ledger.drop_peer, channel.source_id, self.name)
                return
            gone = gone_status(exc)
            if gone is not None:
                channel.gone = True
                counts["channels_gone"] += 1
                await self.sink.db(ledger.mark_gone, channel.source_id, gone[0], gone[1],
                                   f"{type(exc).__name__}: {exc}", self.clock(), self.name)
                return
            counts["channel_errors"] += 1
            await self.sink.db(ledger.account_error, self.name,
                               f"{channel.handle or channel.channel_id}: "
                               f"{type(exc).__name__}: {exc}", self.clock())

    async def resolve(self, channel: Channel, counts: Counter) -> None:
        # Never wait minutes for a resolve token: the account polls meanwhile.
        result = await self._call(self.limits.resolve,
                                  functions.contacts.ResolveUsernameRequest(channel.handle),
                                  wait_for_token=False)
        counts["resolved"] += 1
        if not isinstance(result.peer, types.PeerChannel):
            user = next((u for u in result.users if u.id == getattr(result.peer, "user_id", 0)),
                        None)
            kind = "bot" if getattr(user, "bot", False) else "user"
            await self.sink.db(ledger.set_kind, channel.source_id, kind)
            return
        chat = next(c for c in result.chats if c.id == result.peer.channel_id)
        if isinstance(chat, types.ChannelForbidden):
            raise errors.ChannelPrivateError(request=None)
        await self.sink.process([channel_item(chat)])
        now = self.clock()
        source_id = await self.sink.db(ledger.save_peer, chat.id, self.name, chat.access_hash,
                                       now)
        if source_id is None:
            return
        channel.source_id, channel.channel_id = source_id, chat.id
        channel.handle = (channel_username(chat) or str(chat.id)).lower()
        channel.peers[self.name] = Peer(chat.access_hash, False, None)
        await self._restricted(channel, chat, counts)

    async def _restricted(self, channel: Channel, chat, counts: Counter) -> bool:
        reason = restriction_text(chat)
        if reason and not channel.gone:
            channel.gone = True
            counts["channels_gone"] += 1
            await self.sink.db(ledger.mark_gone, channel.source_id, "blocked", "restricted",
                               reason, self.clock(), self.name)
        return bool(reason)

    def _input_channel(self, channel: Channel) -> types.InputChannel:
        return types.InputChannel(channel.channel_id, channel.peers[self.name].access_hash)

    async def join(self, channel: Channel, counts: Counter) -> None:
        try:
            await self._call(self.limits.history,
                             functions.channels.JoinChannelRequest(self._input_channel(channel)))
        except errors.ChannelsTooMuchError:
            self.join_refused = True  # Telegram's own cap: the rest are polled
            counts["join_refused"] += 1
            return
        channel.peers[self.name].joined = True
        counts["joined"] += 1
        await self.sink.db(ledger.mark_peer, channel.source_id, self.name, joined=True)

    async def read(self, channel: Channel, counts: Counter) -> None:
        """Read the channel's history from its cursor (or newest first on a first visit)."""
        peer = types.InputPeerChannel(channel.channel_id, channel.peers[self.name].access_hash)
        cap = self.config.backfill_max_messages
        read, cursor, newest, offset, stopped = 0, channel.cursor, None, 0, False
        while read < cap:
            if self.sink.stopping():  # finish the page in hand, not the channel
                stopped = True
                break
            limit = min(PAGE, cap - read)
            if cursor is None:
                request = functions.messages.GetHistoryRequest(
                    peer=peer, offset_id=offset, offset_date=None, add_offset=0, limit=limit,
                    max_id=0, min_id=0, hash=0)
            else:
                request = functions.messages.GetHistoryRequest(
                    peer=peer, offset_id=cursor + 1, offset_date=None, add_offset=-limit,
                    limit=limit, max_id=0, min_id=cursor, hash=0)
            result = await self._call(self.limits.history, request)
            messages = [m for m in result.messages
                        if getattr(m, "id", 0) > (cursor or 0) and _in_channel(m, channel)]
            if not messages:
                break
            items, build = self._items(channel, result, messages, counts)
            top = max(m.id for m in messages)
            read += len(messages)
            after = []
            if cursor is not None:  # every message from the cursor up to `top` is in hand
                after.append(CrawlCheckpoint(source_key=str(channel.channel_id), cursor=top))
                cursor = top
            else:
                newest = max(newest or 0, top)
                offset = min(m.id for m in messages)
            await self.sink.process(items, build=build, after=after)
            if len(result.messages) < limit:
                break
        if channel.cursor is None and newest is not None and not stopped:
            await self.sink.process([CrawlCheckpoint(source_key=str(channel.channel_id),
                                                     cursor=newest)])
            cursor = newest
        channel.cursor = cursor
        counts["messages_read"] += read
        if stopped:  # cut short: still due, so the next pass (or start) reads on
            return
        counts["channels_read"] += 1
        now = self.clock()
        channel.peers[self.name].last_polled = now
        await self.sink.db(ledger.mark_peer, channel.source_id, self.name, polled=now)

    def _items(self, channel: Channel, result, messages, counts: Counter):
        """The channel's new name first if it was renamed; and a function that builds the
        posts (writing their captures), which runs on the store thread, off the event loop."""
        chats = {chat.id: chat for chat in getattr(result, "chats", [])}
        chat = chats.get(channel.channel_id)
        items: list = []
        if chat is not None and (channel_username(chat) or str(chat.id)).lower() != channel.handle:
            items.append(channel_item(chat))  # renamed: the store follows the numeric id
            channel.handle = (channel_username(chat) or str(chat.id)).lower()
            counts["renames"] += 1
        posts = sorted((m for m in messages if is_post(m)), key=lambda m: m.id)
        username = channel_username(chat) if chat is not None else None
        if chat is None and channel.handle and not channel.handle.isdigit():
            username = channel.handle
        return items, partial(post_items, posts, channel.channel_id, username, chats,
                              self.captures)

    async def refresh(self, channel: Channel, counts: Counter) -> None:
        """GetFullChannel: title, about, subscribers (through the chain, which follows renames
        by numeric id), linked chat, pinned post, restrictions."""
        result = await self._call(self.limits.history, functions.channels.GetFullChannelRequest(
            self._input_channel(channel)))
        full = result.full_chat
        chat = next(c for c in result.chats if c.id == channel.channel_id)
        if isinstance(chat, types.ChannelForbidden):
            raise errors.ChannelPrivateError(request=None)
        await self.sink.process([channel_item(chat, full)])
        channel.handle = (channel_username(chat) or str(chat.id)).lower()
        restricted = await self._restricted(channel, chat, counts)
        now = self.clock()
        await self.sink.db(ledger.save_metadata, channel.source_id,
                           linked_chat_id=getattr(full, "linked_chat_id", None),
                           pinned_message_id=getattr(full, "pinned_msg_id", None),
                           restriction=restriction_text(chat) if restricted else None, now=now)
        channel.metadata_refreshed_at = now
        counts["metadata_refreshed"] += 1


def _in_channel(message, channel: Channel) -> bool:
    peer = getattr(message, "peer_id", None)
    return getattr(peer, "channel_id", channel.channel_id) == channel.channel_id

