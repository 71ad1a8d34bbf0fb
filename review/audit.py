"""Reading and exporting the append-only event log (the admin's audit page).

`query_events(session, filters, limit, offset)` returns one page, newest first;
`count_events(session, filters)` the number of matching events; `export_events(session, filters,
fmt)` yields the lines of a CSV (with a header) or JSON Lines export, oldest first, read in
batches by id (keyset pages), so memory stays flat however long the log and no cursor is held
open between batches. The export stops at the newest event that existed when it started.

Every filter value is a bound parameter; an action prefix matches literally (`%` and `_` are
escaped). JSON Lines escape control, bidi and separator characters as \\uXXXX (lossless).
CSV cells that a spreadsheet would run as a formula (starting with = + - @, tab or carriage
return) are prefixed with a quote.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crawler.defang import json_line
from crawler.store.models import Event

FORMATS = ("csv", "jsonl")
MAX_LIMIT = 1000
BATCH = 1000
COLUMNS = ("id", "at", "actor", "action", "subject_type", "subject_id", "payload")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class AuditError(ValueError):
    """A bad filter, page or format; the message is one line for the person who asked."""


def _when(text: str, name: str, end: bool) -> datetime:
    """An ISO date (the whole day: its start, or the next day's start for `end`) or date-time
    (UTC unless it names its offset)."""
    value = text.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime.combine(day + timedelta(days=1 if end else 0), time(), timezone.utc)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise AuditError(f"{name}: expected a date (YYYY-MM-DD) or a time "
                         f"(YYYY-MM-DDTHH:MM[:SS][+HH:MM]), got {text[:40]!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class EventFilters:
    """What to keep: an exact actor ("user:ana"), an action prefix ("decision." or
    "decision.confirm"), a subject type and id, and a time range [since, until)."""

    actor: str | None = None
    action: str | None = None
    subject_type: str | None = None
    subject_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None

    @classmethod
    def parse(cls, params: Mapping[str, str | None]) -> EventFilters:
        """From a query string's values (`actor`, `action`, `subject_type`, `subject_id`,
        `from`, `to`; `to` as a date includes that day); AuditError with one line when bad."""
        def text(name: str, limit: int) -> str | None:
            value = params.get(name)
            if value is None or not str(value).strip():
                return None
            value = str(value).strip()
            if len(value) > limit:
                raise AuditError(f"{name}: at most {limit} characters")
            return value

        subject_id = text("subject_id", 20)
        if subject_id is not None:
            try:
                subject_id = int(subject_id)
            except ValueError:
                raise AuditError(f"subject_id: expected a whole number, got "
                                 f"{subject_id[:20]!r}") from None
            if not -2**31 <= subject_id < 2**31:
                raise AuditError("subject_id: out of range")
        since, until = text("from", 40), text("to", 40)
        filters = cls(actor=text("actor", 128), action=text("action", 64),
                      subject_type=text("subject_type", 16), subject_id=subject_id,
                      since=_when(since, "from", False) if since else None,
                      until=_when(until, "to", True) if until else None)
        if filters.since and filters.until and filters.until <= filters.since:
            raise AuditError("to: must be after from")
        return filters

    def where(self) -> list:
        clauses = []
        if self.actor:
            clauses.append(Event.actor == self.actor)
        if self.action:
            clauses.append(Event.action.startswith(self.action, autoescape=True))
        if self.subject_type:
            clauses.append(Event.subject_type == self.subject_type)
        if self.subject_id is not None:
            clauses.append(Event.subject_id == self.subject_id)
        if self.since:
            clauses.append(Event.at >= self.since)
        if self.until:
            clauses.append(Event.at < self.until)
        return clauses


def _filters(filters: EventFilters | Mapping | None) -> EventFilters:
    if filters is None:
        return EventFilters()
    if isinstance(filters, EventFilters):
        return filters
    return EventFilters.parse(filters)


def query_events(session: Session, filters: EventFilters | Mapping | None = None,
                 limit: int = 50, offset: int = 0) -> list[Event]:
    """One page of matching events, newest first."""
    if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise AuditError(f"limit: a whole number from 1 to {MAX_LIMIT}")
    if not isinstance(offset, int) or offset < 0:
        raise AuditError("offset: a whole number, 0 or more")
    return list(session.scalars(select(Event).where(*_filters(filters).where())
                                .order_by(Event.id.desc()).limit(limit).offset(offset)))


def count_events(session: Session, filters: EventFilters | Mapping | None = None) -> int:
    return session.scalar(select(func.count()).select_from(Event)
                          .where(*_filters(filters).where())) or 0


def event_record(event: Event) -> dict:
    return {"id": event.id, "at": event.at.astimezone(timezone.utc).isoformat(),
            "actor": event.actor, "action": event.action, "subject_type": event.subject_type,
            "subject_id": event.subject_id, "payload": event.payload}


def safe_cell(value) -> str:
    """A CSV cell a spreadsheet shows as text, never runs as a formula."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv_line(values) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([safe_cell(v) for v in values])
    return buffer.getvalue()


def _batches(session: Session, filters: EventFilters) -> Iterator[Event]:
    newest = session.scalar(select(func.max(Event.id)))
    if newest is None:
        return
    after = 0
    while True:
        batch = list(session.scalars(
            select(Event).where(Event.id > after, Event.id <= newest, *filters.where())
            .order_by(Event.id).limit(BATCH)))
        yield from batch
        if len(batch) < BATCH:
            return
        after = batch[-1].id  # the batch is let go: the session holds rows weakly


def export_events(session: Session, filters: EventFilters | Mapping | None = None,
                  fmt: str = "csv") -> Iterator[str]:
    """The lines of an export: "csv" (a header, then a row per event; the payload as JSON) or
    "jsonl" (one JSON object per line). AuditError at once for a bad format or filter."""
    if fmt not in FORMATS:
        raise AuditError(f"format: expected csv or jsonl, got {str(fmt)[:20]!r}")
    parsed = _filters(filters)
    return _csv_lines(session, parsed) if fmt == "csv" else _jsonl_lines(session, parsed)


def _csv_lines(session: Session, filters: EventFilters) -> Iterator[str]:
    yield _csv_line(COLUMNS)
    for event in _batches(session, filters):
        record = event_record(event)
        record["payload"] = json.dumps(record["payload"], ensure_ascii=False, sort_keys=True,
                                       default=str)
        yield _csv_line(record[name] for name in COLUMNS)


def _jsonl_lines(session: Session, filters: EventFilters) -> Iterator[str]:
    for event in _batches(session, filters):
        yield json_line(event_record(event)) + "\n"
