"""Helpers shared by the decision, claim, query and `kyran decide` tests: users made directly with
the `User` model (independent of the login code), and sources, posts and candidates to decide."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from crawler.store.models import Candidate, Post, Source, User

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


def add_user(session, username: str, role: str = "analyst", active: bool = True) -> User:
    user = User(username=username, password_hash="x", role=role, active=active,
                display_name=f"{username.title()} (pseudonym)")
    session.add(user)
    session.flush()
    return user


def add_source(session, handle: str, platform: str = "telegram", region: str | None = None,
               title: str | None = None, external_id: str | None = None) -> Source:
    source = Source(platform=platform, handle=handle, title=title or f"Title of {handle}",
                    region=region, external_id=external_id, status="active")
    session.add(source)
    session.flush()
    return source


def add_post(session, source: Source, text: str, number: int = 1) -> Post:
    post = Post(source_id=source.id, external_id=str(number),
                url=f"https://t.me/{source.handle}/{number}", text=text, content_hash=f"h{number}")
    session.add(post)
    session.flush()
    return post


def add_candidate(session, subject_type: str = "source", subject_id: int = 1, *,
                  category: str = "sale", priority: int = 50, score: float = 0.5,
                  status: str = "open", age_minutes: int = 0, rules=("sale.substance",),
                  now: datetime = T0) -> Candidate:
    candidate = Candidate(
        subject_type=subject_type, subject_id=subject_id, category=category, status=status,
        priority=priority, score=score,
        reasons=[{"rule": rule, "contribution": 0.5, "words": ["w"]} for rule in rules],
        created_at=now - timedelta(minutes=age_minutes), updated_at=now)
    session.add(candidate)
    session.flush()
    return candidate
