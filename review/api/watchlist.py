"""Watchlist changes made through the API: add a source by hand with a reason, pause or resume
watching one. Each appends one event (`watchlist.add`, `watchlist.pause`, `watchlist.resume`,
actor `user:NAME`, the reason in the payload) in the caller's transaction."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crawler.store.ingest import add_event, watch
from crawler.store.models import Event, Source, User
from crawler.usernames import UsernameError, parse_username
from review.decisions import actor_of

MAX_ID = 2**31 - 1


class WatchlistError(ValueError):
    """A change that cannot be made; one line, with an HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def site_name(raw: str) -> str:
    """A web target's name: what `[[sites]]` names it by (letters, digits, - _ .)."""
    name = raw.strip().lower()
    if not name or len(name) > 128 or not all(ch.isascii() and (ch.isalnum() or ch in "-_.")
                                              for ch in name):
        raise WatchlistError(f"{ascii(raw[:80])} is not a site name (A-Z, 0-9, - _ .)")
    return name


def add_source(session: Session, user: User, platform: str, handle: str, reason: str,
               priority: int = 50, region: str | None = None) -> tuple[Source, Event | None]:
    """Watch `handle` (a Telegram username or a site's name) for `reason`. An existing source is
    watched again with the new reason; None as the event when it already was, for that
    reason."""
    reason = reason.strip()
    if not reason:
        raise WatchlistError("reason: say why the source is watched")
    try:
        name = parse_username(handle) if platform == "telegram" else site_name(handle)
    except UsernameError as exc:
        raise WatchlistError(str(exc)) from None
    kind = "channel" if platform == "telegram" else "site"
    source = watch(session, platform, name, via="manual", priority=priority,
                   actor=actor_of(user), kind=kind)
    if source.watched and source.watch_reason == reason:
        return source, None
    source.watched = True
    source.watch_reason = reason
    source.watch_priority = priority
    if region is not None and region.strip():
        source.region = region.strip()
    event = add_event(session, actor_of(user), "watchlist.add", "source", source.id,
                      handle=name, platform=platform, reason=reason, priority=priority,
                      via="api")
    session.flush()
    return source, event


def set_watched(session: Session, user: User, source_id: int, watched: bool,
                reason: str | None = None) -> tuple[Source, Event | None]:
    """Pause (False) or resume (True) watching a source; None as the event when it already
    was so."""
    source = session.get(Source, source_id) if 0 < source_id <= MAX_ID else None
    if source is None:
        raise WatchlistError(f"no source {source_id}", 404)
    if bool(source.watched) == watched:
        return source, None
    source.watched = watched
    payload = {"via": "api"}
    if reason is not None and reason.strip():
        payload["reason"] = reason.strip()
    event = add_event(session, actor_of(user), "watchlist.resume" if watched else
                      "watchlist.pause", "source", source.id, **payload)
    session.flush()
    return source, event


def sources_page(session: Session, watched: bool | None, platform: str | None,
                 page: int, page_size: int) -> tuple[list[Source], int]:
    """Sources by watch priority, then handle; `watched` None lists both."""
    conditions = []
    if watched is not None:
        conditions.append(Source.watched.is_(watched))
    if platform:
        conditions.append(Source.platform == platform)
    total = session.scalar(select(func.count()).select_from(Source).where(*conditions)) or 0
    rows = list(session.scalars(
        select(Source).where(*conditions)
        .order_by(Source.watch_priority.desc(), Source.handle, Source.id)
        .limit(page_size).offset((page - 1) * page_size)))
    return rows, total
