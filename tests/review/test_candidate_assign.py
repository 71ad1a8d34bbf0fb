"""Assigning from the candidate page (leads and admins): the form lists active users and
"unassign", records one `decision.assign` event (actor, assignee), makes the candidate the
assignee's ("mine", kept from other analysts' take-next); analysts neither see the form nor may
post it (403)."""

from __future__ import annotations

from sqlalchemy import select

from crawler.store.models import Candidate, Event, User
from review.claims import take_next
from tests.review.conftest import PASSWORDS, make_user
from tests.review.test_stats_support import at, post, source


def open_candidate(store) -> int:
    with store.session() as session:
        src = source(session, "assign_me")
        post(session, src, at(days=1))
        row = Candidate(subject_type="source", subject_id=src.id, category="sale",
                        status="open", priority=99, reasons=[])
        session.add(row)
        session.flush()
        return row.id


def assign(client, candidate: int, assignee: str):
    return client.post(f"/candidates/{candidate}/decide", follow_redirects=False, data={
        "action": "assign", "assignee": assignee, "then": "stay", "csrf_token": client.csrf})


def test_a_lead_assigns_and_unassigns(client_for, users, store):
    candidate = open_candidate(store)
    make_user(store, "gone", "analyst", PASSWORDS["analyst"])
    with store.session() as session:
        session.scalars(select(User).where(User.username == "gone")).one().active = False
    lead = client_for("lead")
    page = lead.get(f"/candidates/{candidate}").text
    form = page.split('id="form-assign"')[1].split("</form>")[0]
    assert 'data-key="a"' in form and '<option value="anna"' in form
    assert 'value="gone"' not in form  # deactivated users are not offered
    assert '<option value="">' in form  # unassign
    assert assign(lead, candidate, "anna").status_code == 303
    with store.reader() as session:
        row = session.get(Candidate, candidate)
        assert row.assigned_to == users["analyst"].id and row.status == "open"
        event = session.scalars(select(Event).where(
            Event.subject_type == "candidate", Event.subject_id == candidate,
            Event.action == "decision.assign")).one()
        assert event.actor == "user:leon"
        assert event.payload["assignee"] == "anna" and event.payload["via"] == "web"
    shown = lead.get(f"/candidates/{candidate}").text
    assert '<span id="assigned">Pseudonym A</span>' in shown
    assert '<option value="anna" selected>' in shown
    # the assignee's "mine"; another analyst's take-next passes it by
    mine = client_for("analyst").get("/queue?mine=1").text
    assert f"/candidates/{candidate}" in mine
    other = make_user(store, "olga", "analyst", PASSWORDS["analyst"])
    with store.session() as session:
        assert take_next(session, session.get(User, other.id)) is None
    assert assign(lead, candidate, "").status_code == 303
    with store.reader() as session:
        assert session.get(Candidate, candidate).assigned_to is None
        assert [e.payload["assignee"] for e in session.scalars(select(Event).where(
            Event.subject_id == candidate, Event.action == "decision.assign")
            .order_by(Event.id))] == ["anna", None]


def test_an_analyst_sees_no_form_and_is_refused(client_for, users, store):
    candidate = open_candidate(store)
    analyst = client_for("analyst")
    page = analyst.get(f"/candidates/{candidate}").text
    assert 'id="form-assign"' not in page and "<kbd>a</kbd>" not in page
    refused = assign(analyst, candidate, "anna")
    assert refused.status_code == 403
    assert "assign needs the lead role" in refused.text
    with store.reader() as session:
        assert session.get(Candidate, candidate).assigned_to is None


def test_assigning_an_unknown_user_is_one_line(client_for, users, store):
    candidate = open_candidate(store)
    answer = assign(client_for("admin"), candidate, "nobody")
    assert answer.status_code == 400 and "no user &#39;nobody&#39;" in answer.text


def test_the_api_assigns_the_same_way(client_for, users, store):
    candidate = open_candidate(store)
    lead = client_for("lead")
    answer = lead.post(f"/api/candidates/{candidate}/decision", headers={"X-CSRF-Token": lead.csrf},
                       json={"action": "assign", "assignee": "anna"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["candidate"]["assigned_to"] == "anna"
    assert body["event"]["action"] == "decision.assign"
    assert body["event"]["payload"]["assignee"] == "anna"
    analyst = client_for("analyst")
    refused = analyst.post(f"/api/candidates/{candidate}/decision",
                           headers={"X-CSRF-Token": analyst.csrf},
                           json={"action": "assign", "assignee": None})
    assert refused.status_code == 403
