"""Claims (review/claims.py) on SQLite and PostgreSQL: take next by priority then age, abandoned
claims expire, assignments are respected, and concurrent takers never get the same candidate."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crawler.config_review import ReviewConfig
from crawler.store.models import Candidate, Event
from review.claims import ClaimError, claim, release, take_next
from review.decisions import DecisionError, decide
from review.queries import QueueFilters
from tests.conftest import run_concurrently
from tests.review.test_decisions_support import (T0, add_candidate, add_source, add_user)


@pytest.fixture
def people(store):
    with store.session() as session:
        return {name: add_user(session, name, role) for name, role in
                (("ann", "analyst"), ("bob", "analyst"), ("lee", "lead"))}


def test_take_next_by_priority_then_age_with_an_event(store, people):
    with store.session() as session:
        low = add_candidate(session, subject_id=1, priority=10, age_minutes=500).id
        young = add_candidate(session, subject_id=2, priority=90, age_minutes=5).id
        old = add_candidate(session, subject_id=3, priority=90, age_minutes=50).id
        add_candidate(session, subject_id=4, priority=99, status="dismissed")
    taken = []
    for _ in range(4):
        with store.session() as session:
            got = take_next(session, people["ann"], now=T0)
            taken.append(got and (got.id, got.status, got.assigned_to, got.claimed_at))
    me = people["ann"].id
    assert taken == [(old, "in_review", me, T0), (young, "in_review", me, T0),
                     (low, "in_review", me, T0), None]
    with store.reader() as session:
        found = list(session.scalars(select(Event).order_by(Event.id)))
        assert [(e.action, e.actor, e.subject_id) for e in found] == [
            ("claim.next", "user:ann", old), ("claim.next", "user:ann", young),
            ("claim.next", "user:ann", low)]
        assert found[0].payload == {"previous_status": "open"}


def test_abandoned_claims_expire_and_assignments_are_respected(store, people):
    review = ReviewConfig(claim_minutes=10)
    with store.session() as session:
        held = add_candidate(session, subject_id=1, priority=80)
        held.status, held.assigned_to = "in_review", people["bob"].id
        held.claimed_at = T0 - timedelta(minutes=9)
        for_bob = add_candidate(session, subject_id=2, priority=70)
        for_bob.assigned_to = people["bob"].id
        held_id, bob_id = held.id, for_bob.id
    with store.session() as session:  # bob's claim is live and the other is assigned to him
        assert take_next(session, people["ann"], now=T0, review=review) is None
    later = T0 + timedelta(minutes=2)  # bob's claim is now 11 minutes old
    with store.session() as session:
        got = take_next(session, people["ann"], now=later, review=review)
        assert got.id == held_id and got.assigned_to == people["ann"].id
    with store.session() as session:
        assert take_next(session, people["bob"], now=later, review=review).id == bob_id
    with store.reader() as session:
        event = session.scalars(select(Event).where(Event.subject_id == held_id)).one()
        assert event.payload["expired_claim_of"] == "bob"
        assert event.payload["previous_status"] == "in_review"


def test_take_next_with_filters(store, people):
    with store.session() as session:
        web = add_source(session, "shop.example", platform="web")
        tg = add_source(session, "kladmen", region="Almaty")
        add_candidate(session, "source", web.id, priority=90)
        wanted = add_candidate(session, "source", tg.id, priority=10, category="recruitment").id
    with store.session() as session:
        got = take_next(session, people["ann"], QueueFilters(platform="telegram",
                                                             region="almaty"), now=T0)
        assert got.id == wanted
    with store.session() as session:
        assert take_next(session, people["ann"], {"category": "recruitment"}, now=T0) is None


def test_claim_and_release(store, people):
    with store.session() as session:
        cid = add_candidate(session).id
        decided = add_candidate(session, subject_id=2, status="confirmed").id
    with store.session() as session:
        assert claim(session, people["ann"], cid, now=T0).assigned_to == people["ann"].id
    with pytest.raises(ClaimError, match=f"candidate {cid} is being reviewed by ann") as caught, \
            store.session() as session:
        claim(session, people["bob"], cid, now=T0)
    assert caught.value.status == 409
    with pytest.raises(ClaimError, match="claimed by ann, not by you"), store.session() as s:
        release(s, people["bob"], cid, now=T0)
    with pytest.raises(ClaimError, match="is confirmed: it cannot be claimed"), \
            store.session() as session:
        claim(session, people["bob"], decided, now=T0)
    with pytest.raises(DecisionError, match="no candidate 777"), store.session() as session:
        claim(session, people["bob"], 777, now=T0)
    with store.session() as session:
        c = release(session, people["ann"], cid, now=T0)
        assert (c.status, c.assigned_to, c.claimed_at) == ("open", None, None)
    with pytest.raises(ClaimError, match="is open, not claimed"), store.session() as session:
        release(session, people["ann"], cid, now=T0)
    with store.session() as session:  # a lead may take over a live claim
        claim(session, people["bob"], cid, now=T0)
        claim(session, people["lee"], cid, now=T0)
    with store.reader() as session:
        actions = [(e.action, e.actor, e.payload.get("taken_from")) for e in session.scalars(
            select(Event).order_by(Event.id))]
        assert actions == [("claim.take", "user:ann", None), ("claim.release", "user:ann", None),
                           ("claim.take", "user:bob", None), ("claim.take", "user:lee", "bob")]


def test_a_claim_then_a_decision_clears_it(store, people):
    with store.session() as session:
        add_candidate(session)
    with store.session() as session:
        got = take_next(session, people["ann"], now=T0)
        decide(session, people["ann"], got.id, "dismiss", reason="gone", now=T0)
        c = session.get(Candidate, got.id)
        assert (c.status, c.assigned_to, c.claimed_at) == ("dismissed", None, None)


def test_concurrent_takers_never_get_the_same_candidate(store, people):
    threads, takes = 8, 50
    with store.session() as session:
        takers = [add_user(session, f"analyst{i}") for i in range(threads)]
        for i in range(threads * takes):
            add_candidate(session, "post", i + 1, priority=i % 7, age_minutes=i % 13)
    got: list[list[int]] = [[] for _ in range(threads)]
    lock = threading.Lock()

    def work(index: int) -> None:
        for _ in range(takes):
            with store.session() as session:
                candidate = take_next(session, takers[index])
                assert candidate is not None
                with lock:
                    got[index].append(candidate.id)

    assert run_concurrently(work, threads) == []
    every = [cid for ids in got for cid in ids]
    assert len(every) == threads * takes == len(set(every))
    with store.reader() as session:
        assert session.scalar(select(func.count()).select_from(Candidate).where(
            Candidate.status == "open")) == 0
        assert session.scalar(select(func.count()).select_from(Event).where(
            Event.action == "claim.next")) == threads * takes


def test_mine_counts_live_claims_and_assignments_only(store, people):
    from review.queries import queue_counts

    review = ReviewConfig(claim_minutes=10)
    with store.session() as session:
        for i in range(3):
            add_candidate(session, subject_id=i + 1)
    with store.session() as session:
        take_next(session, people["ann"], now=T0, review=review)
        take_next(session, people["ann"], now=T0 + timedelta(minutes=8), review=review)
    with store.reader() as session:
        at = T0 + timedelta(minutes=12)  # the first claim has expired, the second has not
        assert queue_counts(session, people["ann"], now=at, review=review).mine == 1
        assert queue_counts(session, people["bob"], now=at, review=review).mine == 0
    with store.session() as session:  # bob takes over the expired one
        got = take_next(session, people["bob"], now=at, review=review)
        assert got.status == "in_review" and got.assigned_to == people["bob"].id
        assert take_next(session, people["bob"], now=at, review=review).status == "in_review"
        assert take_next(session, people["bob"], now=at, review=review) is None
