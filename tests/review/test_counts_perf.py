"""The cache of the queue's counts per queue (review/counts.py CountsCache), on SQLite and
PostgreSQL: it answers from memory only while no event is recorded and for a few seconds."""

from __future__ import annotations

from review.counts import CountsCache
from review.decisions import decide
from review.queries import queue_counts
from tests.review.test_decisions_support import add_candidate, add_user


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_cached_counts_expire_after_a_decision_and_after_their_seconds(store):
    with store.session() as session:
        ann, lee = add_user(session, "ann"), add_user(session, "lee", "lead")
        first = add_candidate(session, subject_id=1).id
        add_candidate(session, subject_id=2)
    clock = Clock()
    cache = CountsCache(seconds=5, clock=clock)
    with store.reader() as session:
        assert cache.get(session, ann).open == 2
        assert cache.get(session, lee).open == 2
    with store.session() as session:  # a row written without an event: not seen at once
        add_candidate(session, subject_id=3)
    with store.reader() as session:
        assert cache.get(session, ann).open == 2
        clock.now += 5  # ... but once the entry is 5 seconds old
        assert cache.get(session, ann).open == 3 == queue_counts(session, ann).open
    with store.session() as session:  # a decision is an event: the next read is fresh
        decide(session, ann, first, "escalate")
    with store.reader() as session:
        counts = cache.get(session, ann)
        assert (counts.open, counts.escalated) == (2, 1)
        assert cache.get(session, lee).escalated == 1  # every user's entry, not only ann's
        assert cache.get(session, lee) == queue_counts(session, lee)
