"""The monitor's reads and writes in the store (synchronous; run on the monitor's one store
thread): the channels to watch with each account's persisted peer (numeric id + access hash),
account health (paused, stopped), and what Telegram said about a channel (gone, metadata)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.store.db import Store
from crawler.store.ingest import add_event, set_status
from crawler.store.models import Source
from crawler.store.models_ops import TelegramAccountState, TelegramPeer

ACTOR = "component:telegram-monitor"
# Statuses the monitor no longer reads; the liveness checker notices when one comes back.
NOT_READ = ("gone", "blocked", "private", "merged")


@dataclass(slots=True)
class Peer:
    access_hash: int
    joined: bool
    last_polled: datetime | None


@dataclass(slots=True)
class Channel:
    """A watched channel as the monitor plans with it."""

    source_id: int
    handle: str | None
    channel_id: int | None  # Telegram's numeric id (the source's external id)
    cursor: int | None
    metadata_refreshed_at: datetime | None
    peers: dict[str, Peer]  # per account
    gone: bool = False  # noticed gone during this pass: not asked again


@dataclass(slots=True)
class AccountRow:
    name: str
    state: str
    paused_until: datetime | None
    stop_reason: str | None


def load_channels(store: Store) -> list[Channel]:
    with store.reader() as session:
        sources = session.execute(
            select(Source.id, Source.handle, Source.external_id, Source.crawl_cursor,
                   Source.metadata_refreshed_at)
            .where(Source.platform == "telegram", Source.kind == "channel",
                   Source.watched.is_(True), Source.status.not_in(NOT_READ))
            .order_by(Source.id)).all()
        peers: dict[int, dict[str, Peer]] = {}
        for row in session.scalars(select(TelegramPeer)):
            peers.setdefault(row.source_id, {})[row.account] = Peer(
                row.access_hash, row.joined, row.last_polled)
    return [Channel(sid, handle, int(ext) if ext and ext.isdigit() else None, cursor, refreshed,
                    peers.get(sid, {})) for sid, handle, ext, cursor, refreshed in sources]


def load_accounts(store: Store, names: list[str], now: datetime) -> dict[str, AccountRow]:
    """The state of each account, created active when first seen."""
    with store.session() as session:
        rows = {row.name: row for row in session.scalars(
            select(TelegramAccountState).where(TelegramAccountState.name.in_(names)))}
        for name in names:
            if name not in rows:
                rows[name] = TelegramAccountState(name=name, state="active", updated_at=now,
                                                  flood_waits=0, flood_wait_seconds=0)
                session.add(rows[name])
        return {name: AccountRow(row.name, row.state, row.paused_until, row.stop_reason)
                for name, row in rows.items()}


def recent_calls(store: Store, account: str, since: datetime) -> tuple[list, list]:
    """When `account` last resolved usernames and read channels since `since`: its buckets
    start from them, so a restart does not hand out a fresh burst."""
    with store.reader() as session:
        peers = TelegramPeer.__table__.c
        resolved = session.scalars(select(peers.resolved_at).where(
            peers.account == account, peers.resolved_at >= since)).all()
        polled = session.scalars(select(peers.last_polled).where(
            peers.account == account, peers.last_polled >= since)).all()
        return list(resolved), list(polled)


def _account(session: Session, name: str) -> TelegramAccountState:
    """The account's row, made when the first thing recorded of it is a failure."""
    row = session.get(TelegramAccountState, name)
    if row is None:
        row = TelegramAccountState(name=name, state="active", flood_waits=0, flood_wait_seconds=0)
        session.add(row)
    return row


def account_ok(store: Store, name: str, now: datetime) -> None:
    """A call succeeded: the account is active (a pause that ran out, or a stop from an earlier
    session that a new login fixed, is over)."""
    with store.session() as session:
        row = _account(session, name)
        if row.state != "active":
            add_event(session, ACTOR, "telegram.account_active", "telegram_account", None,
                      account=name, was=row.state)
            row.state, row.paused_until = "active", None
        row.last_success = row.updated_at = now


def account_error(store: Store, name: str, error: str, now: datetime) -> None:
    with store.session() as session:
        row = _account(session, name)
        row.last_error, row.last_error_at, row.updated_at = error[:1000], now, now


def pause_account(store: Store, name: str, seconds: int, until: datetime, request: str,
                  now: datetime) -> None:
    with store.session() as session:
        row = _account(session, name)
        row.state, row.paused_until, row.updated_at = "paused", until, now
        row.flood_waits = (row.flood_waits or 0) + 1
        row.flood_wait_seconds = (row.flood_wait_seconds or 0) + seconds
        row.last_error = f"flood wait of {seconds} s on {request}"
        row.last_error_at = now
        add_event(session, ACTOR, "telegram.flood_wait", "telegram_account", None,
                  account=name, seconds=seconds, request=request, until=until.isoformat())


def stop_account(store: Store, name: str, reason: str, now: datetime) -> None:
    with store.session() as session:
        row = _account(session, name)
        row.state, row.stop_reason, row.updated_at = "stopped", reason, now
        row.last_error, row.last_error_at = reason, now
        add_event(session, ACTOR, "telegram.account_stopped", "telegram_account", None,
                  account=name, reason=reason)


def save_peer(store: Store, channel_id: int, account: str, access_hash: int,
              now: datetime) -> int | None:
    """Keep how `account` reaches channel `channel_id`; the source id, or None if the channel's
    source is not in the store."""
    with store.session() as session:
        source_id = session.scalar(select(Source.id).where(
            Source.platform == "telegram", Source.external_id == str(channel_id)))
        if source_id is None:
            return None
        row = session.get(TelegramPeer, (source_id, account))
        if row is None:
            session.add(TelegramPeer(source_id=source_id, account=account,
                                     access_hash=access_hash, joined=False, resolved_at=now))
        else:
            row.access_hash, row.resolved_at = access_hash, now
        return source_id


def drop_peer(store: Store, source_id: int, account: str) -> None:
    with store.session() as session:
        row = session.get(TelegramPeer, (source_id, account))
        if row is not None:
            session.delete(row)


def mark_peer(store: Store, source_id: int, account: str, *, polled: datetime | None = None,
              joined: bool | None = None) -> None:
    with store.session() as session:
        row = session.get(TelegramPeer, (source_id, account))
        if row is None:
            return
        if polled is not None:
            row.last_polled = polled
        if joined is not None:
            row.joined = joined


def mark_gone(store: Store, source_id: int, status: str, how: str, detail: str,
              now: datetime, account: str) -> None:
    """Telegram says the channel is private, deleted, banned or its username is free: noted
    with the time it was first noticed, and an event."""
    with store.session() as session:
        source = session.get(Source, source_id)
        if source.gone_at is None or source.gone_how != how:
            source.gone_at = source.gone_at or now
            source.gone_how = how
            add_event(session, ACTOR, "source.gone", "source", source_id, how=how,
                      detail=detail[:500], account=account, noticed_at=now.isoformat())
        if how == "restricted":
            source.restriction = detail[:2000]
        set_status(session, source, status, ACTOR)


def save_metadata(store: Store, source_id: int, *, linked_chat_id: int | None,
                  pinned_message_id: int | None, restriction: str | None,
                  now: datetime) -> None:
    """What GetFullChannel said beyond the ChannelItem (title, about and subscribers go
    through the chain): the linked chat, the pinned post, restrictions."""
    with store.session() as session:
        source = session.get(Source, source_id)
        source.linked_chat_id = linked_chat_id
        source.pinned_message_id = pinned_message_id
        source.metadata_refreshed_at = now
        if restriction is None and source.gone_at is not None:
            add_event(session, ACTOR, "source.back", "source", source_id,
                      was=source.gone_how, noticed_at=now.isoformat())
            source.gone_at = source.gone_how = None
        source.restriction = restriction


def set_kind(store: Store, source_id: int, kind: str) -> None:
    """A watched name that resolves to a user or bot, not a channel."""
    with store.session() as session:
        source = session.get(Source, source_id)
        if source.kind != kind:
            add_event(session, ACTOR, "source.kind", "source", source_id, old=source.kind,
                      new=kind)
            source.kind = kind
