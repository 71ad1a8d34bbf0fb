"""A simulated Telegram behind the monitor's client boundary: channels with messages, accounts
with their own access hashes, live updates to the accounts that joined, and Telegram's real
errors. Every answer is a real Telethon TL object, every error a real Telethon error, so the
monitor's own code runs as it does against Telegram."""

from __future__ import annotations

import asyncio
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from telethon import errors
from telethon.tl import types
from telethon.tl.types import messages as tl_messages
from telethon.tl.types import updates as tl_updates

EPOCH = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


def url_button(text: str, url: str):
    """A URL button in whichever layer the installed Telethon speaks."""
    if hasattr(types, "KeyboardButtonUrl"):
        return types.KeyboardButtonUrl(text, url)
    return types.KeyboardButton(text, types.InlineButtonTypeUrl(url))


class Clock:
    """The injected clock: time moves only when a test says so."""

    def __init__(self, now: datetime = EPOCH) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@dataclass
class FakeChannel:
    id: int
    username: str | None
    title: str
    about: str = ""
    participants: int = 1000
    messages: dict[int, types.Message] = field(default_factory=dict)
    state: str = "ok"  # ok | private | deleted | banned
    restriction: list[types.RestrictionReason] = field(default_factory=list)
    linked_chat_id: int | None = None
    pinned: int | None = None
    next_id: int = 1

    def tl(self, account: str) -> types.Channel:
        return types.Channel(
            id=self.id, title=self.title, photo=types.ChatPhotoEmpty(), date=EPOCH,
            access_hash=access_hash(account, self.id), username=self.username, broadcast=True,
            restricted=bool(self.restriction) or None,
            restriction_reason=list(self.restriction) or None)


def access_hash(account: str, channel_id: int) -> int:
    """Access hashes are per account, as Telegram's are."""
    return zlib.crc32(f"{account}/{channel_id}".encode()) * 7919 + 1


class FakeTelegram:
    """The world every fake account talks to."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.channels: dict[int, FakeChannel] = {}
        self.bots: dict[str, int] = {}
        self.calls: list[tuple[str, str]] = []  # (account, request name)
        self.failures: dict[tuple[str, str], list[Exception]] = {}  # (account, request) → errors
        self.boundaries: dict[str, FakeBoundary] = {}
        self.members: dict[str, set[int]] = {}

    def channel(self, channel_id: int, username: str | None, title: str = "",
                **fields) -> FakeChannel:
        made = FakeChannel(channel_id, username, title or (username or str(channel_id)),
                           **fields)
        self.channels[channel_id] = made
        return made

    def boundary(self, account: str) -> FakeBoundary:
        made = FakeBoundary(self, account)
        self.boundaries[account] = made
        self.members.setdefault(account, set())
        return made

    def fail(self, account: str, request: str, *failures: Exception) -> None:
        """The next calls of `request` by `account` raise these errors, in order."""
        self.failures.setdefault((account, request), []).extend(failures)

    def called(self, account: str | None = None) -> Counter:
        return Counter(name for who, name in self.calls if account in (None, who))

    def post(self, channel: FakeChannel, text: str = "", *, live: bool = True,
             **fields) -> types.Message:
        """A new message in `channel`; accounts that joined it get it as an update."""
        message = types.Message(id=channel.next_id, peer_id=types.PeerChannel(channel.id),
                                date=self.clock(), message=text, post=True,
                                views=fields.pop("views", 10), **fields)
        channel.next_id += 1
        channel.messages[message.id] = message
        if live:
            self._push(channel, types.UpdateNewChannelMessage(message, pts=message.id,
                                                              pts_count=1))
        return message

    def edit(self, channel: FakeChannel, message_id: int, text: str) -> types.Message:
        old = channel.messages[message_id]
        message = types.Message(id=old.id, peer_id=old.peer_id, date=old.date, message=text,
                                post=True, views=old.views, edit_date=self.clock())
        channel.messages[message_id] = message
        self._push(channel, types.UpdateEditChannelMessage(message, pts=message.id,
                                                           pts_count=1))
        return message

    def _push(self, channel: FakeChannel, update) -> None:
        for account, boundary in self.boundaries.items():
            if channel.id in self.members[account] and boundary.is_connected():
                boundary.queue.put_nowait((update, [channel.tl(account)]))

    # -- requests -------------------------------------------------------------------------

    def answer(self, account: str, request):
        name = type(request).__name__
        self.calls.append((account, name))
        pending = self.failures.get((account, name))
        if pending:
            raise pending.pop(0)
        handler = getattr(self, f"_{name}", None)
        if handler is None:
            raise NotImplementedError(f"the fake Telegram does not answer {name}")
        return handler(account, request)

    def _GetStateRequest(self, account, request):
        return tl_updates.State(pts=1, qts=0, date=self.clock(), seq=0, unread_count=0)

    def _ResolveUsernameRequest(self, account, request):
        wanted = request.username.lower()
        if wanted in self.bots:
            user = types.User(id=self.bots[wanted], bot=True, username=request.username,
                              access_hash=access_hash(account, self.bots[wanted]))
            return types.contacts.ResolvedPeer(peer=types.PeerUser(user.id), chats=[],
                                               users=[user])
        for channel in self.channels.values():
            if (channel.username or "").lower() == wanted:
                self._reachable(channel, request)
                return types.contacts.ResolvedPeer(peer=types.PeerChannel(channel.id),
                                                   chats=[channel.tl(account)], users=[])
        raise errors.UsernameNotOccupiedError(request=request)

    def _channel_for(self, account: str, peer, request) -> FakeChannel:
        channel = self.channels.get(peer.channel_id)
        if channel is None or peer.access_hash != access_hash(account, peer.channel_id):
            raise errors.ChannelInvalidError(request=request)
        self._reachable(channel, request)
        return channel

    @staticmethod
    def _reachable(channel: FakeChannel, request) -> None:
        if channel.state == "private":
            raise errors.ChannelPrivateError(request=request)
        if channel.state == "deleted":
            raise errors.ChannelInvalidError(request=request)

    def _GetHistoryRequest(self, account, request):
        channel = self._channel_for(account, request.peer, request)
        newest_first = sorted(channel.messages.values(), key=lambda m: -m.id)
        start = 0
        if request.offset_id:
            start = next((i for i, m in enumerate(newest_first) if m.id < request.offset_id),
                         len(newest_first))
        start += request.add_offset
        window = newest_first[max(start, 0):max(start + request.limit, 0)]
        window = [m for m in window if m.id > request.min_id
                  and (not request.max_id or m.id < request.max_id)]
        chats = [channel.tl(account)] + [
            self.channels[m.fwd_from.from_id.channel_id].tl(account) for m in window
            if m.fwd_from is not None and isinstance(m.fwd_from.from_id, types.PeerChannel)
            and m.fwd_from.from_id.channel_id in self.channels]
        return tl_messages.ChannelMessages(pts=1, count=len(newest_first), messages=window,
                                           topics=[], chats=chats, users=[])

    def _GetFullChannelRequest(self, account, request):
        channel = self._channel_for(account, request.channel, request)
        full = types.ChannelFull(
            id=channel.id, about=channel.about, read_inbox_max_id=0, read_outbox_max_id=0,
            unread_count=0, chat_photo=types.PhotoEmpty(id=0),
            notify_settings=types.PeerNotifySettings(), bot_info=[], pts=1,
            participants_count=channel.participants, linked_chat_id=channel.linked_chat_id,
            pinned_msg_id=channel.pinned)
        return tl_messages.ChatFull(full_chat=full, chats=[channel.tl(account)], users=[])

    def _JoinChannelRequest(self, account, request):
        channel = self._channel_for(account, request.channel, request)
        self.members[account].add(channel.id)
        return types.Updates(updates=[], users=[], chats=[channel.tl(account)],
                             date=self.clock(), seq=0)


class FakeBoundary:
    """One account's connection to the fake Telegram (the monitor's Boundary)."""

    def __init__(self, world: FakeTelegram, account: str) -> None:
        self.world = world
        self.account = account
        self.connected = False
        self.unreachable = False  # connect() fails while set
        self.connects = 0
        self.latency = 0.0  # seconds each call takes
        self.queue: asyncio.Queue = asyncio.Queue()

    async def connect(self) -> None:
        self.connects += 1
        if self.unreachable:
            raise ConnectionError("Connection to Telegram failed 5 time(s)")
        self.connected = True
        self.queue = asyncio.Queue()  # updates sent while away are not delivered

    async def disconnect(self) -> None:
        self.connected = False
        self.queue.put_nowait(None)

    def is_connected(self) -> bool:
        return self.connected

    def drop(self) -> None:
        """The network goes away: the stream and every call fail until a reconnect."""
        self.connected = False
        self.queue.put_nowait(ConnectionError("connection reset by peer"))

    async def call(self, request):
        if not self.connected:
            raise ConnectionError("not connected to Telegram")
        await asyncio.sleep(self.latency)  # a real round trip yields to the loop
        return self.world.answer(self.account, request)

    async def updates(self):
        queue = self.queue
        while True:
            item = await queue.get()
            if item is None:
                return
            if isinstance(item, Exception):
                raise item
            yield item
