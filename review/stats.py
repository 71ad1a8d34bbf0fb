"""The dashboard's figures, aggregated in SQL on SQLite and PostgreSQL alike.

Every figure covers a `Period` of whole UTC days (by default the last 30, today included):
- candidates opened (`created_at`) and the decisions made (`decision.confirm` / `.dismiss`
  events, so a decision later reopened still counts on the day it was made), per day;
- the detector's precision as judged by analysts, confirmed / (confirmed + dismissed), per
  category and per rule (the rule ids of the candidate's reasons), over candidates whose current
  decision was made in the period (a candidate confirmed in another category counts under the
  category the analyst chose), with a Wilson 95 % interval because small counts mislead;
- time from detection (`created_at`) to decision (`decided_at`): median and p90, never a mean
  (such times are heavily skewed);
- per-analyst throughput: confirm, dismiss and escalate events per user, by display name;
- top entities: the indicators carried by flagged posts first seen in the period, by how many
  sources carry them;
- queue age (now, not over the period): open candidates by age bucket, and the oldest.

Days are counted from the Unix epoch in SQL (timezone-independent on PostgreSQL whatever the
session's TimeZone), and grouped in an outer query so no expression is repeated with its own
bound parameters.
"""

from __future__ import annotations

import math
import threading
from time import monotonic as time_now
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import Integer, and_, case, distinct, func, literal_column, select, true
from sqlalchemy.orm import Session

from crawler.store.models import Candidate, Entity, Event, Post, PostEntity, User, Verdict

CONFIRMED = ("confirmed", "reported", "taken_down")
DECISIONS = ("decision.confirm", "decision.dismiss", "decision.escalate")
QUEUE_STATES = ("open", "in_review")
AGE_BUCKETS = (("lt_1h", timedelta(hours=1)), ("lt_1d", timedelta(days=1)),
               ("lt_7d", timedelta(days=7)))
MAX_DAYS = 366
EPOCH = date(1970, 1, 1)


class StatsError(ValueError):
    """A bad period or limit; the message is one line for the person who asked."""


@dataclass(frozen=True)
class Period:
    """Whole UTC days from `start` to `end`, both included."""

    start: date
    end: date

    @classmethod
    def last(cls, days: int = 30, today: date | None = None) -> Period:
        today = today or datetime.now(timezone.utc).date()
        return cls(today - timedelta(days=days - 1), today)

    @classmethod
    def parse(cls, start: str | None, end: str | None, today: date | None = None) -> Period:
        """From ISO dates as a query string gives them (either may be empty: the last 30 days
        up to `end`, or 30 days from `start`); StatsError with one line when they are bad."""
        def day(text: str | None, name: str) -> date | None:
            if text is None or not str(text).strip():
                return None
            try:
                return date.fromisoformat(str(text).strip())
            except ValueError:
                raise StatsError(f"{name}: expected a date as YYYY-MM-DD, got "
                                 f"{str(text)[:40]!r}") from None

        first, last = day(start, "from"), day(end, "to")
        if first is None and last is None:
            return cls.last(today=today)
        if first is None:
            first = last - timedelta(days=29)
        if last is None:
            last = first + timedelta(days=29)
        if last < first:
            raise StatsError(f"to ({last}) is before from ({first})")
        if (last - first).days + 1 > MAX_DAYS:
            raise StatsError(f"a period spans at most {MAX_DAYS} days")
        return cls(first, last)

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time(), timezone.utc)

    @property
    def until(self) -> datetime:
        """The first instant after the period."""
        return datetime.combine(self.end + timedelta(days=1), time(), timezone.utc)

    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def covers(self, column):
        return and_(column >= self.since, column < self.until)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def epoch_day(session: Session, column):
    """Whole days since 1970-01-01 UTC of a timestamp column, as an integer."""
    if _dialect(session) == "postgresql":
        return func.floor(func.extract("epoch", column) / literal_column("86400")).cast(
            Integer())
    # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff" in UTC; its date functions round to the
    # millisecond (23:59:59.9999 would become the next day), so the fraction is cut first.
    return func.cast(func.strftime(literal_column("'%s'"), func.substr(
        column, literal_column("1"), literal_column("19"))), Integer()).op("/")(
        literal_column("86400"))  # integer division: both sides are integers


def seconds_between(session: Session, start, end):
    """Seconds from `start` to `end` (timestamp columns), as a float."""
    if _dialect(session) == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * literal_column("86400.0")


def _as_date(day_number) -> date:
    return EPOCH + timedelta(days=int(day_number))


@dataclass
class DayCounts:
    day: date
    opened: int = 0
    confirmed: int = 0
    dismissed: int = 0


def per_day(session: Session, period: Period) -> list[DayCounts]:
    """Candidates opened, confirmed and dismissed on each day of the period (zeros included)."""
    days = {d: DayCounts(d) for d in period.days()}
    opened = select(epoch_day(session, Candidate.created_at).label("day")) \
        .where(period.covers(Candidate.created_at)).subquery()
    for number, count in session.execute(
            select(opened.c.day, func.count()).group_by(opened.c.day)):
        if (found := days.get(_as_date(number))) is not None:
            found.opened = count
    decided = select(epoch_day(session, Event.at).label("day"), Event.action.label("action")) \
        .where(Event.action.in_(("decision.confirm", "decision.dismiss")),
               Event.subject_type == "candidate", period.covers(Event.at)).subquery()
    for number, action, count in session.execute(
            select(decided.c.day, decided.c.action, func.count())
            .group_by(decided.c.day, decided.c.action)):
        if (found := days.get(_as_date(number))) is not None:
            setattr(found, "confirmed" if action == "decision.confirm" else "dismissed", count)
    return list(days.values())


@dataclass
class Precision:
    key: str  # a category or a rule id
    confirmed: int
    dismissed: int

    @property
    def decided(self) -> int:
        return self.confirmed + self.dismissed

    @property
    def value(self) -> float | None:
        return self.confirmed / self.decided if self.decided else None

    @property
    def interval(self) -> tuple[float, float] | None:
        """Wilson score interval at 95 %."""
        n = self.decided
        if not n:
            return None
        z, p = 1.959964, self.confirmed / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return max(0.0, centre - half), min(1.0, centre + half)


def _judged(period: Period):
    return and_(Candidate.status.in_((*CONFIRMED, "dismissed")),
                period.covers(Candidate.decided_at))


def _is_confirmed():
    return func.sum(case((Candidate.status.in_(CONFIRMED), 1), else_=0))


def _is_dismissed():
    return func.sum(case((Candidate.status == "dismissed", 1), else_=0))


def precision_by_category(session: Session, period: Period) -> list[Precision]:
    rows = session.execute(
        select(Candidate.category, _is_confirmed(), _is_dismissed())
        .where(_judged(period)).group_by(Candidate.category).order_by(Candidate.category))
    return [Precision(category, int(c or 0), int(d or 0)) for category, c, d in rows]


def precision_by_rule(session: Session, period: Period, limit: int = 50) -> list[Precision]:
    """Per rule id among the candidates' reasons, most decided first."""
    if _dialect(session) == "postgresql":
        reasons = case((func.json_typeof(Candidate.reasons) == literal_column("'array'"),
                        Candidate.reasons), else_=literal_column("'[]'::json"))
        element = func.json_array_elements(reasons).table_valued("value").alias("reason")
        rule = element.c.value.op("->>")(literal_column("'rule'"))
        kept = true()
    else:
        element = func.json_each(Candidate.reasons).table_valued("value", "type").alias("reason")
        rule = func.json_extract(element.c.value, literal_column("'$.rule'"))
        kept = element.c.type == literal_column("'object'")
    inner = (select(rule.label("rule"), Candidate.status.label("status"))
             .select_from(Candidate).join(element, true())
             .where(_judged(period), kept)).subquery()
    confirmed = func.sum(case((inner.c.status.in_(CONFIRMED), 1), else_=0))
    dismissed = func.sum(case((inner.c.status == "dismissed", 1), else_=0))
    rows = session.execute(
        select(inner.c.rule, confirmed, dismissed).where(inner.c.rule.is_not(None))
        .group_by(inner.c.rule).order_by(func.count().desc(), inner.c.rule).limit(limit))
    return [Precision(str(r), int(c or 0), int(d or 0)) for r, c, d in rows]


@dataclass
class DecisionTimes:
    decided: int
    median_seconds: float | None
    p90_seconds: float | None


def decision_times(session: Session, period: Period) -> DecisionTimes:
    """Median and p90 (interpolated between ranks, as percentile_cont) from detection to the
    current decision, over decisions made in the period: one sort in SQL, at most four rows
    fetched."""
    took = seconds_between(session, Candidate.created_at, Candidate.decided_at)
    where = _judged(period)
    count = session.scalar(select(func.count()).select_from(Candidate).where(where)) or 0
    if not count:
        return DecisionTimes(0, None, None)
    ranks = {q: q * (count - 1) for q in (0.5, 0.9)}
    wanted = sorted({n for rank in ranks.values() for n in (math.floor(rank), math.ceil(rank))})
    ordered = select(took.label("took"), func.row_number().over(order_by=took).label("n")) \
        .where(where).subquery()
    value = {int(n) - 1: float(v) for v, n in session.execute(
        select(ordered.c.took, ordered.c.n).where(ordered.c.n.in_([n + 1 for n in wanted])))}

    def quantile(q: float) -> float:
        rank = ranks[q]
        low, high = value[math.floor(rank)], value[math.ceil(rank)]
        return low + (high - low) * (rank - math.floor(rank))

    return DecisionTimes(count, quantile(0.5), quantile(0.9))


@dataclass
class Throughput:
    actor: str  # "user:NAME"
    name: str  # the display name (a pseudonym, maybe), else the user name
    decisions: int
    confirmed: int
    dismissed: int
    escalated: int
    active_days: int
    per_day: float  # decisions per day of the period


def throughput(session: Session, period: Period) -> list[Throughput]:
    """Decisions (confirm, dismiss, escalate events) per analyst, most first."""
    inner = select(Event.actor.label("actor"), Event.action.label("action"),
                   epoch_day(session, Event.at).label("day")) \
        .where(Event.action.in_(DECISIONS), Event.actor.startswith("user:"),
               period.covers(Event.at)).subquery()
    rows = session.execute(select(inner.c.actor, inner.c.action, inner.c.day, func.count())
                           .group_by(inner.c.actor, inner.c.action, inner.c.day)).all()
    names = {f"user:{username}": display or username for username, display in session.execute(
        select(User.username, User.display_name).where(
            User.username.in_({actor[5:] for actor, *_ in rows})))}
    found: dict[str, dict] = {}
    for actor, action, day, count in rows:
        entry = found.setdefault(actor, {"days": set(), "decision.confirm": 0,
                                         "decision.dismiss": 0, "decision.escalate": 0})
        entry["days"].add(day)
        entry[action] += count
    span = len(period.days())
    result = []
    for actor, entry in found.items():
        total = entry["decision.confirm"] + entry["decision.dismiss"] + entry["decision.escalate"]
        result.append(Throughput(actor, names.get(actor, actor[5:]), total,
                                 entry["decision.confirm"], entry["decision.dismiss"],
                                 entry["decision.escalate"], len(entry["days"]),
                                 round(total / span, 2)))
    return sorted(result, key=lambda t: (-t.decisions, t.name))


@dataclass
class TopEntity:
    id: int
    kind: str
    value: str
    sources: int
    posts: int


def top_entities(session: Session, period: Period, limit: int = 10) -> list[TopEntity]:
    """Indicators of flagged posts first seen in the period, by the sources carrying them."""
    sources = func.count(distinct(Post.source_id))
    posts = func.count(distinct(Post.id))
    # "+ 0": grouping by the bare column leads SQLite to walk post_entity in entity order and
    # look every post up at random (4x slower on 1M posts) instead of starting from verdicts.
    entity_id = PostEntity.entity_id + literal_column("0")
    inner = (select(entity_id.label("entity_id"), sources.label("sources"),
                    posts.label("posts"))
             .select_from(Verdict)
             .join(Post, Post.id == Verdict.subject_id)
             .join(PostEntity, PostEntity.post_id == Post.id)
             .where(Verdict.subject_type == "post", Verdict.category != "none",
                    period.covers(Post.first_seen))
             .group_by(entity_id)
             .order_by(sources.desc(), posts.desc(), entity_id)
             .limit(limit)).subquery()
    rows = session.execute(
        select(Entity.id, Entity.kind, Entity.value, inner.c.sources, inner.c.posts)
        .join(inner, inner.c.entity_id == Entity.id)
        .order_by(inner.c.sources.desc(), inner.c.posts.desc(), Entity.id))
    return [TopEntity(*row) for row in rows]


@dataclass
class QueueAge:
    buckets: dict[str, int]  # lt_1h, lt_1d, lt_7d, older
    total: int
    oldest_id: int | None = None
    oldest_created: datetime | None = None

    def oldest_age(self, now: datetime) -> timedelta | None:
        return now - self.oldest_created if self.oldest_created else None


def queue_age(session: Session, now: datetime | None = None,
              states: tuple[str, ...] = QUEUE_STATES) -> QueueAge:
    """Candidates waiting (open or being reviewed) by how long ago they were opened."""
    now = now or datetime.now(timezone.utc)
    counts = [func.sum(case((Candidate.created_at > now - age, 1), else_=0))
              for _, age in AGE_BUCKETS]
    row = session.execute(select(func.count(), *counts)
                          .where(Candidate.status.in_(states))).one()
    total, newer = int(row[0] or 0), [int(n or 0) for n in row[1:]]
    buckets, below = {}, 0
    for (name, _), upto in zip(AGE_BUCKETS, newer, strict=True):
        buckets[name], below = upto - below, upto
    buckets["older"] = total - below
    age = QueueAge(buckets, total)
    oldest = session.execute(select(Candidate.id, Candidate.created_at)
                             .where(Candidate.status.in_(states))
                             .order_by(Candidate.created_at, Candidate.id).limit(1)).first()
    if oldest:
        age.oldest_id, age.oldest_created = oldest
    return age


@dataclass
class Dashboard:
    period: Period
    days: list[DayCounts]
    by_category: list[Precision]
    by_rule: list[Precision]
    times: DecisionTimes
    analysts: list[Throughput]
    entities: list[TopEntity]
    queue: QueueAge
    totals: dict[str, int] = field(default_factory=dict)


def dashboard(session: Session, period: Period | None = None, now: datetime | None = None,
              rules: int = 20, entities: int = 10) -> Dashboard:
    """Every figure of the dashboard for one period."""
    period = period or Period.last()
    days = per_day(session, period)
    totals = {name: sum(getattr(d, name) for d in days)
              for name in ("opened", "confirmed", "dismissed")}
    return Dashboard(period, days, precision_by_category(session, period),
                     precision_by_rule(session, period, rules), decision_times(session, period),
                     throughput(session, period), top_entities(session, period, entities),
                     queue_age(session, now), totals)


class DashboardCache:
    """The dashboard of each period, kept `seconds` (a lead's page need not be recomputed, about
    2 s on 1M posts, on every load). One per app (`app.state`), never module-global."""

    def __init__(self, seconds: float = 60, size: int = 16) -> None:
        self.seconds, self.size = seconds, size
        self._kept: dict[Period, tuple[float, Dashboard]] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, period: Period | None = None) -> Dashboard:
        period = period or Period.last()
        with self._lock:
            kept = self._kept.get(period)
        if kept and time_now() - kept[0] < self.seconds:
            return kept[1]
        board = dashboard(session, period)
        with self._lock:
            if len(self._kept) >= self.size:
                self._kept.pop(min(self._kept, key=lambda p: self._kept[p][0]))
            self._kept[period] = (time_now(), board)
        return board
