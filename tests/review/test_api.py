"""The JSON API: every endpoint on SQLite and PostgreSQL, with sessions and tokens."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crawler.store.models import Candidate, Event, Source
from tests.review.conftest import token_client
from tests.review.test_api_support import HOSTILE, seed, token_for


@pytest.fixture
def world(store, users):
    return seed(store)


@pytest.fixture
def api(review_app, store, users, world):
    """role → a client authenticated with that role's API token."""
    made = []

    def factory(role):
        client = token_client(review_app, token_for(store, users[role].username))
        made.append(client)
        return client

    yield factory
    for client in made:
        client.close()


def test_queue_pages_and_filters(api, world):
    robot = api("analyst")
    page = robot.get("/api/queue").json()
    assert [r["id"] for r in page["rows"]] == world.candidates
    assert page["total"] == 4 and page["pages"] == 1 and page["more"] is False
    first = page["rows"][0]
    assert first["subject"].startswith("telegram channel @shop_kz «Shop <b>KZ</b>»")
    second = robot.get("/api/queue", params={"page_size": 1, "page": 2}).json()
    assert [r["id"] for r in second["rows"]] == world.candidates[1:2] and second["pages"] == 4
    assert [r["id"] for r in robot.get("/api/queue?category=recruitment").json()["rows"]] == \
        world.candidates[1:2]
    assert [r["id"] for r in robot.get("/api/queue?sort=age").json()["rows"]] == \
        world.candidates
    assert [r["id"] for r in robot.get("/api/queue?region=almaty").json()["rows"]] == \
        world.candidates[:3]
    assert [r["id"] for r in robot.get("/api/queue?platform=web").json()["rows"]] == \
        world.candidates[3:]
    assert [r["id"] for r in robot.get("/api/queue?rule=job.courier").json()["rows"]] == \
        world.candidates[1:2]
    assert [r["id"] for r in robot.get("/api/queue?score_min=0.75").json()["rows"]] == \
        world.candidates[:2]
    assert [r["id"] for r in robot.get("/api/queue?source=@shop_kz").json()["rows"]] == \
        world.candidates[:3]
    assert robot.get("/api/queue?status=dismissed").json()["rows"] == []
    counts = robot.get("/api/queue/counts").json()
    assert counts == {"open": 4, "escalated": 0, "mine": 0, "spot_check": 0}


def test_candidate_with_evidence_spans_indicators_and_events(api, world):
    robot = api("analyst")
    body = robot.get(f"/api/candidates/{world.candidates[1]}").json()
    assert body["candidate"]["id"] == world.candidates[1]
    assert body["candidate"]["subject"].startswith("post https://t.me/shop_kz/1")
    assert body["candidate"]["subject_defanged"].startswith("post hxxps://t[.]me/shop_kz/1")
    [post] = body["evidence"]
    assert post["text"].startswith(HOSTILE)  # raw, as stored: JSON escapes it
    assert "hxxps://shop[.]example[.]kz" in post["text_defanged"]
    assert "\u202e" not in post["text_defanged"]
    assert post["links_defanged"] == ["hxxps://shop[.]example[.]kz/x?a=1&b=2"]
    assert post["url_defanged"] == "hxxps://t[.]me/shop_kz/1"
    spans = {(s["label"], post["text"][s["start"]:s["end"]]) for s in post["spans"]}
    assert spans == {("sale.substance", "buy"), ("wallet", "TXabc123")}
    assert post["verdict"]["hits"][0]["matches"][0]["span"] == [post["spans"][0]["start"],
                                                               post["spans"][0]["end"]]
    assert [(i["kind"], i["value"], i["posts"]) for i in body["indicators"]] == \
        [("wallet", "TXabc123", 1)]
    assert body["events"] == []
    missing = robot.get("/api/candidates/999999")
    assert missing.status_code == 404 and missing.json() == {"error": "no candidate 999999"}
    assert robot.get("/api/candidates/0").status_code == 422
    assert robot.get("/api/candidates/99999999999").status_code == 422


def test_decision_records_the_same_event_as_the_library(api, store, world, review_config):
    robot = api("analyst")
    target = world.candidates[0]
    response = robot.post(f"/api/candidates/{target}/decision",
                          json={"action": "confirm", "policy": "drug-sale", "note": "clear"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["candidate"]["status"] == "confirmed"
    assert body["candidate"]["decided_by"] == "anna"
    event = body["event"]
    assert (event["actor"], event["action"]) == ("user:anna", "decision.confirm")
    assert event["payload"] == {"previous_status": "open", "via": "api", "note": "clear",
                                "category": "sale", "policy": "drug-sale"}
    again = robot.post(f"/api/candidates/{target}/decision",
                       json={"action": "dismiss", "reason": "duplicate"})
    assert again.status_code == 409
    assert again.json()["error"].startswith(f"candidate {target} is already confirmed by anna")
    history = robot.get(f"/api/candidates/{target}").json()["events"]
    assert [e["action"] for e in history] == ["decision.confirm"]
    bad = robot.post(f"/api/candidates/{world.candidates[1]}/decision",
                     json={"action": "dismiss", "reason": "because"})
    assert bad.status_code == 400 and bad.json()["error"].startswith("unknown reason 'because'")
    for payload in ({"action": "explode"}, {"action": "note", "extra": 1}, {},
                    {"action": "note", "note": "a\x00b"}):
        refused = robot.post(f"/api/candidates/{world.candidates[1]}/decision", json=payload)
        assert refused.status_code == 422, payload
        assert list(refused.json()) == ["error"] and "\n" not in refused.json()["error"]
    assign = robot.post(f"/api/candidates/{world.candidates[1]}/decision",
                        json={"action": "assign", "assignee": "anna"})
    assert assign.status_code == 403
    assert assign.json() == {"error": "assign needs the lead role; anna is analyst"}
    # The event the API wrote is exactly what review/decisions.py writes for the other doors.
    with store.reader() as session:
        stored = session.scalars(select(Event).where(
            Event.subject_type == "candidate", Event.subject_id == target)).one()
        assert stored.payload == event["payload"] and stored.actor == "user:anna"


def test_take_next_claims_in_priority_order_and_never_twice(api, store, world):
    anna, leon = api("analyst"), api("lead")
    first = anna.post("/api/take-next").json()["candidate"]
    second = leon.post("/api/take-next", json={}).json()["candidate"]
    assert (first["id"], second["id"]) == tuple(world.candidates[:2])
    assert first["status"] == "in_review" and first["assigned_to"] == "anna"
    filtered = anna.post("/api/take-next", json={"filters": {"platform": "web"}}).json()
    assert filtered["candidate"]["id"] == world.candidates[3]
    assert anna.post("/api/take-next", json={"filters": {"rule": "' OR 1=1 --"}}).json() == \
        {"candidate": None}
    assert anna.get("/api/queue/counts").json()["mine"] == 2
    assert anna.post("/api/take-next", json={"filters": {"status": "nope"}}).status_code == 400
    with store.reader() as session:
        actions = session.scalars(select(Event.action).where(
            Event.action.like("claim.%")).order_by(Event.id)).all()
    assert actions == ["claim.next"] * 3


def test_bulk_decision_is_for_leads(api, store, world):
    ids = world.candidates[2:]
    refused = api("analyst").post("/api/bulk-decision",
                                  json={"ids": ids, "action": "dismiss", "reason": "duplicate"})
    assert refused.status_code == 403 and refused.json() == {"error": "this needs the lead role"}
    done = api("lead").post("/api/bulk-decision",
                            json={"ids": ids, "action": "dismiss", "reason": "duplicate"})
    assert done.status_code == 200, done.text
    assert done.json()["decided"] == 2 and done.json()["candidates"] == sorted(ids)
    with store.reader() as session:
        events = session.scalars(select(Event).where(Event.action == "decision.dismiss")).all()
        statuses = session.scalars(select(Candidate.status).where(Candidate.id.in_(ids))).all()
    assert len(events) == 2 and {e.payload["bulk_size"] for e in events} == {2}
    assert {e.payload["via"] for e in events} == {"api"} and set(statuses) == {"dismissed"}
    conflict = api("lead").post("/api/bulk-decision", json={"ids": ids + [999999],
                                                            "action": "escalate"})
    assert conflict.status_code == 409 and "nothing was changed" in conflict.json()["error"]
    assert api("lead").post("/api/bulk-decision",
                            json={"ids": [], "action": "escalate"}).status_code == 422


def test_entity(api, world):
    robot = api("analyst")
    body = robot.get("/api/entities/wallet/TXabc123").json()
    assert (body["kind"], body["value"]) == world.entity
    assert [s["source"]["handle"] for s in body["sources"]] == ["shop_kz"]
    assert body["sources"][0]["flagged"] == 1
    assert {c["id"] for c in body["candidates"]} == set(world.candidates[:3])
    assert [p["id"] for p in body["posts"]] == world.posts[:1]
    missing = robot.get("/api/entities/wallet/nope")
    assert missing.status_code == 404 and missing.json() == {"error": "no wallet entity with "
                                                             "that value"}
    assert robot.get("/api/entities/url/https://shop.example.kz/x").status_code == 404
    assert robot.get("/api/entities/wallet/a%00b").status_code == 400


def test_watchlist(api, store, world):
    anna, leon = api("analyst"), api("lead")
    listed = anna.get("/api/sources").json()
    assert listed["total"] == 2 and {s["handle"] for s in listed["rows"]} == {"shop_kz",
                                                                              "market"}
    refused = anna.post("/api/sources", json={"handle": "new_shop", "reason": "tip"})
    assert refused.status_code == 403 and refused.json() == {"error": "this needs the lead role"}
    added = leon.post("/api/sources", json={"handle": "https://t.me/New_Shop",
                                            "reason": "tip from a colleague", "priority": 80})
    assert added.status_code == 201, added.text
    source = added.json()["source"]
    assert (source["handle"], source["watch_reason"], source["watch_priority"]) == \
        ("new_shop", "tip from a colleague", 80)
    assert added.json()["event"]["action"] == "watchlist.add"
    assert added.json()["event"]["payload"]["reason"] == "tip from a colleague"
    bad = leon.post("/api/sources", json={"handle": "../etc", "reason": "x"})
    assert bad.status_code == 400 and "is not a Telegram username" in bad.json()["error"]
    assert leon.post("/api/sources", json={"handle": "valid_name"}).status_code == 422
    sid = source["id"]
    assert anna.post(f"/api/sources/{sid}/pause").status_code == 403
    paused = leon.post(f"/api/sources/{sid}/pause", json={"reason": "quiet"}).json()
    assert paused["source"]["watched"] is False and paused["event"]["action"] == "watchlist.pause"
    assert leon.post(f"/api/sources/{sid}/pause").json()["event"] is None
    assert [s["id"] for s in anna.get("/api/sources?watched=false").json()["rows"]] == [sid]
    resumed = leon.post(f"/api/sources/{sid}/resume").json()
    assert resumed["source"]["watched"] is True
    assert leon.post("/api/sources/999999/resume").status_code == 404
    with store.reader() as session:
        actions = session.scalars(select(Event.action).where(
            Event.subject_type == "source", Event.subject_id == sid).order_by(Event.id)).all()
        assert session.get(Source, sid).watched is True
    assert actions == ["source.watched", "watchlist.add", "watchlist.pause", "watchlist.resume"]


def test_mine_assigned_and_text_filters(api, world):
    anna = api("analyst")
    taken = anna.post("/api/take-next").json()["candidate"]["id"]
    assert [r["id"] for r in anna.get("/api/queue?status=all&mine=true").json()["rows"]] == \
        [taken]
    assert [r["id"] for r in anna.get("/api/queue?status=in_review&assigned_to=anna")
            .json()["rows"]] == [taken]
    assert anna.get("/api/queue?status=all&assigned_to=nobody").json()["rows"] == []
    assert [r["id"] for r in anna.get("/api/queue", params={"text": "<script>"})
            .json()["rows"]] == [world.candidates[1]]
    assert [r["id"] for r in anna.get("/api/queue?status=open,in_review").json()["rows"]] == \
        world.candidates
    for bad, message in (("status=nope", "status: expected one of"),
                         ("sort=evil", "sort: Input should be"),
                         ("score_min=nan", "score_min: Input should be a finite number"),
                         ("page=0", "page: Input should be greater than or equal to 1")):
        response = anna.get(f"/api/queue?{bad}")
        assert response.status_code in (400, 422) and response.json()["error"].startswith(
            f"query.{message}" if response.status_code == 422 else message), response.text


def test_api_and_command_line_decisions_record_the_same_event(api, store, world, users):
    from crawler.store.models import User
    from review.decisions import decide

    api("analyst").post(f"/api/candidates/{world.candidates[0]}/decision",
                        json={"action": "dismiss", "reason": "duplicate", "note": "n"})
    with store.session() as session:
        anna = session.scalars(select(User).where(User.username == "anna")).one()
        decide(session, anna, world.candidates[2], "dismiss", reason="duplicate", note="n",
               via="cli")
    with store.reader() as session:
        by_api, by_cli = session.scalars(select(Event).where(
            Event.action == "decision.dismiss").order_by(Event.id)).all()
    assert (by_api.actor, by_api.action) == (by_cli.actor, by_cli.action)
    assert {**by_api.payload, "via": "cli"} == by_cli.payload


def test_openapi_describes_requests_responses_and_errors(api):
    document = api("analyst").get("/api/openapi.json").json()
    operations = [(path, method, op) for path, item in document["paths"].items()
                  if path.startswith("/api/") for method, op in item.items()]
    assert len(operations) == 14  # incl. exports and packages (sent and received)
    for path, method, op in operations:
        ok = op["responses"].get("201") or op["responses"]["200"]
        assert "$ref" in ok["content"]["application/json"]["schema"], (path, method)
        received = (path, method) == ("/api/packages", "post")  # a partner's upload: its own
        # answers (413 too large, 422 refused with the problems), no candidate to miss or clash
        errors = ("400", "401", "403", "413") if received else (
            "400", "401", "403", "404", "409", "422")
        for status in errors:
            assert op["responses"][status]["content"]["application/json"]["schema"] == \
                {"$ref": "#/components/schemas/ErrorOut"}, (path, method, status)
        if received:
            assert op["responses"]["422"]["content"]["application/json"]["schema"] == \
                {"$ref": "#/components/schemas/RefusedOut"}
        assert op.get("summary") and op.get("description"), (path, method)
    schemas = document["components"]["schemas"]
    assert {"DecisionIn", "BulkDecisionIn", "SourceIn", "CandidateDetailOut", "PostOut",
            "SpanOut", "EventOut", "QueuePageOut"} <= set(schemas)
    assert schemas["DecisionIn"]["additionalProperties"] is False
