"""Writing what the crawlers saw into the store: sources (with renames and status changes),
posts (re-ingest updates, an edit keeps the earlier text), the capture index (a post points at
its newest capture and stays linked to every earlier one), and quarantined pages.

Every insert is an upsert on a unique key inside a savepoint, so two crawls writing at once never
create the same row twice. Changes a person would want to trace are recorded as events.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TypeVar

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crawler.items import CaptureRef, ChannelItem, IdentityConflict, PostItem
from crawler.store.models import Capture, Event, Post, PostCapture, PostRevision, Source

Row = TypeVar("Row")


def content_hash(text: str) -> str:
    """SHA-256 of the text with Unicode and whitespace differences folded away."""
    folded = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()


def normalize_handle(handle: str) -> str:
    return handle.strip().lstrip("@").lower()


def add_event(session: Session, actor: str, action: str, subject_type: str,
              subject_id: int | None, **payload) -> Event:
    event = Event(actor=actor, action=action, subject_type=subject_type, subject_id=subject_id,
                  payload=payload)
    session.add(event)
    return event


def get_or_create(session: Session, find: Callable[[], Row | None],
                  create: Callable[[], Row]) -> tuple[Row, bool]:
    """Find a row or insert it; a concurrent insert of the same key is found, not duplicated."""
    row = find()
    if row is not None:
        return row, False
    try:
        with session.begin_nested():
            row = create()
            session.add(row)
            session.flush()
        return row, True
    except IntegrityError:
        row = find()
        if row is None:
            raise
        return row, False


def record_capture(session: Session, ref: CaptureRef | None) -> Capture | None:
    if ref is None:
        return None

    def find():
        return session.scalars(
            select(Capture).where(Capture.path == ref.path, Capture.offset == ref.offset)
        ).one_or_none()

    def create():
        return Capture(kind=ref.kind, path=ref.path, offset=ref.offset, length=ref.length,
                       sha256=ref.sha256, url=ref.url, status=ref.status,
                       fetched_at=ref.fetched_at, tool_version=ref.tool_version)

    return get_or_create(session, find, create)[0]


def watch(session: Session, platform: str, handle: str, *, via: str = "seed", depth: int = 0,
          priority: int = 50, actor: str = "component:watchlist", kind: str = "channel") -> Source:
    """Make sure a handle is on the watchlist; an existing source keeps its settings."""
    handle = normalize_handle(handle)

    def find():
        return session.scalars(
            select(Source).where(Source.platform == platform, Source.handle == handle)
        ).one_or_none()

    def create():
        return Source(platform=platform, handle=handle, kind=kind, discovered_via=via,
                      discovery_depth=depth, watch_priority=priority, watched=True)

    source, created = get_or_create(session, find, create)
    if created:
        add_event(session, actor, "source.watched", "source", source.id, handle=handle, via=via)
    return source


QUARANTINE = "source.identity_conflict"


def quarantine_page(session: Session, item: IdentityConflict, actor: str,
                    source: Source | None = None) -> Event:
    """Keep a page that contradicts whose it is for a person to look at: its capture is
    indexed and an event on the requested source names what it claimed; nothing else of the page
    is applied (the source keeps its name, posts and crawl cursor)."""
    capture = record_capture(session, item.capture)
    if source is None:
        source = watch(session, item.platform, item.requested, actor=actor)
    session.flush()
    return add_event(session, actor, QUARANTINE, "source", source.id,
                     requested=normalize_handle(item.requested), reason=item.reason,
                     url=item.url, claimed_names=list(item.claimed_names),
                     claimed_ids=list(item.claimed_ids),
                     capture_id=capture.id if capture is not None else None)


def find_source(session: Session, platform: str, key: str) -> Source | None:
    """A source by handle, or by numeric/external id."""
    key = normalize_handle(key)
    return session.scalars(
        select(Source).where(Source.platform == platform,
                             (Source.handle == key) | (Source.external_id == key))
    ).first()


def upsert_channel(session: Session, item: ChannelItem, actor: str) -> Source:
    """Store what a channel's page says about it. The numeric id is the identity: a known id
    under a new username is a rename (recorded, with the old name in the event)."""
    now = datetime.now(timezone.utc)
    handle = normalize_handle(item.username)
    by_handle = session.scalars(
        select(Source).where(Source.platform == item.platform, Source.handle == handle)
    ).one_or_none()
    source = by_handle
    if item.numeric_id is not None:
        external_id = str(item.numeric_id)
        by_id = session.scalars(
            select(Source).where(Source.platform == item.platform,
                                 Source.external_id == external_id)
        ).one_or_none()
        if by_handle is not None and by_handle.external_id not in (None, external_id):
            # Another channel took over the name: the old one keeps its id, posts and history.
            add_event(session, actor, "source.handle_released", "source", by_handle.id,
                      handle=handle, now_used_by=item.numeric_id)
            by_handle.handle = None
            session.flush()
            by_handle = None
        if by_id is not None and by_handle is not None and by_id.id != by_handle.id:
            _fold_into(session, by_handle, by_id, actor)
            by_handle = None
        source = by_id or by_handle
        if source is None:
            source, _ = get_or_create(
                session,
                lambda: find_source(session, item.platform, external_id),
                lambda: Source(platform=item.platform, external_id=external_id, handle=handle),
            )
        if source.external_id is None:
            source.external_id = external_id
        if source.handle != handle:
            add_event(session, actor, "source.renamed", "source", source.id,
                      old=source.handle, new=handle, numeric_id=item.numeric_id)
            source.handle = handle
    elif source is None:
        source = watch(session, item.platform, handle, actor=actor)

    for field in ("title", "subscribers"):
        value = getattr(item, field)
        if value is not None:
            setattr(source, field, value)
    if item.description is not None:
        source.about = item.description
    source.verified = item.verified
    set_status(session, source, item.status, actor)
    source.last_crawled = now
    if item.status == "active":
        source.last_seen = now
    return source


def _fold_into(session: Session, entry: Source, known: Source, actor: str) -> None:
    """A watchlist entry turned out to be the new name of a known channel: its watch settings
    and any posts go to the known one; the entry stays, nameless, with an event (nothing that
    an event or a candidate may point at is deleted)."""
    known.watched = known.watched or entry.watched
    known.watch_priority = max(known.watch_priority, entry.watch_priority)
    session.execute(update(Post).where(Post.source_id == entry.id)
                    .values(source_id=known.id).execution_options(synchronize_session=False))
    entry.handle, entry.watched, entry.status = None, False, "merged"
    session.flush()
    add_event(session, actor, "source.merged", "source", known.id, merged=entry.id)
    add_event(session, actor, "source.merged_into", "source", entry.id, into=known.id)


def mark_seen(session: Session, source: Source, actor: str) -> None:
    """A site answered with posts: it is active and was seen now."""
    now = datetime.now(timezone.utc)
    set_status(session, source, "active", actor)
    source.last_seen = source.last_crawled = now


def set_status(session: Session, source: Source, status: str, actor: str) -> None:
    if source.status != status:
        if source.id is None:
            session.flush()
        add_event(session, actor, "source.status", "source", source.id,
                  old=source.status, new=status)
        source.status = status


def upsert_posts(session: Session, source: Source,
                 entries: list[tuple[PostItem, Capture | None]]) -> list[tuple[Post, str]]:
    """Insert posts of one source or update the stored ones; returns (post, change) for each,
    change being new, edited, updated (views or other metadata) or unchanged. One lookup, one
    multi-row INSERT of the new
    posts (a Core executemany: the ORM would insert row by row to read each id back), one load
    of them. No savepoints: if a concurrent writer inserted one of them first, the INSERT fails
    with IntegrityError and the caller redoes the batch one post at a time."""
    wanted = list(dict.fromkeys(item.external_id for item, _ in entries))
    known = {post.external_id: post for post in session.scalars(
        select(Post).where(Post.source_id == source.id, Post.external_id.in_(wanted)))}
    fresh: dict[str, dict] = {}
    for item, capture in entries:
        if item.external_id not in known and item.external_id not in fresh:
            fresh[item.external_id] = _new_post_row(source, item, capture)
    if fresh:
        session.flush()
        session.execute(Post.__table__.insert(), list(fresh.values()))
        known.update((post.external_id, post) for post in session.scalars(
            select(Post).where(Post.source_id == source.id,
                               Post.external_id.in_(list(fresh)))))
    results = []
    for item, capture in entries:
        post = known[item.external_id]
        if fresh.pop(item.external_id, None) is not None:
            results.append((post, "new"))
        else:
            results.append((post, _update_post(session, post, item, capture)))
    link_captures(session, [(post.id, capture.id) for (post, _), (_, capture)
                            in zip(results, entries, strict=True) if capture is not None])
    return results


def link_captures(session: Session, pairs: list[tuple[int, int]]) -> None:
    """Record that these captures showed these posts (post id, capture id); a link already
    there (this crawl's or a concurrent one's) is left as it is."""
    if not pairs:
        return
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    rows = [{"post_id": post_id, "capture_id": capture_id}
            for post_id, capture_id in dict.fromkeys(pairs)]
    session.execute(insert(PostCapture.__table__).on_conflict_do_nothing(), rows)


def _new_post_row(source: Source, item: PostItem, capture: Capture | None) -> dict:
    now = datetime.now(timezone.utc)
    return {"source_id": source.id, "external_id": item.external_id, "url": item.url,
            "text": item.text, "content_hash": content_hash(item.text), "first_seen": now,
            "last_seen": now, "capture_id": capture.id if capture else None, **_metadata(item)}


def _update_post(session: Session, post: Post, item: PostItem, capture: Capture | None) -> str:
    now = datetime.now(timezone.utc)
    digest = content_hash(item.text)
    change = "unchanged"
    if post.content_hash != digest:
        if post.id is None:
            session.flush()
        session.add(PostRevision(post_id=post.id, text=post.text, content_hash=post.content_hash,
                                 capture_id=post.capture_id, seen_until=now))
        add_event(session, "component:ingest", "post.edited", "post", post.id,
                  old_hash=post.content_hash, new_hash=digest)
        post.text, post.content_hash = item.text, digest
        post.edited_at = post.edited_at or now
        change = "edited"
    for key, value in _metadata(item).items():
        if value is not None and value != [] and getattr(post, key) != value:
            setattr(post, key, value)
            change = "updated" if change == "unchanged" else change
    if capture is not None:  # the newest capture; the earlier ones stay linked (post_capture)
        post.capture_id = capture.id
    post.url = item.url
    post.last_seen = now
    return change


def _metadata(item: PostItem) -> dict:
    return {
        "posted_at": item.posted_at, "edited": item.edited, "title": item.title,
        "author": item.author, "price": item.price, "views": item.views,
        "forwarded_from": item.forwarded_from,
        "forwarded_from_url": item.forwarded_from_url, "reply_to": item.reply_to,
        "media_kind": item.media_kind, "media_url": item.media_url,
        "links": list(item.links), "mentions": list(item.mentions),
    }
