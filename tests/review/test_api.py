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
