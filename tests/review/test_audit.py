"""Reading, filtering and exporting the event log on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event as sa_event

from review import audit
from review.audit import AuditError, EventFilters
from tests.review.test_stats_support import NOW, at, event

INJECTIONS = ["' OR '1'='1", "'; DROP TABLE event; --", "%", "_", "\\", "\" OR 1=1 --",
              "decision.%", "1 UNION SELECT password_hash FROM \"user\"", "ä'"]


def fill(session) -> None:
    event(session, "user:ana", "decision.confirm", at(days=3), subject_id=1, policy="sale")
    event(session, "user:ana", "decision.dismiss", at(days=2), subject_id=2, reason="news")
    event(session, "user:bo", "decision.note", at(days=1), subject_id=1, note="hm")
    event(session, "component:queue", "candidate.opened", at(hours=5), subject_id=3)
    event(session, "user:bo", "decision_x", at(hours=1), subject_id=3)
    event(session, "component:crawl", "source.renamed", at(hours=1), subject_type="source",
          subject_id=9)


def actions(events) -> list[str]:
    return [e.action for e in events]


def test_filters_and_pages(store):
    with store.session() as session:
        fill(session)
        every = audit.query_events(session)
        assert actions(every) == ["source.renamed", "decision_x", "candidate.opened",
                                  "decision.note", "decision.dismiss", "decision.confirm"]
        assert audit.count_events(session) == 6
        assert actions(audit.query_events(session, EventFilters(actor="user:ana"))) == [
            "decision.dismiss", "decision.confirm"]
        # a prefix matches literally: "decision_" is not a wildcard for "decision."
        assert actions(audit.query_events(session, EventFilters(action="decision."))) == [
            "decision.note", "decision.dismiss", "decision.confirm"]
        assert actions(audit.query_events(session, EventFilters(action="decision_"))) == [
            "decision_x"]
        assert actions(audit.query_events(session, EventFilters(
            subject_type="candidate", subject_id=1))) == ["decision.note", "decision.confirm"]
        window = EventFilters(since=at(days=2, hours=1), until=at(hours=5))
        assert actions(audit.query_events(session, window)) == ["decision.note",
                                                                "decision.dismiss"]
        assert audit.count_events(session, window) == 2
        pages = [actions(audit.query_events(session, None, limit=4, offset=offset))
                 for offset in (0, 4, 8)]
        assert pages == [actions(every)[:4], actions(every)[4:], []]


def test_filters_from_a_query_string(store):
    with store.session() as session:
        fill(session)
        found = audit.query_events(session, {"actor": " user:bo ", "action": "decision",
                                             "subject_id": "", "from": "", "to": None})
        assert actions(found) == ["decision_x", "decision.note"]
        day = (NOW - timedelta(days=1)).date().isoformat()
        assert actions(audit.query_events(session, {"from": day, "to": day})) == [
            "decision.note"]
        assert audit.count_events(session, {"subject_type": "source", "subject_id": "9"}) == 1


def test_parsed_times():
    filters = EventFilters.parse({"from": "2026-11-01", "to": "2026-11-01"})
    assert filters.since == datetime(2026, 11, 1, tzinfo=timezone.utc)
    assert filters.until == datetime(2026, 11, 2, tzinfo=timezone.utc)
    filters = EventFilters.parse({"from": "2026-11-01T10:00", "to": "2026-11-01T18:00+05:00"})
    assert filters.since == datetime(2026, 11, 1, 10, tzinfo=timezone.utc)
    assert filters.until == datetime(2026, 11, 1, 13, tzinfo=timezone.utc)
    assert EventFilters.parse({"from": "2026-11-01T10:00:00Z"}).since.hour == 10


@pytest.mark.parametrize("params, message", [
    ({"subject_id": "abc"}, "subject_id: expected a whole number"),
    ({"subject_id": "1 OR 1=1"}, "subject_id: expected a whole number"),
    ({"subject_id": "99999999999"}, "subject_id: out of range"),
    ({"from": "yesterday"}, "from: expected a date"),
    ({"to": "2026-02-30"}, "to: expected a date"),
    ({"from": "2026-11-02", "to": "2026-11-01"}, "to: must be after from"),
    ({"actor": "x" * 500}, "actor: at most 128 characters"),
])
def test_bad_filters_are_one_line(params, message):
    with pytest.raises(AuditError, match=message) as caught:
        EventFilters.parse(params)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("limit, offset", [(0, 0), (1001, 0), (10, -1), ("10", 0)])
def test_bad_pages(store, limit, offset):
    with store.session() as session, pytest.raises(AuditError):
        audit.query_events(session, None, limit=limit, offset=offset)


def test_injection_in_every_filter_matches_nothing(store):
    with store.session() as session:
        fill(session)
        for value in INJECTIONS:
            for name in ("actor", "action", "subject_type", "subject_id", "from", "to"):
                try:
                    found = audit.query_events(session, {name: value})
                except AuditError as refused:  # too long, not a number, not a time
                    assert "\n" not in str(refused)
                    continue
                assert found == [], (name, value)
                assert list(audit.export_events(session, {name: value}, "jsonl")) == []
        assert audit.count_events(session) == 6  # nothing dropped


def test_csv_export_is_formula_safe_and_round_trips(store):
    hostile = '=HYPERLINK("http://evil.example","x"), "quoted"\nnext line & <b>'
    with store.session() as session:
        event(session, "=cmd|' /C calc'!A0", "+SUM(1)", at(hours=2), subject_id=None,
              text=hostile)
        event(session, "@handle", "-1", at(hours=1), subject_id=7, note="ok")
        lines = list(audit.export_events(session, None, "csv"))
    assert lines[0] == "id,at,actor,action,subject_type,subject_id,payload\r\n"
    rows = list(csv.reader(io.StringIO("".join(lines))))
    assert rows[0] == list(audit.COLUMNS)
    first, second = rows[1], rows[2]
    assert first[2] == "'=cmd|' /C calc'!A0"
    assert first[3] == "'+SUM(1)" and first[5] == ""
    assert json.loads(first[6]) == {"text": hostile}
    assert second[2] == "'@handle" and second[3] == "'-1" and second[5] == "7"
    for row in rows[1:]:
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row)
        assert datetime.fromisoformat(row[1]).tzinfo is not None


def test_jsonl_export(store):
    with store.session() as session:
        fill(session)
        lines = list(audit.export_events(session, {"actor": "user:ana"}, "jsonl"))
    records = [json.loads(line) for line in lines]
    assert all(line.endswith("\n") and line.count("\n") == 1 for line in lines)
    assert [r["action"] for r in records] == ["decision.confirm", "decision.dismiss"]
    assert records[0]["payload"] == {"policy": "sale"}
    assert records[0]["at"] == at(days=3).isoformat()
    assert set(records[0]) == set(audit.COLUMNS)


def test_bad_export_format(store):
    with store.session() as session, pytest.raises(AuditError, match="format: expected csv"):
        audit.export_events(session, None, "xlsx")


def test_export_streams_in_batches(store, monkeypatch):
    monkeypatch.setattr(audit, "BATCH", 50)
    with store.session() as session:
        for n in range(230):
            event(session, "user:ana", "decision.note", at(seconds=1000 - n), subject_id=n)
        selects = []
        sa_event.listen(session.get_bind(), "before_cursor_execute",
                        lambda *args: selects.append(args[2]))
        lines = audit.export_events(session, None, "jsonl")
        first = [next(lines) for _ in range(10)]
        assert len(selects) == 2  # the newest id, then one batch
        event(session, "user:late", "decision.note", at(seconds=1))  # after the start
        rest = list(lines)
    ids = [json.loads(line)["subject_id"] for line in first + rest]
    assert ids == list(range(230))
    assert len(selects) <= 2 + 230 // 50 + 1 + 1


def test_empty_log_exports_a_header_only(store):
    with store.session() as session:
        assert list(audit.export_events(session, None, "csv")) == [
            "id,at,actor,action,subject_type,subject_id,payload\r\n"]
        assert list(audit.export_events(session, None, "jsonl")) == []


def test_jsonl_escapes_controls_losslessly(store):
    tricky = "\u202eevil\u202c line\u2028sep \x1b[31m кириллица 🙂"
    with store.session() as session:
        event(session, "user:ana", "decision.note", at(hours=1), note=tricky)
        line, = audit.export_events(session, None, "jsonl")
    assert "\u202e" not in line and "\u2028" not in line and "\x1b" not in line
    assert "кириллица 🙂" in line
    assert json.loads(line)["payload"]["note"] == tricky
