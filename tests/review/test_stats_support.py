"""Rows for the dashboard and audit tests, made through the models (no web code involved)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from crawler.store.models import (
    Candidate,
    Entity,
    Event,
    Post,
    PostEntity,
    Source,
    User,
    Verdict,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
_serial = iter(range(1, 10**9))


def at(days: float = 0, hours: float = 0, seconds: float = 0) -> datetime:
    """NOW shifted back by the given time."""
    return NOW - timedelta(days=days, hours=hours, seconds=seconds)


def user(session, username: str, display: str | None = None, role: str = "analyst") -> User:
    row = User(username=username, password_hash="x", role=role, display_name=display)
    session.add(row)
    session.flush()
    return row


def candidate(session, *, created: datetime, status: str = "open", category: str = "sale",
              decided: datetime | None = None, rules: list | None = None,
              decided_by: User | None = None, reasons: list | None = None) -> Candidate:
    if reasons is None:
        reasons = [{"rule": r, "contribution": 1.0, "words": []} for r in rules or []]
    row = Candidate(subject_type="post", subject_id=next(_serial) + 10**6, category=category,
                    status=status, created_at=created, updated_at=created,
                    decided_at=decided, decided_by=decided_by.id if decided_by else None,
                    reasons=reasons)
    session.add(row)
    session.flush()
    return row


def event(session, actor: str, action: str, when: datetime, subject_type: str = "candidate",
          subject_id: int | None = 1, **payload) -> Event:
    row = Event(actor=actor, action=action, subject_type=subject_type, subject_id=subject_id,
                payload=payload, at=when)
    session.add(row)
    session.flush()
    return row


def source(session, handle: str) -> Source:
    row = Source(platform="telegram", external_id=str(next(_serial)), handle=handle)
    session.add(row)
    session.flush()
    return row


def post(session, src: Source, seen: datetime, category: str | None = "sale",
         entities: list[Entity] = ()) -> Post:
    row = Post(source_id=src.id, external_id=str(next(_serial)), url="https://t.me/x/1",
               content_hash="0" * 64, first_seen=seen, last_seen=seen)
    session.add(row)
    session.flush()
    if category is not None:
        session.add(Verdict(subject_type="post", subject_id=row.id, category=category,
                            score=0.9 if category != "none" else 0.1, model_version="t"))
    for entity in entities:
        session.add(PostEntity(post_id=row.id, entity_id=entity.id))
    session.flush()
    return row


def entity(session, kind: str, value: str) -> Entity:
    row = Entity(kind=kind, value=value)
    session.add(row)
    session.flush()
    return row
