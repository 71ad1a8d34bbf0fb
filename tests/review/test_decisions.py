"""Decisions on candidates (review/decisions.py), on SQLite and PostgreSQL: each action changes
the candidate and appends exactly one event; decided candidates are never silently overwritten;
roles are enforced; bulk decisions are all or nothing with one event per candidate."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crawler.config_review import ReviewConfig
from crawler.store.models import Candidate, Event
from review.decisions import DecisionError, bulk_decide, decide
from tests.review.test_decisions_support import T0, add_candidate, add_user


def events(session, candidate_id=None):
    query = select(Event).where(Event.subject_type == "candidate").order_by(Event.id)
    if candidate_id is not None:
        query = query.where(Event.subject_id == candidate_id)
    return list(session.scalars(query))


@pytest.fixture
def people(store):
    with store.session() as session:
        return {name: add_user(session, name, role) for name, role in
                (("ann", "analyst"), ("bob", "analyst"), ("lee", "lead"), ("ada", "admin"))}


def test_confirm_records_policy_category_and_one_event(store, people):
    with store.session() as session:
        cid = add_candidate(session, category="sale").id
    with store.session() as session:
        outcome = decide(session, people["ann"], cid, "confirm", policy="drug-sale",
                         category="recruitment", note="  courier ad  ", now=T0, via="cli")
        assert outcome.event.action == "decision.confirm"
    with store.session() as session:
        c = session.get(Candidate, cid)
        assert (c.status, c.decision, c.category, c.policy, c.reason) == (
            "confirmed", "recruitment", "recruitment", "drug-sale", None)
        assert c.decided_by == people["ann"].id and c.decided_at == T0
        [event] = events(session, cid)
        assert event.actor == "user:ann" and event.at == T0
        assert event.payload == {"previous_status": "open", "previous_category": "sale",
                                 "category": "recruitment", "policy": "drug-sale",
                                 "note": "courier ad", "via": "cli"}


def test_dismiss_keeps_reason_queryable_for_training(store, people):
    with store.session() as session:
        ids = [add_candidate(session, subject_id=i).id for i in (1, 2, 3)]
    with store.session() as session:
        decide(session, people["ann"], ids[0], "dismiss", reason="news-or-prevention")
        decide(session, people["bob"], ids[1], "dismiss", reason="legitimate-job")
        decide(session, people["bob"], ids[2], "confirm", policy="drug-sale")
    with store.reader() as session:
        labels = session.execute(select(Candidate.id, Candidate.status, Candidate.reason,
                                        Candidate.decision).order_by(Candidate.id)).all()
        assert [tuple(row) for row in labels] == [
            (ids[0], "dismissed", "news-or-prevention", None),
            (ids[1], "dismissed", "legitimate-job", None),
            (ids[2], "confirmed", None, "sale")]


@pytest.mark.parametrize("action, kwargs, message", [
    ("confirm", {}, "confirm needs a policy"),
    ("confirm", {"policy": "no-such"}, "unknown policy 'no-such'"),
    ("confirm", {"policy": "drug-sale", "category": "weapons"}, "unknown category"),
    ("dismiss", {}, "dismiss needs a reason"),
    ("dismiss", {"reason": "bored"}, "unknown reason 'bored'"),
    ("dismiss", {"reason": "duplicate", "policy": "drug-sale"}, "policy is named by confirm"),
    ("escalate", {"reason": "duplicate"}, "reason is given by dismiss"),
    ("note", {}, "note needs the note's text"),
    ("note", {"note": "   "}, "note needs the note's text"),
    ("note", {"note": "x" * 4001}, "at most 4000"),
    ("note", {"note": "a\x00b"}, "note: contains a NUL character"),
    ("confirm", {"policy": "drug\x00sale"}, "unknown policy"),
    ("destroy", {}, "unknown action 'destroy'"),
    ("assign", {"assignee": "bob"}, "assign needs the lead role; ann is analyst"),
    ("reopen", {}, "reopen needs the lead role"),
])
def test_bad_requests_fail_with_one_line_and_change_nothing(store, people, action, kwargs,
                                                           message):
    with store.session() as session:
        cid = add_candidate(session).id
    with pytest.raises(DecisionError) as caught, store.session() as session:
        decide(session, people["ann"], cid, action, **kwargs)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert caught.value.status in (400, 403)
    with store.reader() as session:
        assert session.get(Candidate, cid).status == "open" and events(session) == []


def test_unknown_candidate_is_404(store, people):
    for bad in (99999, 2**40, 2**63 - 1, 2**70, 0, -3, True, "1; DROP TABLE candidate"):
        with pytest.raises(DecisionError) as caught, store.session() as session:
            decide(session, people["ann"], bad, "escalate")
        assert caught.value.status == 404


def test_decided_is_never_silently_overwritten_and_reopen_is_for_leads(store, people):
    with store.session() as session:
        cid = add_candidate(session).id
    with store.session() as session:
        decide(session, people["ann"], cid, "dismiss", reason="duplicate")
    for action, kwargs in (("confirm", {"policy": "drug-sale"}), ("dismiss",
                           {"reason": "gone"}), ("escalate", {}), ("assign", {"assignee": "bob"})):
        actor = people["lee"] if action == "assign" else people["bob"]
        with pytest.raises(DecisionError, match="already dismissed by ann; a lead must reopen"
                           ) as caught, store.session() as session:
            decide(session, actor, cid, action, **kwargs)
        assert caught.value.status == 409
    with store.session() as session:  # a note is always possible
        decide(session, people["bob"], cid, "note", note="looks like a shop to me")
        decide(session, people["lee"], cid, "reopen", note="second look")
        decide(session, people["bob"], cid, "confirm", policy="drug-sale")
    with store.reader() as session:
        c = session.get(Candidate, cid)
        assert (c.status, c.reason, c.decision, c.decided_by) == (
            "confirmed", None, "sale", people["bob"].id)
        history = events(session, cid)
        assert [e.action for e in history] == ["decision.dismiss", "decision.note",
                                               "decision.reopen", "decision.confirm"]
        assert history[2].payload["previous_reason"] == "duplicate"
        assert history[2].payload["previous_status"] == "dismissed"


def test_escalated_candidates_are_decided_by_leads(store, people):
    with store.session() as session:
        cid = add_candidate(session).id
    with store.session() as session:
        decide(session, people["ann"], cid, "escalate", note="minors?")
    with pytest.raises(DecisionError, match="escalated: a lead decides it"), \
            store.session() as session:
        decide(session, people["bob"], cid, "confirm", policy="drug-sale")
    with store.session() as session:
        decide(session, people["ada"], cid, "confirm", policy="minor-recruitment",
               category="recruitment")
        assert session.get(Candidate, cid).status == "confirmed"


def test_assign_and_claims_held_by_others(store, people):
    with store.session() as session:
        c = add_candidate(session)
        c.status, c.assigned_to, c.claimed_at = "in_review", people["bob"].id, T0
        cid = c.id
    with pytest.raises(DecisionError, match="being reviewed by bob") as caught, \
            store.session() as session:
        decide(session, people["ann"], cid, "dismiss", reason="gone", now=T0)
    assert caught.value.status == 409
    with store.session() as session:
        decide(session, people["lee"], cid, "assign", assignee="ann", now=T0)
        c = session.get(Candidate, cid)
        assert (c.status, c.assigned_to, c.claimed_at) == ("open", people["ann"].id, None)
    with pytest.raises(DecisionError, match="is assigned to ann"), store.session() as session:
        decide(session, people["bob"], cid, "escalate", now=T0)
    with store.session() as session:
        decide(session, people["ann"], cid, "dismiss", reason="gone", now=T0)
        [assigned, dismissed] = events(session, cid)
        assert assigned.payload == {"previous_status": "in_review", "previous_assignee": "bob",
                                    "assignee": "ann"}
        assert dismissed.actor == "user:ann"
    with pytest.raises(DecisionError, match="no user 'nobody'"), store.session() as session:
        decide(session, people["lee"], cid, "assign", assignee="nobody")


def test_inactive_users_decide_nothing(store, people):
    with store.session() as session:
        cid = add_candidate(session).id
        gone = add_user(session, "gone", "admin", active=False)
    with pytest.raises(DecisionError, match="deactivated") as caught, \
            store.session() as session:
        decide(session, gone, cid, "escalate")
    assert caught.value.status == 403


def test_configured_policies_and_reasons(store, people):
    review = ReviewConfig(policies={"local-law": "Article 1"}, dismiss_reasons={"meh": "Meh"})
    with store.session() as session:
        a, b = add_candidate(session, subject_id=1).id, add_candidate(session, subject_id=2).id
    with pytest.raises(DecisionError, match="expected one of local-law"), \
            store.session() as session:
        decide(session, people["ann"], a, "confirm", policy="drug-sale", review=review)
    with store.session() as session:
        decide(session, people["ann"], a, "confirm", policy="local-law", review=review)
        decide(session, people["ann"], b, "dismiss", reason="meh", review=review)


def test_bulk_is_lead_only_all_or_nothing_one_event_each(store, people):
    with store.session() as session:
        ids = [add_candidate(session, subject_id=i).id for i in range(1, 8)]
    with pytest.raises(DecisionError, match="a bulk decision needs the lead role"), \
            store.session() as session:
        bulk_decide(session, people["ann"], ids, "dismiss", reason="duplicate")
    with store.session() as session:
        decide(session, people["ann"], ids[3], "confirm", policy="drug-sale")
    with pytest.raises(DecisionError) as caught, store.session() as session:
        bulk_decide(session, people["lee"], ids + [2**40], "dismiss", reason="duplicate")
    message = str(caught.value)
    assert "2 of 8 candidates cannot take it, nothing was changed" in message
    assert f"#{ids[3]}: candidate {ids[3]} is already confirmed" in message
    assert f"#{2**40}: no such candidate" in message
    with store.reader() as session:
        assert session.scalar(select(func.count()).select_from(Candidate).where(
            Candidate.status == "dismissed")) == 0
    rest = [i for i in ids if i != ids[3]]
    with store.session() as session:
        outcomes = bulk_decide(session, people["lee"], rest + rest[:2], "dismiss",
                               reason="duplicate", note="same shop", now=T0)
        assert [o.candidate.id for o in outcomes] == rest
    with store.reader() as session:
        bulk = [e for e in events(session) if e.action == "decision.dismiss"]
        assert sorted(e.subject_id for e in bulk) == rest
        assert len({e.payload["bulk"] for e in bulk}) == 1
        assert {e.payload["bulk_size"] for e in bulk} == {len(rest)}
        assert all(e.actor == "user:lee" and e.payload["reason"] == "duplicate" for e in bulk)
    with pytest.raises(DecisionError, match="no candidates selected"), store.session() as s:
        bulk_decide(s, people["lee"], [], "escalate")
    with pytest.raises(DecisionError, match="expected candidate ids"), store.session() as s:
        bulk_decide(s, people["lee"], ["1 OR 1=1"], "escalate")


def test_concurrent_decisions_on_one_candidate_one_wins(store, people):
    from tests.conftest import run_concurrently

    with store.session() as session:
        cid = add_candidate(session).id
        deciders = [add_user(session, f"racer{i}") for i in range(8)]
    won, lost = [], []

    def work(index: int) -> None:
        try:
            with store.session() as session:
                if index % 2:
                    decide(session, deciders[index], cid, "dismiss", reason="duplicate")
                else:
                    decide(session, deciders[index], cid, "confirm", policy="drug-sale")
            won.append(index)
        except DecisionError as exc:
            assert exc.status == 409 and "already" in str(exc)
            lost.append(index)

    assert run_concurrently(work, 8) == []
    assert len(won) == 1 and len(lost) == 7
    with store.reader() as session:
        [only] = events(session, cid)
        c = session.get(Candidate, cid)
        assert only.actor == f"user:racer{won[0]}" and c.decided_by == deciders[won[0]].id
