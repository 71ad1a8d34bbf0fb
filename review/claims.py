"""Claims: an analyst takes a candidate to review it, so two analysts never review the same one.

`take_next` claims the top unclaimed candidate (open and unassigned or assigned to the taker, or
in review under a claim older than `review.claim_minutes`: an abandoned claim expires) by
priority, then age, with a conditional UPDATE that only one caller wins; on PostgreSQL the
candidates it tries are first locked with SKIP LOCKED, so concurrent takers pass each other
instead of queueing on the same row. `claim` takes a given candidate, `release` gives one back.
Each appends one event (`claim.next`, `claim.take`, `claim.release`).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from crawler.config_review import ReviewConfig
from crawler.store.ingest import add_event
from crawler.store.models import Candidate, User
from review.decisions import (DecisionError, actor_of, check_actor, has_role,
                              locked_candidate)
from review.queries import QueueFilters, as_filters, filter_conditions

ROUNDS = 20  # rounds before giving up on a queue emptied under our feet


class ClaimError(DecisionError):
    """A claim or release that cannot be made; one line, with an HTTP status."""


def _cutoff(now: datetime, review: ReviewConfig) -> datetime:
    return now - timedelta(minutes=review.claim_minutes)


def _takeable(user: User, cutoff: datetime):
    """Open and not someone else's, or held under an expired claim."""
    return or_(and_(Candidate.status == "open",
                    or_(Candidate.assigned_to.is_(None), Candidate.assigned_to == user.id)),
               and_(Candidate.status == "in_review", Candidate.claimed_at < cutoff))


def take_next(session: Session, user: User, filters: QueueFilters | None = None,
              now: datetime | None = None, *, review: ReviewConfig | None = None
              ) -> Candidate | None:
    """Claim the top takeable candidate matching `filters` (their status is ignored) for
    `user`; None when there is none. Commit soon: the claim is the caller's transaction."""
    check_actor(user, "analyst", "taking candidates")
    review = review or ReviewConfig()
    now = now or datetime.now(timezone.utc)
    cutoff = _cutoff(now, review)
    filters = as_filters(filters)
    scope = dataclasses.replace(filters, status=None) if filters else None
    conditions = filter_conditions(session, scope, user, now)
    postgres = session.get_bind().dialect.name == "postgresql"
    order = (Candidate.priority.desc(), Candidate.created_at, Candidate.id)
    # Two queries, each walking ix_candidate_queue (status, priority) in order, merged here:
    # one OR over both statuses would sort every open candidate on each take.
    parts = [and_(Candidate.status == "open",
                  or_(Candidate.assigned_to.is_(None), Candidate.assigned_to == user.id)),
             and_(Candidate.status == "in_review", Candidate.claimed_at < cutoff)]
    takeable = _takeable(user, cutoff)
    for _ in range(ROUNDS):
        tried = []
        for part in parts:
            query = select(Candidate).where(part, *conditions).order_by(*order).limit(1)
            if postgres:  # rows other takers hold are passed over, not waited for
                query = query.with_for_update(skip_locked=True, of=Candidate)
            tried += session.scalars(query.execution_options(populate_existing=True)).all()
        if not tried and postgres:
            # Everything left may be locked by takers that will claim something else: wait
            # for the top one (holding no lock meanwhile, so no deadlock) and read it again.
            query = (select(Candidate).where(takeable, *conditions).order_by(*order).limit(1)
                     .with_for_update(of=Candidate))
            tried = session.scalars(query.execution_options(populate_existing=True)).all()
        if not tried:
            return None
        tried.sort(key=lambda c: (-c.priority, c.created_at, c.id))
        for candidate in tried:
            before = (candidate.status, candidate.assigned_to, candidate.claimed_at)
            if _conditional_claim(session, candidate.id, user, now, takeable):
                payload = {"previous_status": before[0]}
                if before[0] == "in_review":
                    payload["expired_claim_of"] = _username(session, before[1])
                    payload["claimed_at"] = before[2].isoformat() if before[2] else None
                _event(session, user, "claim.next", candidate.id, now, **payload)
                return _fresh(session, candidate.id)
    return None


def _conditional_claim(session: Session, candidate_id: int, user: User, now: datetime,
                       condition) -> bool:
    """UPDATE … WHERE id = :id AND <still takeable>: true only for the one caller it changed."""
    result = session.execute(
        update(Candidate).where(Candidate.id == candidate_id, condition)
        .values(status="in_review", assigned_to=user.id, claimed_at=now, updated_at=now)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def _fresh(session: Session, candidate_id: int) -> Candidate:
    return session.scalars(select(Candidate).where(Candidate.id == candidate_id)
                           .execution_options(populate_existing=True)).one()


def _username(session: Session, user_id: int | None) -> str | None:
    user = session.get(User, user_id) if user_id else None
    return user.username if user else None


def _event(session: Session, user: User, action: str, candidate_id: int, now: datetime,
           **payload) -> None:
    event = add_event(session, actor_of(user), action, "candidate", candidate_id, **payload)
    event.at = now
    session.flush()


def claim(session: Session, user: User, candidate_id: int, now: datetime | None = None, *,
          review: ReviewConfig | None = None) -> Candidate:
    """Claim this candidate for `user` (claiming one's own claim again renews it); ClaimError
    when it is decided, escalated (leads decide those without a claim), or held by another."""
    check_actor(user, "analyst", "claiming candidates")
    review = review or ReviewConfig()
    now = now or datetime.now(timezone.utc)
    cutoff = _cutoff(now, review)
    candidate = locked_candidate(session, candidate_id)
    holder = _username(session, candidate.assigned_to)
    if candidate.status not in ("open", "in_review"):
        raise ClaimError(f"candidate {candidate.id} is {candidate.status}: it cannot be claimed",
                         409)
    live = candidate.claimed_at is not None and candidate.claimed_at >= cutoff
    if candidate.assigned_to not in (None, user.id) and not has_role(user, "lead"):
        if candidate.status == "open" or live:
            what = "assigned to" if candidate.status == "open" else "being reviewed by"
            raise ClaimError(f"candidate {candidate.id} is {what} {holder}", 409)
    allowed = Candidate.status.in_(("open", "in_review"))
    if not _conditional_claim(session, candidate.id, user, now, allowed):
        raise ClaimError(f"candidate {candidate.id} changed meanwhile; try again", 409)
    payload = {"previous_status": candidate.status}
    if candidate.assigned_to not in (None, user.id):
        payload["taken_from"] = holder
    _event(session, user, "claim.take", candidate.id, now, **payload)
    return _fresh(session, candidate.id)


def release(session: Session, user: User, candidate_id: int, now: datetime | None = None, *,
            review: ReviewConfig | None = None) -> Candidate:
    """Give a claimed candidate back to the queue (its holder, or a lead)."""
    check_actor(user, "analyst", "releasing candidates")
    now = now or datetime.now(timezone.utc)
    candidate = locked_candidate(session, candidate_id)
    if candidate.status != "in_review":
        raise ClaimError(f"candidate {candidate.id} is {candidate.status}, not claimed", 409)
    holder = _username(session, candidate.assigned_to)
    if candidate.assigned_to not in (None, user.id) and not has_role(user, "lead"):
        raise ClaimError(f"candidate {candidate.id} is claimed by {holder}, not by you", 403)
    session.execute(update(Candidate).where(Candidate.id == candidate.id)
                    .values(status="open", assigned_to=None, claimed_at=None, updated_at=now)
                    .execution_options(synchronize_session=False))
    _event(session, user, "claim.release", candidate.id, now, previous_status="in_review",
           holder=holder)
    return _fresh(session, candidate.id)
