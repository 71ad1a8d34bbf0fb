"""The queue's counts per queue (open, escalated, mine, spot-check) and the spot-check sample: a
small, daily-changing random sample of recent dismissals for a lead's second look, beside the
open samples of unflagged posts (`Candidate.sampled`, opened by the chain's queue step).

`CountsCache` keeps the counts a few seconds per user (they cost a count over the whole queue);
every claim, decision and new candidate writes an event, so a cached entry is also dropped as
soon as the newest event id moves (one primary-key lookup per request)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import BigInteger, and_, cast, func, or_, select
from sqlalchemy.orm import Session

from crawler.config_review import ReviewConfig
from crawler.store.models import Candidate, Event, User

SPOT_CHECK_DAYS = 7  # dismissals this recent are sampled for a lead's second look
SPOT_CHECK_SIZE = 20


def spot_check_ids(session: Session, now: datetime | None = None,
                   size: int = SPOT_CHECK_SIZE, days: int = SPOT_CHECK_DAYS):
    """A subquery of the spot-check sample: recent dismissals picked by a hash of their id that
    changes daily, so the sample is stable through a day and differs from one day to the next."""
    now = now or datetime.now(timezone.utc)
    day = now.toordinal()
    mixed = (cast(Candidate.id, BigInteger) * 7919 + day * 104729) % 10007
    return (select(Candidate.id).where(Candidate.status == "dismissed",
                                       Candidate.decided_at >= now - timedelta(days=days))
            .order_by(mixed, Candidate.id).limit(size))


@dataclass
class QueueCounts:
    open: int
    escalated: int
    mine: int
    spot_check: int


def queue_counts(session: Session, user: User | None, now: datetime | None = None,
                 review: ReviewConfig | None = None) -> QueueCounts:
    """How many are open, escalated, held by (claimed or assigned to) the user, and in the
    spot-check sample (0 for an analyst: that queue is for leads). A claim older than
    `claim_minutes` no longer counts as the user's."""
    now = now or datetime.now(timezone.utc)
    cutoff = now - timedelta(minutes=(review or ReviewConfig()).claim_minutes)
    by_status = dict(session.execute(
        select(Candidate.status, func.count()).where(Candidate.status.in_(
            ("open", "escalated")), or_(Candidate.sampled.is_(False),
                                        Candidate.status != "open"))
        .group_by(Candidate.status)).all())
    mine = 0
    if user is not None:
        mine = session.scalar(select(func.count()).select_from(Candidate).where(
            Candidate.assigned_to == user.id,
            or_(Candidate.status.in_(("open", "escalated")),
                and_(Candidate.status == "in_review", Candidate.claimed_at >= cutoff))))
    sample = 0
    if user is None or user.role in ("lead", "admin"):  # the spot-check queue is for leads
        sample = session.scalar(select(func.count()).select_from(
            spot_check_ids(session, now).subquery()))
        sample += session.scalar(select(func.count()).select_from(Candidate).where(
            Candidate.sampled.is_(True), Candidate.status == "open")) or 0
    return QueueCounts(by_status.get("open", 0), by_status.get("escalated", 0), mine or 0,
                       sample or 0)


class CountsCache:
    """`queue_counts` per user for at most `seconds`, and only while no event has been
    recorded since (the store's newest event id is the version)."""

    def __init__(self, seconds: float = 5.0, clock=time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self._entries: dict[tuple, tuple[float, int | None, QueueCounts]] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, user: User | None,
            review: ReviewConfig | None = None) -> QueueCounts:
        version = session.scalar(select(func.max(Event.id)))
        key = (user.id, user.role) if user is not None else (None, None)
        now = self.clock()
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and entry[1] == version and now - entry[0] < self.seconds:
            return entry[2]
        counts = queue_counts(session, user, review=review)
        with self._lock:
            if len(self._entries) > 1000:  # users come and go; never grow without bound
                self._entries.clear()
            self._entries[key] = (now, version, counts)
        return counts
