"""The queue's queries (review/queries.py) on SQLite and PostgreSQL: every filter and sort, rows
ready for display, counts per queue, the spot-check sample, and SQL-injection strings thrown at
every filter (no error, no leak)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crawler.store.models import Candidate, Entity, PostEntity, Source, User
from review.decisions import decide
from review.queries import QueryError, QueueFilters, queue_counts, queue_page
from tests.review.test_decisions_support import (T0, add_candidate, add_post, add_source,
                                                  add_user)

INJECTIONS = ["' OR '1'='1", "'; DROP TABLE candidate; --", "1 OR 1=1", "\" OR \"\"=\"",
              "%", "_", "\\", "') UNION SELECT password_hash FROM \"user\" --",
              "1; SELECT pg_sleep(5)", "$.rule') OR 1=1 --", "\x00", "ʼ OR 1=1 --"]


@pytest.fixture
def world(store):
    """Three sources (two Telegram in Almaty and Astana, one web shop), a post and an entity
    candidate, and users."""
    with store.session() as session:
        ann, lee = add_user(session, "ann"), add_user(session, "lee", "lead")
        almaty = add_source(session, "kladmen_almaty", region="Almaty", title="Клад 24/7",
                            external_id="1001")
        astana = add_source(session, "astana_work", region="Astana", title="Работа курьером")
        web = add_source(session, "shop.example", platform="web", title="Shop 100%_real")
        post = add_post(session, astana, "Нужны курьеры, оплата 100% каждый день")
        entity = Entity(kind="telegram_bot", value="@kladbot")
        session.add(entity)
        session.flush()
        session.add(PostEntity(post_id=add_post(session, almaty, "пиши @kladbot", 2).id,
                               entity_id=entity.id))
        ids = {
            "almaty": add_candidate(session, "source", almaty.id, priority=90, score=0.9,
                                    age_minutes=30, rules=("sale.substance", "sale.contact")).id,
            "web": add_candidate(session, "source", web.id, priority=40, score=0.4,
                                 age_minutes=300, rules=("sale.price",)).id,
            "post": add_candidate(session, "post", post.id, category="recruitment",
                                  priority=70, score=0.7, age_minutes=60,
                                  rules=("recruitment.courier",)).id,
            "entity": add_candidate(session, "entity", entity.id, priority=70, score=0.75,
                                    age_minutes=10, rules=("sale.contact",)).id,
        }
        return {"ann": ann, "lee": lee, "ids": ids}


def ids_of(store, filters=None, sort="priority", **kwargs):
    with store.reader() as session:
        page = queue_page(session, filters, sort, now=T0, **kwargs)
        return [row.id for row in page.rows]


def test_sorts_and_rows(store, world):
    ids = world["ids"]
    assert ids_of(store) == [ids["almaty"], ids["post"], ids["entity"], ids["web"]]
    assert ids_of(store, sort="age") == [ids["web"], ids["post"], ids["almaty"], ids["entity"]]
    assert ids_of(store, sort="newest")[0] == ids["entity"]
    assert ids_of(store, sort="score") == [ids["almaty"], ids["entity"], ids["post"], ids["web"]]
    with store.reader() as session:
        page = queue_page(session, QueueFilters(), "priority", 1, 2, now=T0)
        assert (page.total, page.pages, len(page.rows)) == (4, 2, 2)
        row = page.rows[0]
        assert row.subject == "telegram channel @kladmen_almaty «Клад 24/7»"
        assert (row.category, row.priority, row.score, row.status, row.claimed_by) == (
            "sale", 90, 0.9, "open", None)
        assert row.age == timedelta(minutes=30)
        assert queue_page(session, QueueFilters(), "priority", 2, 2, now=T0).rows[0].id == \
            ids["entity"]
    for bad in ("priority; DROP TABLE candidate", "id"):
        with pytest.raises(QueryError, match="sort: expected one of"), store.reader() as s:
            queue_page(s, None, bad)
    for page, size in ((0, 10), (1, 0), (1, 501)):
        with pytest.raises(QueryError), store.reader() as s:
            queue_page(s, None, "priority", page, size)


def test_every_filter(store, world):
    ids = world["ids"]
    F = QueueFilters
    assert ids_of(store, F(category="recruitment")) == [ids["post"]]
    assert ids_of(store, F(platform="web")) == [ids["web"]]
    assert set(ids_of(store, F(platform="telegram"))) == {ids["almaty"], ids["post"],
                                                          ids["entity"]}
    assert set(ids_of(store, F(region="almaty"))) == {ids["almaty"], ids["entity"]}
    assert ids_of(store, F(region="Astana")) == [ids["post"]]
    assert ids_of(store, F(score_min=0.72, score_max=0.8)) == [ids["entity"]]
    assert set(ids_of(store, F(source="@KLADMEN_almaty"))) == {ids["almaty"], ids["entity"]}
    assert set(ids_of(store, F(source="1001"))) == {ids["almaty"], ids["entity"]}
    assert ids_of(store, F(source="https://t.me/astana_work")) == [ids["post"]]
    assert set(ids_of(store, F(rule="sale.contact"))) == {ids["almaty"], ids["entity"]}
    assert ids_of(store, F(rule="sale")) == []  # whole rule ids only
    assert ids_of(store, F(text="курьер")) == [ids["post"]]  # post text and source title
    assert ids_of(store, F(text="kladbot")) == [ids["entity"]]
    assert ids_of(store, F(text="100%_real")) == [ids["web"]]  # % and _ taken literally
    assert ids_of(store, F(text="100%_")) == [ids["web"]]
    assert ids_of(store, F(status="dismissed")) == []
    assert len(ids_of(store, F(status=("open", "dismissed")))) == 4
    with store.reader() as session:
        record = queue_page(session, F(), now=T0).rows[0].as_dict()
        assert (record["age"], record["created_at"]) == (1800, "2026-11-01T11:30:00+00:00")
    with store.session() as session:
        ann = session.get(User, world["ann"].id)
        decide(session, world["lee"], ids["post"], "assign", assignee=ann)
    assert ids_of(store, F(mine=True), user=world["ann"]) == [ids["post"]]
    assert ids_of(store, F(mine=True), user=world["lee"]) == []
    assert ids_of(store, F(assigned_to="ann")) == [ids["post"]]
    assert ids_of(store, F(assigned_to=world["ann"].id)) == [ids["post"]]
    assert ids_of(store, F(assigned_to="nobody")) == []
    with store.reader() as session:
        row = queue_page(session, F(mine=True), user=world["ann"], now=T0).rows[0]
        assert row.claimed_by == "Ann (pseudonym)"


def test_sql_injection_in_every_filter_matches_nothing_and_leaks_nothing(store, world):
    fields = ["category", "platform", "region", "source", "rule", "text", "assigned_to",
              "status"]
    ids = world["ids"]
    literal = {"%": {ids["web"], ids["post"]},  # "Shop 100%_real", "оплата 100%"
               "_": set(ids.values()),  # handles with _ (and "100%_real")
               "\\": set()}
    for value in INJECTIONS:
        for name in fields:
            with store.reader() as session:
                page = queue_page(session, QueueFilters(**{"status": None, name: value}),
                                  now=T0)
            if name == "text" and value in literal:  # taken literally, not as wildcards
                assert {row.id for row in page.rows} == literal[value]
            else:
                assert page.rows == [] and page.total == 0, (name, value)
            params = {name: value}
            if name in ("category", "platform", "status"):
                with pytest.raises(QueryError, match=f"{name}: expected one of"):
                    QueueFilters.from_params(params)
            else:
                assert getattr(QueueFilters.from_params(params), name) == value.strip() or None
    with store.reader() as session:  # everything still there
        assert session.scalar(select(func.count()).select_from(Candidate)) == 4
        assert session.scalar(select(func.count()).select_from(Source)) == 3


def test_from_params(store, world):
    filters = QueueFilters.from_params({"status": "all", "score_min": " 0.5 ", "mine": "on",
                                        "text": "  клад ", "platform": ""})
    assert (filters.status, filters.score_min, filters.mine, filters.text, filters.platform) == (
        None, 0.5, True, "клад", None)
    assert QueueFilters.from_params({}).status == "open"
    assert QueueFilters.from_params({"status": "confirmed, dismissed"}).status == (
        "confirmed", "dismissed")
    for params, message in (({"score_min": "abc"}, "score_min: expected a number"),
                            ({"score_max": "nan"}, "score_max: expected a finite number"),
                            ({"text": "x" * 201}, "text: at most 200 characters"),
                            ({"status": "opened"}, "status: expected one of")):
        with pytest.raises(QueryError, match=message):
            QueueFilters.from_params(params)


def test_counts_and_spot_check(store, world):
    ids = world["ids"]
    with store.session() as session:
        extra = [add_candidate(session, "post", 1000 + i, now=T0).id for i in range(30)]
        decide(session, world["ann"], ids["web"], "escalate", now=T0)
        for cid in extra:
            decide(session, world["ann"], cid, "dismiss", reason="duplicate", now=T0)
        old = add_candidate(session, "post", 5000, now=T0).id
        decide(session, world["ann"], old, "dismiss", reason="gone",
               now=T0 - timedelta(days=8))
        decide(session, world["lee"], ids["post"], "assign", assignee="ann", now=T0)
    with store.reader() as session:
        counts = queue_counts(session, world["ann"], now=T0)
        assert (counts.open, counts.escalated, counts.mine, counts.spot_check) == (3, 1, 1, 0)
        assert queue_counts(session, world["lee"], now=T0).spot_check == 20
        sample = queue_page(session, QueueFilters(status=None, spot_check=True), "age", 1, 50,
                            now=T0)
        assert sample.total == 20 and {r.status for r in sample.rows} == {"dismissed"}
        assert old not in {r.id for r in sample.rows}
        again = queue_page(session, QueueFilters(status=None, spot_check=True), "age", 1, 50,
                           now=T0 + timedelta(hours=1))
        assert [r.id for r in again.rows] == [r.id for r in sample.rows]  # stable in a day
        assert queue_counts(session, world["lee"], now=T0).mine == 0
