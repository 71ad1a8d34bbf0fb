"""What goes into an evidence package: the candidates chosen (by id, by simple filters, or all
confirmed and not yet reported), each subject's description and decision, and its evidence posts
streamed in chunks with their verdicts, indicators and the record bytes of their newest capture
that verifies — so a batch of any size is read with flat memory.

Reviewers are named by their display name (a pseudonym the analyst chose) or, without one, by
``analyst <id>``: a login name may be a real name and never leaves the organisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.store.captures import CaptureError, read_record_bytes
from crawler.store.models import (Candidate, Capture, Entity, Event, Post, PostCapture,
                                  PostEntity, Source, User, Verdict)
from crawler.store.views import EvidencePost, _flagged_posts_query
from evidence.manifest import iso

EXPORTABLE = ("confirmed", "reported", "taken_down")
PLATFORMS = ("telegram", "web")
CHUNK = 200
MAX_ID = 2**31 - 1
TELEGRAM_KINDS = ("telegram_handle", "telegram_bot", "telegram_link", "invite_link")


class SelectionError(ValueError):
    """The selection names nothing exportable, or something that cannot be exported."""


@dataclass
class Selection:
    """Which candidates: explicit `ids`, or the filters (status defaults to confirmed), or
    `all_confirmed` (confirmed ones: exporting marks them reported)."""

    ids: tuple[int, ...] = ()
    status: str | None = None
    category: str | None = None
    platform: str | None = None
    since: datetime | None = None
    all_confirmed: bool = False

    def has_filters(self) -> bool:
        return any(v is not None for v in (self.status, self.category, self.platform,
                                           self.since))


def _platform_of(session: Session, candidate: Candidate) -> str | None:
    if candidate.subject_type == "source":
        source = session.get(Source, candidate.subject_id)
        return source.platform if source else None
    if candidate.subject_type == "post":
        post = session.get(Post, candidate.subject_id)
        return post.source.platform if post else None
    entity = session.get(Entity, candidate.subject_id)
    if entity is None:
        return None
    return "telegram" if entity.kind in TELEGRAM_KINDS else "web"


def candidate_ids(session: Session, selection: Selection, max_batch: int) -> list[int]:
    """The ids chosen, in id order; SelectionError saying what is wrong."""
    if selection.ids and (selection.all_confirmed or selection.has_filters()):
        raise SelectionError("give candidate ids, or filters, or --all-confirmed — not several")
    if selection.status is not None and selection.status not in EXPORTABLE:
        raise SelectionError(f"status {selection.status!r} cannot be exported: only "
                             f"{', '.join(EXPORTABLE)} candidates are")
    if selection.platform is not None and selection.platform not in PLATFORMS:
        raise SelectionError(f"unknown platform {selection.platform!r}: expected "
                             f"{' or '.join(PLATFORMS)}")
    if selection.ids:
        wanted = sorted(set(selection.ids))
        found = {c.id: c for c in session.scalars(select(Candidate).where(
            Candidate.id.in_([i for i in wanted if 0 < i <= MAX_ID])))}
        problems = [f"#{i}: no such candidate" for i in wanted if i not in found]
        problems += [f"#{c.id}: is {c.status}, not confirmed" for c in found.values()
                     if c.status not in EXPORTABLE]
        if problems:
            shown = "; ".join(problems[:5]) + (f"; … {len(problems) - 5} more"
                                               if len(problems) > 5 else "")
            raise SelectionError(f"{len(problems)} of {len(wanted)} candidates cannot be "
                                 f"exported: {shown}")
        ids = wanted
    else:
        if not (selection.all_confirmed or selection.has_filters()):
            raise SelectionError("nothing selected: give candidate ids, filters or "
                                 "--all-confirmed")
        query = select(Candidate).where(
            Candidate.status == ("confirmed" if selection.all_confirmed
                                 else selection.status or "confirmed"))
        if selection.category:
            query = query.where(Candidate.category == selection.category)
        if selection.since is not None:
            query = query.where(Candidate.decided_at >= selection.since)
        ids = [c.id for c in session.scalars(query.order_by(Candidate.id))
               if selection.platform is None
               or _platform_of(session, c) == selection.platform]
        if not ids:
            raise SelectionError("no candidate matches the selection")
    if len(ids) > max_batch:
        raise SelectionError(f"{len(ids)} candidates selected, at most {max_batch} in one "
                             "package ([evidence] max_batch)")
    return ids


def reviewer(session: Session, actor: str | None) -> str:
    """The display name (pseudonym) behind an event's actor ``user:NAME``; components as is."""
    if not actor or not actor.startswith("user:"):
        return actor or "unknown"
    user = session.scalars(select(User).where(User.username == actor[5:])).one_or_none()
    return user_name(user) if user else "a former analyst"


def user_name(user: User) -> str:
    return user.display_name or f"analyst {user.id}"


def subject_of(session: Session, candidate: Candidate) -> dict:
    """The manifest fields describing what the candidate is about (no ref, no items)."""
    subject = {"candidate_id": candidate.id, "type": candidate.subject_type,
               "category": candidate.decision or candidate.category,
               "categories": sorted({c for c in (candidate.decision, candidate.category)
                                     if c in ("sale", "recruitment")}),
               "platform": None, "handle": None, "title": None, "url": None,
               "numeric_id": None}
    if candidate.subject_type in ("source", "post"):
        post = session.get(Post, candidate.subject_id) if candidate.subject_type == "post" \
            else None
        source = post.source if post else session.get(Source, candidate.subject_id)
        if source is not None:
            subject.update(platform=source.platform, handle=source.handle, title=source.title)
            if source.external_id and source.external_id.isdigit():
                subject["numeric_id"] = int(source.external_id)
            if source.platform == "telegram" and source.handle:
                subject["url"] = f"https://t.me/{source.handle}"
        if post is not None:
            subject["url"] = post.url
        elif source is not None and subject["url"] is None:
            first = session.scalar(select(Post.url).where(Post.source_id == source.id)
                                   .order_by(Post.id).limit(1))
            subject["url"] = first
    else:
        entity = session.get(Entity, candidate.subject_id)
        if entity is not None:
            subject.update(handle=entity.value, title=entity.kind,
                           platform="telegram" if entity.kind in TELEGRAM_KINDS else "web",
                           url=entity_url(entity.kind, entity.value))
    return subject


def entity_url(kind: str, value: str) -> str | None:
    """The URL a blocking form wants for an indicator, where it has one."""
    if kind in ("telegram_handle", "telegram_bot"):
        return f"https://t.me/{value.lstrip('@')}"
    if kind in ("telegram_link", "invite_link"):
        return value if "://" in value else f"https://{value}"
    if kind == "url":
        return value if "://" in value else f"http://{value}"
    if kind in ("domain", "onion"):
        return f"http://{value}/"
    return None


def decision_of(session: Session, candidate: Candidate, organisation: str) -> dict:
    """The confirming decision: its policy, who (pseudonym) and when, from the newest
    ``decision.confirm`` event (the candidate's columns when there is none, e.g. imported)."""
    event = session.scalars(select(Event).where(
        Event.subject_type == "candidate", Event.subject_id == candidate.id,
        Event.action == "decision.confirm").order_by(Event.id.desc()).limit(1)).one_or_none()
    by = reviewer(session, event.actor) if event else (
        user_name(session.get(User, candidate.decided_by)) if candidate.decided_by
        and session.get(User, candidate.decided_by) else None)
    at = event.at if event else candidate.decided_at
    return {"action": "confirm", "policy": candidate.policy, "category": candidate.decision,
            "by": by, "at": iso(at), "organisation": organisation}


def origin_of(session: Session, candidate: Candidate) -> list[dict]:
    """Where an imported candidate came from: the sender and its package, oldest first, from
    the candidate's `origin_*` columns and its ``*imported`` events."""
    found = []
    for event in session.scalars(select(Event).where(
            Event.subject_type == "candidate", Event.subject_id == candidate.id,
            Event.action.like("%imported")).order_by(Event.id)):
        payload = event.payload if isinstance(event.payload, dict) else {}
        org = payload.get("organisation") or payload.get("from") or candidate.origin_org
        package = payload.get("package_id") or candidate.origin_package
        if org:
            found.append({"organisation": str(org), "package_id": package,
                          "decision": payload.get("decision") or candidate.origin_decision,
                          "at": iso(event.at)})
    if not found and candidate.origin_org:
        found.append({"organisation": candidate.origin_org,
                      "package_id": candidate.origin_package,
                      "decision": candidate.origin_decision, "at": iso(candidate.created_at)})
    return found


@dataclass
class Evidence:
    """One evidence post with what the package needs of it."""

    post: Post
    source: Source
    verdict: Verdict | None
    entities: list[tuple[str, str]]  # (kind, value)
    capture: Capture | None  # the newest capture that verifies
    record: bytes | None  # its exact stored WARC record bytes
    missing: str | None  # why there is no capture, else None
    spans: list[tuple[int, int, str]]


def evidence_of(session: Session, candidate: Candidate, captures_root: Path,
                chunk: int = CHUNK) -> Iterator[list[Evidence]]:
    """The candidate's evidence posts (flagged posts of its source, entity or post cluster) in
    post id order, `chunk` at a time; the session is cleared between chunks."""
    base = _flagged_posts_query(candidate.subject_type, candidate.subject_id)
    last = 0
    while True:
        rows = session.execute(base.where(Post.id > last).order_by(Post.id).limit(chunk)).all()
        if not rows:
            return
        last = rows[-1][0].id
        ids = [post.id for post, _, _ in rows]
        entities = _entities(session, ids)
        captures = _captures(session, rows)
        batch = []
        for post, source, verdict in rows:
            capture, record, missing = _first_verified(captures.get(post.id, []), captures_root)
            batch.append(Evidence(post, source, verdict, entities.get(post.id, []), capture,
                                  record, missing, EvidencePost(post, source, verdict).spans()))
        yield batch
        session.expunge_all()


def _entities(session: Session, post_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    found: dict[int, list[tuple[str, str]]] = {}
    for post_id, kind, value in session.execute(
            select(PostEntity.post_id, Entity.kind, Entity.value)
            .join(Entity, Entity.id == PostEntity.entity_id)
            .where(PostEntity.post_id.in_(post_ids)).order_by(Entity.kind, Entity.value)):
        found.setdefault(post_id, []).append((kind, value))
    return found


def _captures(session: Session, rows) -> dict[int, list[Capture]]:
    """post id -> its captures, newest first."""
    ids = [post.id for post, _, _ in rows]
    pairs = set(session.execute(select(PostCapture.post_id, PostCapture.capture_id)
                                .where(PostCapture.post_id.in_(ids))).all())
    pairs |= {(post.id, post.capture_id) for post, _, _ in rows if post.capture_id}
    wanted = {c for _, c in pairs}
    by_id = {c.id: c for c in session.scalars(select(Capture).where(Capture.id.in_(wanted)))} \
        if wanted else {}
    found: dict[int, list[Capture]] = {}
    for post_id, capture_id in pairs:
        if capture_id in by_id:
            found.setdefault(post_id, []).append(by_id[capture_id])
    for captures in found.values():
        captures.sort(key=lambda c: (c.fetched_at, c.id), reverse=True)
    return found


def _first_verified(captures: list[Capture], root: Path
                    ) -> tuple[Capture | None, bytes | None, str | None]:
    if not captures:
        return None, None, "no capture kept (dropped by retention)"
    problems = []
    for capture in captures:
        try:
            return capture, read_record_bytes(root, capture.path, capture.offset,
                                              capture.length, capture.sha256), None
        except CaptureError as exc:
            problems.append(str(exc))
    return None, None, f"no capture verifies: {problems[0]}"
