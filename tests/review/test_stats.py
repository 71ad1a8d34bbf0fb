"""The dashboard's figures on SQLite and PostgreSQL, from rows made through the models."""

from __future__ import annotations

import statistics
from datetime import date, timedelta

import pytest
from sqlalchemy import text

from review import stats
from review.stats import Period, StatsError
from tests.review.test_stats_support import NOW, at, candidate, entity, event, post, source, user

TODAY = NOW.date()
PERIOD = Period(TODAY - timedelta(days=6), TODAY)


def other_timezone(session) -> None:
    """A PostgreSQL session whose TimeZone is not UTC: days must still be UTC days."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET TIME ZONE 'Asia/Almaty'"))


def test_period_defaults_and_parsing():
    assert Period.last(today=TODAY) == Period(TODAY - timedelta(days=29), TODAY)
    assert len(Period.last(today=TODAY).days()) == 30
    assert Period.parse(None, "", today=TODAY) == Period.last(today=TODAY)
    assert Period.parse("2026-11-01", "2026-11-03") == Period(date(2026, 11, 1), date(2026, 11, 3))
    assert Period.parse("2026-11-01", None).end == date(2026, 11, 30)
    assert Period.parse(None, "2026-11-30").start == date(2026, 11, 1)
    period = Period(date(2026, 11, 1), date(2026, 11, 1))
    assert (period.until - period.since) == timedelta(days=1)
    assert period.since.tzinfo is not None


@pytest.mark.parametrize("start, end, message", [
    ("yesterday", None, "from: expected a date as YYYY-MM-DD"),
    ("2026-11-01", "2026-13-01", "to: expected a date"),
    ("2026-11-05", "2026-11-01", "is before from"),
    ("2020-01-01", "2026-01-01", "at most 366 days"),
    ("'; DROP TABLE candidate; --", None, "expected a date"),
])
def test_bad_periods_are_one_line(start, end, message):
    with pytest.raises(StatsError, match=message) as caught:
        Period.parse(start, end)
    assert "\n" not in str(caught.value)


def test_per_day_counts_by_utc_day(store):
    with store.session() as session:
        other_timezone(session)
        midnight = NOW.replace(hour=0)
        candidate(session, created=midnight)  # today, first instant
        candidate(session, created=midnight - timedelta(microseconds=1))  # yesterday, last
        candidate(session, created=at(days=1))
        candidate(session, created=at(days=7))  # before the period
        candidate(session, created=NOW + timedelta(days=1))  # after it
        event(session, "user:ana", "decision.confirm", at(days=2))
        event(session, "user:ana", "decision.confirm", at(days=2))
        event(session, "user:bo", "decision.dismiss", midnight)
        event(session, "user:bo", "decision.escalate", at(days=2))  # not on the chart
        event(session, "user:bo", "decision.dismiss", at(days=9))
        days = stats.per_day(session, PERIOD)
    assert [d.day for d in days] == PERIOD.days()
    by_day = {d.day: (d.opened, d.confirmed, d.dismissed) for d in days}
    assert by_day[TODAY] == (1, 0, 1)
    assert by_day[TODAY - timedelta(days=1)] == (2, 0, 0)
    assert by_day[TODAY - timedelta(days=2)] == (0, 2, 0)
    assert sum(d.opened for d in days) == 3
    assert by_day[TODAY - timedelta(days=5)] == (0, 0, 0)


def test_precision_per_category_and_rule(store):
    with store.session() as session:
        for status, category, rules in [
            ("confirmed", "sale", ["sale.substance_delivery", "sale.price"]),
            ("reported", "sale", ["sale.substance_delivery"]),
            ("taken_down", "sale", ["sale.price"]),
            ("dismissed", "sale", ["sale.substance_delivery", "context.news"]),
            ("dismissed", "recruitment", ["recruit.courier"]),
            ("open", "sale", ["sale.substance_delivery"]),  # not judged
            ("escalated", "recruitment", ["recruit.courier"]),  # not judged
        ]:
            candidate(session, created=at(days=3), status=status, category=category,
                      decided=at(days=1) if status != "open" else None, rules=rules)
        candidate(session, created=at(days=30), status="dismissed", decided=at(days=20),
                  rules=["sale.price"])  # decided before the period
        hostile = '<script>alert("x")</script> & \'q\''
        candidate(session, created=at(days=2), status="confirmed", decided=at(days=1),
                  reasons=[{"rule": hostile}, "not an object", 7, None, {"no": "rule"}])
        candidate(session, created=at(days=2), status="confirmed", decided=at(days=1),
                  reasons={"rule": "not a list"})
        categories = {p.key: p for p in stats.precision_by_category(session, PERIOD)}
        rules = {p.key: p for p in stats.precision_by_rule(session, PERIOD)}
    assert (categories["sale"].confirmed, categories["sale"].dismissed) == (5, 1)
    assert categories["sale"].value == pytest.approx(5 / 6)
    assert (categories["recruitment"].confirmed, categories["recruitment"].dismissed) == (0, 1)
    assert categories["recruitment"].value == 0.0
    assert (rules["sale.substance_delivery"].confirmed,
            rules["sale.substance_delivery"].dismissed) == (2, 1)
    assert (rules["sale.price"].confirmed, rules["sale.price"].dismissed) == (2, 0)
    assert rules["context.news"].value == 0.0
    assert rules[hostile].confirmed == 1
    assert set(rules) == {"sale.substance_delivery", "sale.price", "context.news",
                          "recruit.courier", hostile}
    low, high = rules["sale.price"].interval
    assert 0.0 < low < 1.0 and high == 1.0
    first = list(rules)[0]
    assert first == "sale.substance_delivery"  # most decided first


def test_precision_when_nothing_is_judged(store):
    with store.session() as session:
        assert stats.precision_by_category(session, PERIOD) == []
        assert stats.precision_by_rule(session, PERIOD) == []
    empty = stats.Precision("x", 0, 0)
    assert empty.value is None and empty.interval is None


def test_decision_times_are_median_and_p90_never_a_mean(store):
    took = [60, 120, 600, 3600, 7200, 86400, 4 * 86400, 30]  # seconds; skewed
    with store.session() as session:
        for seconds in took:
            decided = at(days=1)
            candidate(session, created=decided - timedelta(seconds=seconds),
                      status="dismissed" if seconds % 7 else "confirmed", decided=decided)
        candidate(session, created=at(days=20), status="confirmed", decided=at(days=9))
        candidate(session, created=at(days=2), status="escalated")  # no decision yet
        times = stats.decision_times(session, PERIOD)
    assert times.decided == len(took)
    assert times.median_seconds == pytest.approx(statistics.median(took), abs=0.01)
    p90 = statistics.quantiles(took, n=10, method="inclusive")[-1]
    assert times.p90_seconds == pytest.approx(p90, abs=0.01)
    assert times.median_seconds != pytest.approx(statistics.mean(took))


def test_decision_times_odd_and_empty(store):
    with store.session() as session:
        assert stats.decision_times(session, PERIOD) == stats.DecisionTimes(0, None, None)
        candidate(session, created=at(days=1, seconds=90), status="confirmed",
                  decided=at(days=1))
        times = stats.decision_times(session, PERIOD)
    assert times == stats.DecisionTimes(1, pytest.approx(90, abs=0.01),
                                        pytest.approx(90, abs=0.01))


def test_throughput_per_analyst_by_display_name(store):
    with store.session() as session:
        other_timezone(session)
        user(session, "ana", display="Fox")
        user(session, "bo")
        for day in (0, 0, 1, 3):
            event(session, "user:ana", "decision.confirm", at(days=day))
        event(session, "user:ana", "decision.escalate", at(days=1))
        event(session, "user:bo", "decision.dismiss", at(days=2))
        event(session, "user:bo", "decision.note", at(days=2))  # not a decision
        event(session, "user:bo", "decision.assign", at(days=2))  # not a decision
        event(session, "component:queue", "decision.confirm", at(days=2))  # not a person
        event(session, "user:gone", "decision.dismiss", at(days=2))  # user since deleted
        event(session, "user:ana", "decision.confirm", at(days=12))  # before the period
        rows = stats.throughput(session, PERIOD)
    assert [(r.name, r.decisions, r.confirmed, r.dismissed, r.escalated, r.active_days)
            for r in rows] == [("Fox", 5, 4, 0, 1, 3), ("bo", 1, 0, 1, 0, 1),
                               ("gone", 1, 0, 1, 0, 1)]
    assert rows[0].per_day == round(5 / 7, 2)
    assert rows[0].actor == "user:ana"


def test_top_entities_by_sources_among_flagged_posts(store):
    with store.session() as session:
        bot = entity(session, "telegram_bot", "<b>shop_bot</b>")
        wallet = entity(session, "btc", "bc1qwallet")
        phone = entity(session, "phone", "+77010000000")
        quiet = entity(session, "domain", "example.org")
        channels = [source(session, f"channel{n}") for n in range(4)]
        for channel in channels:
            post(session, channel, at(days=1), entities=[bot])
        post(session, channels[0], at(days=1), entities=[bot, wallet])
        post(session, channels[1], at(days=2), entities=[wallet])
        post(session, channels[2], at(days=2), entities=[phone])
        post(session, channels[0], at(days=1), category="none", entities=[quiet, phone])
        post(session, channels[3], at(days=1), category=None, entities=[quiet, phone])
        post(session, channels[3], at(days=10), entities=[phone])  # before the period
        top = stats.top_entities(session, PERIOD, limit=2)
        every = stats.top_entities(session, PERIOD)
    assert [(e.kind, e.value, e.sources, e.posts) for e in top] == [
        ("telegram_bot", "<b>shop_bot</b>", 4, 5), ("btc", "bc1qwallet", 2, 2)]
    assert [(e.value, e.sources) for e in every][2:] == [("+77010000000", 1)]


def test_queue_age_buckets_and_oldest(store):
    with store.session() as session:
        for hours in (0.1, 0.5):
            candidate(session, created=at(hours=hours))
        candidate(session, created=at(hours=5), status="in_review")
        candidate(session, created=at(days=3))
        oldest = candidate(session, created=at(days=40))
        candidate(session, created=at(days=9))
        candidate(session, created=at(days=90), status="dismissed", decided=at(days=1))
        candidate(session, created=at(days=80), status="escalated")  # a lead's queue
        age = stats.queue_age(session, now=NOW)
        empty = stats.queue_age(session, now=NOW, states=("reported",))
    assert age.buckets == {"lt_1h": 2, "lt_1d": 1, "lt_7d": 1, "older": 2}
    assert age.total == 6
    assert age.oldest_id == oldest.id
    assert age.oldest_age(NOW) == timedelta(days=40)
    assert empty.total == 0 and empty.oldest_id is None and empty.oldest_age(NOW) is None
    assert sum(empty.buckets.values()) == 0


def test_dashboard_gathers_every_figure(store):
    with store.session() as session:
        analyst = user(session, "ana", display="Fox")
        item = candidate(session, created=at(days=2), status="confirmed", decided=at(days=1),
                         rules=["sale.price"], decided_by=analyst)
        event(session, "user:ana", "decision.confirm", at(days=1), subject_id=item.id)
        candidate(session, created=at(hours=2))
        board = stats.dashboard(session, PERIOD, now=NOW)
        empty_period = stats.dashboard(session, Period(date(2020, 1, 1), date(2020, 1, 31)),
                                       now=NOW)
    assert board.totals == {"opened": 2, "confirmed": 1, "dismissed": 0}
    assert [p.key for p in board.by_rule] == ["sale.price"]
    assert board.times.decided == 1 and board.analysts[0].name == "Fox"
    assert board.queue.total == 1
    assert empty_period.totals == {"opened": 0, "confirmed": 0, "dismissed": 0}
    assert len(empty_period.days) == 31


def test_dashboard_cache(store):
    cache, fresh = stats.DashboardCache(seconds=3600, size=1), stats.DashboardCache(seconds=0)
    with store.session() as session:
        first = cache.get(session, PERIOD)
        candidate(session, created=at(hours=2))
        assert cache.get(session, PERIOD) is first  # kept
        assert fresh.get(session, PERIOD).totals["opened"] == 1
        other = cache.get(session, Period(date(2020, 1, 1), date(2020, 1, 2)))  # evicts
        assert cache.get(session, PERIOD) is not first
        assert cache.get(session, PERIOD).totals["opened"] == 1
        assert other.totals["opened"] == 0
