"""The API's doors: sessions (CSRF on writes) and bearer tokens (revocable), refusals as one
line of JSON, and SQL injection attempts in every filter."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crawler.store.models import Candidate, Source, User
from crawler.store.models_ops import ApiToken
from review.users import revoke_token
from tests.review.conftest import token_client
from tests.review.test_api_support import seed, token_for

INJECTIONS = ["' OR '1'='1", "1; DROP TABLE candidate; --", "\" OR \"\"=\"", "%",
              "') UNION SELECT username, password_hash FROM \"user\" --", "\\", "*/ OR 1=1 /*",
              "1 OR 1=1", "open' OR status LIKE '%"]
TEXT_FILTERS = ["region", "assigned_to", "source", "rule", "text"]


@pytest.fixture
def world(store, users):
    return seed(store)


def test_anonymous_and_bad_tokens_get_401_json(review_app, client_for, store, users, world):
    anonymous = client_for(None)
    for path in ("/api/queue", "/api/queue/counts", f"/api/candidates/{world.candidates[0]}",
                 "/api/sources", "/api/entities/wallet/TXabc123", "/api/openapi.json"):
        response = anonymous.get(path)
        assert response.status_code == 401, path
        assert response.json() == {"error": "login required"}
    for bad in ("kyr_nope", "", "x" * 300):
        with token_client(review_app, bad) as robot:
            assert robot.get("/api/queue").status_code == 401


def test_revoked_token_is_refused(review_app, store, users, world):
    token = token_for(store, "anna")
    with token_client(review_app, token) as robot:
        assert robot.get("/api/queue").status_code == 200
        with store.session() as session:
            row = session.scalars(select(ApiToken)).one()
            revoke_token(session, "user:adam", row.id)
        refused = robot.get("/api/queue")
        assert refused.status_code == 401 and refused.json() == {"error": "login required"}
        assert robot.post("/api/take-next").status_code == 401


def test_token_of_deactivated_user_is_refused(review_app, store, users, world):
    token = token_for(store, "leon")
    with store.session() as session:
        session.scalars(select(User).where(User.username == "leon")).one().active = False
    with token_client(review_app, token) as robot:
        assert robot.get("/api/queue/counts").status_code == 401


def test_session_writes_need_csrf_tokens_do_not(review_app, client_for, store, users, world):
    anna = client_for("analyst")
    assert anna.get("/api/queue").status_code == 200  # reads need no CSRF token
    refused = anna.post("/api/take-next")
    assert refused.status_code == 403
    assert refused.json()["error"].startswith("missing or wrong CSRF token")
    wrong = anna.post("/api/take-next", headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status_code == 403
    taken = anna.post("/api/take-next", headers={"X-CSRF-Token": anna.csrf})
    assert taken.status_code == 200 and taken.json()["candidate"]["id"] == world.candidates[0]
    with token_client(review_app, token_for(store, "anna")) as robot:
        assert robot.post("/api/take-next").json()["candidate"]["id"] == world.candidates[1]
    leon = client_for("lead")
    assert leon.post("/api/sources", json={"handle": "abcd", "reason": "r"}).status_code == 403
    assert leon.post("/api/sources", json={"handle": "abcd", "reason": "r"},
                     headers={"X-CSRF-Token": leon.csrf}).status_code == 201


def test_admin_is_a_lead_too(review_app, store, users, world):
    with token_client(review_app, token_for(store, "adam")) as robot:
        response = robot.post("/api/bulk-decision", json={"ids": world.candidates[:1],
                                                          "action": "escalate"})
        assert response.status_code == 200 and response.json()["decided"] == 1


@pytest.mark.parametrize("name", TEXT_FILTERS + ["status", "sort", "category", "platform",
                                                 "score_min", "page"])
def test_sql_injection_in_every_filter(review_app, store, users, world, name):
    with token_client(review_app, token_for(store, "leon")) as robot:
        for attempt in INJECTIONS:
            response = robot.get("/api/queue", params={name: attempt})
            assert response.status_code in (200, 400, 422), (name, attempt, response.text)
            body = response.json()
            if response.status_code == 200:
                assert body["rows"] == [], (name, attempt)  # matches nothing, leaks nothing
            else:
                assert list(body) == ["error"] and "\n" not in body["error"]
            taken = robot.post("/api/take-next", json={"filters": {name: attempt}})
            assert taken.status_code in (200, 400, 422), (name, attempt, taken.text)
            if taken.status_code == 200:
                assert taken.json() == {"candidate": None}, (name, attempt)
        for kind, value in (("wallet", INJECTIONS[0]), (INJECTIONS[1], "x")):
            assert robot.get(f"/api/entities/{kind}/{value}").status_code in (404, 422)
    with store.reader() as session:  # nothing dropped, nothing claimed
        assert session.scalar(select(func.count()).select_from(Candidate)) == 4
        assert session.scalar(select(func.count()).select_from(Source)) == 2
        assert session.scalar(select(func.count()).select_from(User)) == 3
        assert session.scalar(select(func.count()).select_from(Candidate).where(
            Candidate.status != "open")) == 0


def test_concurrent_take_next_never_hands_out_one_candidate_twice(review_app, store, users,
                                                                   world):
    from tests.conftest import run_concurrently
    from tests.review.conftest import make_user

    names = ["anna", "leon", "adam"] + [make_user(store, f"extra{i}", "analyst",
                                                  "analyst-password-1").username
                                        for i in range(3)]
    clients = [token_client(review_app, token_for(store, name)) for name in names]
    got: dict[int, int | None] = {}

    def take(index):
        response = clients[index].post("/api/take-next")
        assert response.status_code == 200, response.text
        candidate = response.json()["candidate"]
        got[index] = candidate["id"] if candidate else None

    try:
        assert run_concurrently(take, len(clients)) == []
    finally:
        for client in clients:
            client.close()
    taken = [i for i in got.values() if i is not None]
    assert len(got) == 6 and sorted(taken) == sorted(world.candidates)  # 4 to take, 6 takers
