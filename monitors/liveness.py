"""Liveness of reported and confirmed subjects: whether each channel, bot or site a candidate
names is still up, when it was first seen gone and how, and when it came back. The first time a
subject is seen gone is what later measures how long a takedown took, so it is never moved while
the subject stays gone.

`check_subjects(config, store, resolver=None, clock=None)` runs one pass: it reads the subjects
of candidates that are confirmed, escalated, reported or taken down, checks each (a few at a
time, each bounded by ``liveness.timeout``, see `monitors.liveness_checks`), records the result in
`subject_liveness` with an event per change (``liveness.gone``, ``liveness.back``), sets
`Source.gone_at` / `gone_how` for sources, and returns the pass's counts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.config import KyranConfig
from crawler.store.db import Store
from crawler.store.ingest import add_event
from crawler.store.models import Candidate, Capture, Entity, Post, Source, utcnow
from crawler.store.models_ops import SubjectLiveness
from crawler.usernames import UsernameError, parse_username
from monitors.liveness_checks import (Check, Resolver, check_preview, check_resolve, check_site,
                                      combine)

WATCHED_STATUSES = ("confirmed", "escalated", "reported", "taken_down")
PARALLEL_CHECKS = 4
ACTOR = "component:liveness"


@dataclass(frozen=True, slots=True)
class Subject:
    """What is checked: a channel or bot by username (``kind`` channel | bot) or a site by URL
    (``kind`` site), for the subject (``source`` | ``entity`` | ``post``) it stands for."""

    subject_type: str
    subject_id: int
    kind: str
    target: str  # @name for Telegram, the URL for a site
    # never had a public preview (the monitor reads it over MTProto): its redirect is no news
    no_preview: bool = False


def subjects(session: Session, config: KyranConfig) -> list[Subject]:
    """The subjects of watched candidates that can be checked, each once."""
    keys = session.execute(select(Candidate.subject_type, Candidate.subject_id)
                           .where(Candidate.status.in_(WATCHED_STATUSES)).distinct()
                           .order_by(Candidate.subject_type, Candidate.subject_id)).all()
    found: dict[tuple[str, int], Subject] = {}
    for subject_type, subject_id in keys:
        subject = _subject(session, config, subject_type, subject_id)
        if subject is not None:
            found.setdefault((subject.subject_type, subject.subject_id), subject)
    return list(found.values())


def _subject(session: Session, config: KyranConfig, subject_type: str,
             subject_id: int) -> Subject | None:
    if subject_type == "post":
        post = session.get(Post, subject_id)
        if post is None:
            return None
        if post.source.platform == "telegram":  # a post stands or falls with its channel
            return _source_subject(session, config, post.source)
        return _site("post", post.id, post.url)
    if subject_type == "source":
        source = session.get(Source, subject_id)
        return _source_subject(session, config, source) if source is not None else None
    if subject_type == "entity":
        entity = session.get(Entity, subject_id)
        return _entity_subject(entity) if entity is not None else None
    return None


def _never_previewed(session: Session, source: Source) -> bool:
    """A channel whose preview redirects and of which no post was ever read from a preview
    page: it never had a public preview, so its redirect says nothing about a takedown."""
    if source.status != "no_preview":
        return False
    read_from_preview = session.scalar(select(Post.id).join(Capture, Post.capture_id == Capture.id)
                                       .where(Post.source_id == source.id, Capture.kind == "warc")
                                       .limit(1))
    return read_from_preview is None


def _source_subject(session: Session, config: KyranConfig, source: Source) -> Subject | None:
    if source.platform == "telegram":
        if not source.handle:
            return None
        kind = "bot" if source.kind == "bot" or source.handle.endswith("bot") else "channel"
        return Subject("source", source.id, kind, "@" + source.handle,
                       _never_previewed(session, source))
    site = config.sites.get(source.handle or "")
    if site is not None:
        return _site("source", source.id, site.start_urls[0])
    if source.handle and "." in source.handle:  # a domain found in posts
        return _site("source", source.id, f"https://{source.handle}/")
    return None


def _entity_subject(entity: Entity) -> Subject | None:
    value = entity.value
    if entity.kind in ("telegram_handle", "telegram_bot", "telegram_link"):
        try:
            name = parse_username(value.lstrip("@"))
        except UsernameError:
            return None
        kind = "bot" if entity.kind == "telegram_bot" or name.endswith("bot") else "channel"
        return Subject("entity", entity.id, kind, "@" + name)
    if entity.kind == "url":
        return _site("entity", entity.id, value if "://" in value else f"http://{value}")
    if entity.kind == "domain":
        return _site("entity", entity.id, f"https://{value}/")
    return None  # wallets, phones, onions, invite links: nothing public to check


def _site(subject_type: str, subject_id: int, url: str) -> Subject | None:
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        return None
    return Subject(subject_type, subject_id, "site", url)


async def check_one(config: KyranConfig, subject: Subject,
                    resolver: Resolver | None) -> Check | None:
    """The subject's state by every method that applies; None when none applies."""
    timeout, agent = config.liveness.timeout, config.crawl.user_agent
    if subject.kind == "site":
        return await _bounded(check_site(subject.target, timeout, agent), timeout, subject)
    name = subject.target.lstrip("@")
    checks = []
    if subject.kind == "channel" and not subject.no_preview:
        checks.append(await _bounded(check_preview(config.telegram_preview.base_url, name,
                                                   timeout, agent), timeout, subject))
    if resolver is not None and not (checks and checks[0].state == "up"):
        checks.append(await _bounded(check_resolve(resolver, name), timeout, subject))
    return combine(checks) if checks else None


async def _bounded(work, timeout: float, subject: Subject) -> Check:
    try:
        return await asyncio.wait_for(work, timeout)
    except asyncio.TimeoutError:
        return Check("unknown", None, f"{subject.target}: no answer within {timeout:g} s")


def record(session: Session, subject: Subject, check: Check, now: datetime) -> dict | None:
    """Store one check's result; the change it makes (for events and output), or None."""
    row = session.scalars(select(SubjectLiveness).where(
        SubjectLiveness.subject_type == subject.subject_type,
        SubjectLiveness.subject_id == subject.subject_id)).one_or_none()
    if row is None:
        row = SubjectLiveness(subject_type=subject.subject_type, subject_id=subject.subject_id,
                              target=subject.target, state="unknown", checks=0)
        session.add(row)
    before = row.state
    row.target, row.last_checked_at, row.detail = subject.target, now, check.detail
    row.checks = (row.checks or 0) + 1
    if check.state == "unknown":  # a failed check says nothing: the last known state stays
        return None
    change = None
    source = session.get(Source, subject.subject_id) if subject.subject_type == "source" else None
    if check.state == "gone" and before != "gone":
        if row.first_gone_at is None or row.back_at is not None:  # gone (again) from now on
            row.first_gone_at, row.back_at = _gone_since(source, row, now), None
        row.how = check.how
        change = "gone"
    elif check.state == "up" and before == "gone":
        row.back_at = now
        change = "back"
    row.state = check.state
    if change is None:
        return None
    payload = {"target": subject.target, "how": row.how, "detail": check.detail,
               "first_gone_at": row.first_gone_at.isoformat() if row.first_gone_at else None}
    add_event(session, ACTOR, f"liveness.{change}", subject.subject_type, subject.subject_id,
              **payload)
    if source is not None:
        if change == "gone" and source.gone_at is None:
            source.gone_at, source.gone_how = now, check.how
        elif change == "back":
            source.gone_at = source.gone_how = None
    return {"subject_type": subject.subject_type, "subject_id": subject.subject_id,
            "target": subject.target, "from": before, "to": check.state, **payload}


def _gone_since(source: Source | None, row: SubjectLiveness, now: datetime) -> datetime:
    """When the subject went: now, or earlier when the monitor already noticed it (a channel
    that became private or was deleted) since it was last seen back."""
    noticed = source.gone_at if source is not None else None
    if noticed is not None and noticed < now and (row.back_at is None or noticed > row.back_at):
        return noticed
    return now


async def check_subjects(config: KyranConfig, store: Store, resolver: Resolver | None = None,
                         clock: Callable[[], datetime] | None = None,
                         parallel: int = PARALLEL_CHECKS) -> dict:
    """One liveness pass over every watched subject; its counts and the changes it saw."""
    clock = clock or utcnow
    with store.reader() as session:
        todo = subjects(session, config)
    gate = asyncio.Semaphore(parallel)

    async def run(subject: Subject) -> tuple[Subject, Check | None]:
        async with gate:
            return subject, await check_one(config, subject, resolver)

    results = await asyncio.gather(*(run(subject) for subject in todo))
    summary = {"subjects": len(todo), "checked": 0, "up": 0, "gone": 0, "unknown": 0,
               "skipped": 0, "failed": 0, "went_gone": 0, "came_back": 0, "changes": []}
    now = clock()
    with store.session() as session:
        for subject, check in results:
            if check is None:
                summary["skipped"] += 1
                continue
            summary["checked"] += 1
            summary["failed"] += check.failed
            summary[check.state] += 1
            change = record(session, subject, check, now)
            if change is not None:
                summary["went_gone" if change["to"] == "gone" else "came_back"] += 1
                summary["changes"].append(change)
    return summary
