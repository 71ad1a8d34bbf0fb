"""The Telegram monitor: reads the watched channels over MTProto with one or more accounts and
feeds every message through the processing chain.

- Each account gets its share of the channels (`accounts.owner`); a channel it has never
  reached is resolved once, through its token bucket, and its access hash kept in the store.
- Joined channels (`telegram.join`) get live updates, stored at once; after a (re)connect, or
  when updates were lost, each is backfilled from its crawl cursor. Joined channels are also read
  from their cursors every fourth poll interval (an hour at least), in case an update never
  came.
- The other channels are polled from their cursors, oldest-due first, every `poll_interval`.
- Metadata is refreshed every `metadata_refresh`.
- A flood wait pauses that account (plus jitter); a dead session stops it (never a reconnect
  loop); a lost connection is retried with bounded backoff. The other accounts go on.

The chain is synchronous: it runs, with every other store write of the monitor, on one worker
thread, so the event loop (and live updates) never wait on the database.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.exc import SQLAlchemyError
from telethon import errors
from telethon.tl import functions

from crawler.config_base import parse_interval
from monitors.telegram import ledger
from monitors.telegram.accounts import fatal_reason, owner, usable
from monitors.telegram.ledger import AccountRow, Channel
from monitors.telegram.limits import AccountLimits, system_clock
from monitors.telegram.live import account_loop
from monitors.telegram.reader import AccountReader, Deferred
from pipelines.chain import StoreUnavailable

log = logging.getLogger(__name__)

FLOOD_DEFAULT = 60  # seconds paused on a flood error that names no wait
# Joined channels are also read from their cursors every 4 poll intervals, at least an hour
# apart, in case an update never came.
JOINED_SWEEP = 4
JOINED_SWEEP_MIN = timedelta(hours=1)


# The counts run_once always reports.
SUMMARY = ("resolved", "joined", "channels_read", "messages_read", "metadata_refreshed",
           "channels_gone", "renames", "flood_waits", "accounts_stopped", "accounts_paused",
           "deferred", "errors", "channel_errors", "connection_errors", "store_errors")


class _Account:
    """One account's live state in this process."""

    def __init__(self, name: str, boundary, reader: AccountReader) -> None:
        self.name = name
        self.boundary = boundary
        self.reader = reader
        self.backfill: set[int] = set()  # source ids of joined channels to read from cursor
        self.wake = asyncio.Event()
        self.lost = False  # the connection dropped (seen by the updates stream)
        self.listener: asyncio.Task | None = None
        self.tried = False  # connected (or tried to) since this monitor started
        self.backoff = 1.0


class TelegramMonitor:
    def __init__(self, config, store, chain, captures, boundaries: dict, clock=None) -> None:
        self.config = config
        self.tg = config.telegram
        self.store = store
        self.chain = chain
        self.captures = captures
        self.clock = clock or system_clock
        self.random = random.Random()
        self.poll_every = timedelta(seconds=parse_interval(self.tg.poll_interval))
        self.refresh_every = timedelta(seconds=parse_interval(self.tg.metadata_refresh))
        self.accounts: dict[str, _Account] = {}
        for name, boundary in boundaries.items():
            settings = self.tg.accounts.get(name)
            if settings is not None and not settings.enabled:
                continue
            limits = AccountLimits(self.tg.history_per_minute, self.tg.resolve_per_hour,
                                   self.clock)
            reader = AccountReader(name, boundary, self.tg, limits, self.clock, self,
                                   captures)
            self.accounts[name] = _Account(name, boundary, reader)
        self.states: dict[str, AccountRow] = {}
        self.channels: list[Channel] = []
        self.stats: Counter[str] = Counter()
        self._executor: ThreadPoolExecutor | None = None
        self._stop: asyncio.Event | None = None
        self._replayed = False

    # -- the sink the readers write through ------------------------------------------------

    async def db(self, fn, *args, **kwargs):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, partial(fn, self.store, *args,
                                                                  **kwargs))

    async def process(self, items: list, build=None, after: list = ()) -> None:
        """Items through the chain on the store thread; `build()` makes more there first (the
        posts, whose captures are written with one fsync for the batch, before the chain indexes
        them), and `after` (a checkpoint) follows them."""
        if items or build is not None or after:
            await asyncio.get_running_loop().run_in_executor(
                self._executor, self._process_now, items, build, list(after))

    def _process_now(self, items: list, build, after: list) -> None:
        if build is not None:
            fsync, self.captures.fsync = self.captures.fsync, False
            try:
                built = build()
            finally:
                self.captures.fsync = fsync
            if fsync and built:
                self.captures.sync()
            items = items + built
        self.chain.process(items + after)

    async def pause(self, seconds: float) -> bool:
        """Wait for a token (run) or give up (run_once): True when the wait was done."""
        if self._stop is None or self._stop.is_set():
            return False
        try:
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)
            return False
        except asyncio.TimeoutError:
            return True

    # -- entry points -----------------------------------------------------------------------

    async def run_once(self) -> dict:
        """One pass: connect, backfill/poll every due channel, refresh due metadata, disconnect
        what this pass connected. Returns counts."""
        counts: Counter[str] = Counter(dict.fromkeys(SUMMARY, 0))
        stored_before = self.chain.stats["posts/new"]
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="kyran-telegram-store")
        try:
            await self._load_states()
            opened = [account for account in self.accounts.values()
                      if not account.boundary.is_connected()]
            self.channels = await self.db(ledger.load_channels)
            await asyncio.gather(*(self.connect(account, counts)
                                   for account in self.accounts.values()))
            await asyncio.gather(*(self._pass_once(account, counts)
                                   for account in self.accounts.values()))
            for account in opened:
                if account.boundary.is_connected():
                    await account.boundary.disconnect()
        finally:
            self._executor.shutdown(wait=True)
            self._executor = None
        counts["posts_new"] = self.chain.stats["posts/new"] - stored_before
        counts["accounts"] = len(self.accounts)
        counts["channels"] = len(self.channels)
        counts["accounts_active"] = sum(1 for name in self.accounts
                                        if self.states[name].state == "active")
        return dict(counts)

    async def _pass_once(self, account: _Account, counts: Counter) -> None:
        try:
            await self.pass_(account, counts)
        except (ConnectionError, OSError) as exc:  # the others go on; the next pass resumes
            counts["connection_errors"] += 1
            await self.db(ledger.account_error, account.name,
                          f"connection lost: {type(exc).__name__}: {exc}", self.clock())

    async def run(self, stop: asyncio.Event) -> None:
        """Watch until `stop` is set: live updates, polling and metadata on schedule."""
        self._stop = stop
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="kyran-telegram-store")
        try:
            await self._load_states()
            self.channels = await self.db(ledger.load_channels)
            tasks = [asyncio.create_task(account_loop(self, account, stop),
                                         name=f"telegram-{account.name}")
                     for account in self.accounts.values()]
            await stop.wait()
            for account in self.accounts.values():
                account.wake.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            for account in self.accounts.values():
                if account.boundary.is_connected():
                    await account.boundary.disconnect()
        finally:
            self._executor.shutdown(wait=True)
            self._executor = None
            self._stop = None

    def resolver(self):
        """An async `resolver(name) -> Check` for liveness, through the active accounts' resolve
        buckets (shared with the monitor's own resolving)."""
        from monitors.telegram.resolver import make_resolver

        return make_resolver(list(self.accounts.values()), lambda: [
            name for name, row in self.states.items() if row.state == "active"])

    # -- accounts ---------------------------------------------------------------------------

    async def _load_states(self) -> None:
        now = self.clock()
        self.states = await self.db(ledger.load_accounts, sorted(self.accounts), now)
        if not self._replayed:
            self._replayed = True
            for account in self.accounts.values():
                resolved, polled = await self.db(ledger.recent_calls, account.name,
                                                 now - timedelta(hours=1))
                account.reader.limits.resolve.replay(resolved)
                account.reader.limits.history.replay(polled)

    async def connect(self, account: _Account, counts: Counter) -> bool:
        """Connect and check the session with a cheap call; False when it cannot be used.
        A paused account asks nothing until its pause is over."""
        row = self.states[account.name]
        if row.state == "paused" and row.paused_until and row.paused_until > self.clock():
            return False
        try:
            if not account.boundary.is_connected():
                await account.boundary.connect()
            await account.boundary.call(functions.updates.GetStateRequest())
        except (ConnectionError, OSError) as exc:
            counts["connection_errors"] += 1
            await self.db(ledger.account_error, account.name,
                          f"cannot connect: {type(exc).__name__}: {exc}", self.clock())
            return False
        except errors.RPCError as exc:
            return await self._account_error(account, exc, counts)
        await self._ok(account)
        account.backfill = self.joined(account)
        return True

    async def _ok(self, account: _Account) -> None:
        row = self.states[account.name]
        await self.db(ledger.account_ok, account.name, self.clock())
        row.state, row.paused_until = "active", None

    async def _account_error(self, account: _Account, exc: BaseException,
                             counts: Counter) -> bool:
        """A flood wait pauses the account; a dead session stops it; others are recorded."""
        now = self.clock()
        row = self.states[account.name]
        if isinstance(exc, errors.FloodError):  # FloodWaitError, FloodPremiumWaitError …
            seconds = int(getattr(exc, "seconds", None) or FLOOD_DEFAULT)
            until = now + timedelta(seconds=seconds + self.random.uniform(
                0, self.tg.flood_wait_jitter))
            log.warning("telegram account %s: flood wait of %d s; paused until %s",
                        account.name, seconds, until.isoformat(timespec="seconds"))
            await self.db(ledger.pause_account, account.name, seconds, until,
                          _request_name(exc), now)
            row.state, row.paused_until = "paused", until
            counts["flood_waits"] += 1
            self.stats["flood_wait_seconds"] += seconds
            return False
        reason = fatal_reason(exc)
        if reason is not None:
            log.error("telegram account %s stopped: %s", account.name, reason)
            await self.db(ledger.stop_account, account.name, reason, now)
            row.state, row.stop_reason = "stopped", reason
            counts["accounts_stopped"] += 1
            if account.boundary.is_connected():
                await account.boundary.disconnect()
            return False
        await self.db(ledger.account_error, account.name, f"{type(exc).__name__}: {exc}", now)
        counts["errors"] += 1
        return True

    def _usable(self) -> list[str]:
        return usable(self.states, self.clock(), self.poll_every)

    def _mine(self, account: _Account) -> list[Channel]:
        names = self._usable()
        return [c for c in self.channels if owner(c.source_id, names) == account.name]

    def joined(self, account: _Account) -> set[int]:
        """Source ids of this account's joined channels (backfilled after a gap)."""
        return {c.source_id for c in self._mine(account)
                if c.peers.get(account.name) and c.peers[account.name].joined}

    # -- one pass of one account ----------------------------------------------------------

    def _due(self, account: _Account, now: datetime) -> list[Channel]:
        due = []
        for channel in self._mine(account):
            peer = channel.peers.get(account.name)
            if peer is None or channel.channel_id is None:
                continue
            every = max(self.poll_every * JOINED_SWEEP, JOINED_SWEEP_MIN) if peer.joined else (
                self.poll_every)
            if (channel.source_id in account.backfill or peer.last_polled is None
                    or peer.last_polled + every <= now):
                due.append(channel)
        epoch = datetime.min.replace(tzinfo=now.tzinfo)
        return sorted(due, key=lambda c: (c.source_id not in account.backfill,
                                          c.peers[account.name].last_polled or epoch))

    async def pass_(self, account: _Account, counts: Counter) -> None:
        """Everything due for this account, until done, out of tokens, or stopped."""
        row = self.states[account.name]
        now = self.clock()
        if row.state == "paused" and row.paused_until and row.paused_until > now:
            counts["accounts_paused"] += 1
            return
        if row.state == "stopped" or not account.boundary.is_connected():
            return
        reader = account.reader
        try:
            mine = self._mine(account)
            try:  # resolving has its own bucket: running out of it stops only resolving
                for channel in mine:
                    if (account.name not in channel.peers and channel.handle
                            and not self.stopping()):
                        await reader.guarded(channel, reader.resolve, counts)
            except Deferred:
                counts["deferred"] += 1
            if self.tg.join and not reader.join_refused:
                joined = sum(1 for c in self.channels
                             if c.peers.get(account.name) and c.peers[account.name].joined)
                for channel in mine:
                    peer = channel.peers.get(account.name)
                    if (joined >= self.tg.max_joined_per_account or self.stopping()
                            or reader.join_refused):
                        break
                    if peer and not peer.joined and channel.channel_id is not None:
                        await reader.guarded(channel, reader.join, counts)
                        joined += peer.joined
                        if peer.joined:
                            account.backfill.add(channel.source_id)
            for channel in self._due(account, now):
                if self.stopping():
                    break
                await reader.guarded(channel, reader.read, counts)
                account.backfill.discard(channel.source_id)
            for channel in self._mine(account):
                if self.stopping():
                    break
                if (channel.channel_id is not None and account.name in channel.peers and (
                        channel.metadata_refreshed_at is None
                        or channel.metadata_refreshed_at + self.refresh_every <= now)):
                    await reader.guarded(channel, reader.refresh, counts)
            await self._ok(account)
        except Deferred:
            counts["deferred"] += 1
        except (StoreUnavailable, SQLAlchemyError) as exc:
            log.error("telegram account %s: the store failed (%s); its pass ends here",
                      account.name, str(exc).splitlines()[0][:300])
            counts["store_errors"] += 1
            account.backfill |= self.joined(account)
        except errors.RPCError as exc:
            await self._account_error(account, exc, counts)

    def stopping(self) -> bool:
        return self._stop is not None and self._stop.is_set()


def _request_name(exc: errors.RPCError) -> str:
    request = getattr(exc, "request", None)
    return type(request).__name__ if request is not None else "a request"
