"""The queue's queries: filters (status, category, platform, region, score range, assignee,
source, rule, text), sorts, one page of rows ready for display; the counts per queue (open,
escalated, mine, spot-check) are in review/counts.py (and importable from here).

Every filter value is bound as a parameter. Filters on where a candidate comes from (platform,
region, source, text) are EXISTS subqueries on its subject, so the page query stays one row per
candidate and can be locked row by row (`claims.take_next` uses the same filters). Bad values
from people (an unknown sort, a score that is not a number) raise `QueryError` with one line.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, false, func, or_, select, text, union_all
from sqlalchemy.orm import Session, aliased

from crawler.store.models import Candidate, Entity, Post, PostEntity, Source, User
from crawler.store.views import subject_lines
from review.counts import QueueCounts, queue_counts, spot_check_ids

STATUSES = ("open", "in_review", "escalated", "confirmed", "dismissed", "reported",
            "taken_down")
CATEGORIES = ("sale", "recruitment", "none")
PLATFORMS = ("telegram", "web")
SORTS = {
    "priority": (Candidate.priority.desc(), Candidate.created_at, Candidate.id),
    "age": (Candidate.created_at, Candidate.id),  # oldest first
    "newest": (Candidate.created_at.desc(), Candidate.id.desc()),
    "score": (Candidate.score.desc(), Candidate.id),
}
MAX_TEXT = 200  # characters of a free-text filter
MAX_ID = 2**31 - 1  # ids are INTEGER columns: a larger number names nothing
COUNT_CAP = 1000  # a page counts matches up to this many ("1000+"), not all of a large queue


class QueryError(ValueError):
    """A filter, sort or page a person gave that cannot be used; the message is one line."""


@dataclass
class QueueFilters:
    """What to show. Empty fields do not filter. `status` "all" (or None) shows every status."""

    status: str | tuple[str, ...] | None = "open"  # one status, or several
    category: str | None = None
    platform: str | None = None
    region: str | None = None
    score_min: float | None = None
    score_max: float | None = None
    mine: bool = False  # claimed by or assigned to the user asking
    assigned_to: str | int | None = None  # a username or a user id
    source: str | None = None  # a handle (with or without @), a source id or external id
    rule: str | None = None  # a rule id among the candidate's reasons
    text: str | None = None  # words in the subject (title, handle, about, post text, value)
    spot_check: bool = False  # only the spot-check sample of recent dismissals

    @classmethod
    def from_params(cls, params) -> QueueFilters:
        """Filters from a web form or query string (a mapping of strings); QueryError naming
        the first bad value."""
        def get(name):
            value = params.get(name)
            value = value.strip() if isinstance(value, str) else value
            return value or None

        status = get("status") or "open"
        if status != "all":
            status = tuple(part.strip() for part in status.split(",") if part.strip())
            if not status or any(part not in STATUSES for part in status):
                raise QueryError(f"status: expected one of {', '.join(STATUSES)} (or several, "
                                 "comma-separated) or all")
            status = status[0] if len(status) == 1 else status
        for name, allowed in (("category", CATEGORIES), ("platform", PLATFORMS)):
            if get(name) is not None and get(name) not in allowed:
                raise QueryError(f"{name}: expected one of {', '.join(allowed)}")
        filters = cls(status=None if status == "all" else status, category=get("category"),
                      platform=get("platform"), region=get("region"),
                      score_min=_number(get("score_min"), "score_min"),
                      score_max=_number(get("score_max"), "score_max"),
                      mine=_flag(get("mine")), assigned_to=get("assigned_to"),
                      source=get("source"), rule=get("rule"), text=get("text"),
                      spot_check=_flag(get("spot_check")))
        for name in ("region", "assigned_to", "source", "rule", "text"):
            if len(getattr(filters, name) or "") > MAX_TEXT:
                raise QueryError(f"{name}: at most {MAX_TEXT} characters")
        return filters


def _number(value: str | None, name: str) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        raise QueryError(f"{name}: expected a number, got {value[:40]!r}") from None
    if not math.isfinite(number):
        raise QueryError(f"{name}: expected a finite number")
    return number


def _flag(value) -> bool:
    return str(value).lower() in ("1", "true", "on", "yes") if value is not None else False


def _like(value: str) -> str:
    """A LIKE pattern matching `value` anywhere, its own % and _ taken literally."""
    escaped = value.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _about_source(condition, narrow: bool = False):
    """Candidates whose subject is, is posted in, or is carried by a source meeting
    `condition` (an expression on Source). A `narrow` condition (one source) is `candidate.id
    IN (a UNION ALL of lookups through the unique (subject_type, subject_id) index)`, which
    PostgreSQL drives from. A broad one (a platform, a region: up to every post) is a
    correlated EXISTS tested on each candidate the queue index yields, through primary keys and
    post_entity's entity index: an uncorrelated `IN (every post id)` does not fit PostgreSQL's
    work_mem once there are a million posts and was re-scanned for each candidate (minutes)."""
    sources = select(Source.id).where(condition)
    posts = select(Post.id).where(Post.source_id.in_(sources))
    entities = (select(PostEntity.entity_id).join(Post, Post.id == PostEntity.post_id)
                .where(Post.source_id.in_(sources)))
    if not narrow:
        source_is = select(Source.id).where(Source.id == Candidate.subject_id, condition)
        post_in = (select(Post.id).join(Source, Source.id == Post.source_id)
                   .where(Post.id == Candidate.subject_id, condition))
        entity_on = (select(PostEntity.post_id).join(Post, Post.id == PostEntity.post_id)
                     .join(Source, Source.id == Post.source_id)
                     .where(PostEntity.entity_id == Candidate.subject_id, condition))
        return or_(and_(Candidate.subject_type == "source", source_is.exists()),
                   and_(Candidate.subject_type == "post", post_in.exists()),
                   and_(Candidate.subject_type == "entity", entity_on.exists()))
    by_subject = aliased(Candidate)

    def subjects(subject_type: str, ids):
        return select(by_subject.id).where(by_subject.subject_type == subject_type,
                                           by_subject.subject_id.in_(ids))

    return Candidate.id.in_(union_all(subjects("source", sources), subjects("post", posts),
                                      subjects("entity", entities)))


def _text_condition(words: str):
    """Words anywhere in the subject: a source's handle, title, about or external id; a post's
    text, title or URL (or its source's); an entity's value. A scan of those columns (a trigram
    index would make it an index search on PostgreSQL)."""
    pattern = _like(words)

    def has(column):
        return func.lower(column).like(pattern, escape="\\")

    return or_(
        _about_source(or_(has(Source.handle), has(Source.title), has(Source.about),
                          has(Source.external_id))),
        and_(Candidate.subject_type == "post", Candidate.subject_id.in_(
            select(Post.id).where(or_(has(Post.text), has(Post.title), has(Post.url))))),
        and_(Candidate.subject_type == "entity", Candidate.subject_id.in_(
            select(Entity.id).where(has(Entity.value)))))


def _rule_condition(session: Session, rule: str):
    """The rule among the candidate's reasons (each {"rule": id, ...}), read as JSON."""
    if session.get_bind().dialect.name == "postgresql":
        return text("EXISTS (SELECT 1 FROM json_array_elements(candidate.reasons) AS r "
                    "WHERE r->>'rule' = :rule_filter)").bindparams(rule_filter=rule)
    return text("EXISTS (SELECT 1 FROM json_each(candidate.reasons) AS r "
                "WHERE json_extract(r.value, '$.rule') = :rule_filter)"
                ).bindparams(rule_filter=rule)


def user_id_of(session: Session, who: str | int | None) -> int | None:
    """A user's id from a username or an id; -1 (matches nobody) when there is no such user."""
    if who is None:
        return None
    if isinstance(who, int) or who.isdigit():
        number = int(who) if len(str(who)) < 12 else -1
        return number if 0 < number <= MAX_ID else -1
    found = session.scalar(select(User.id).where(User.username == who))
    return found if found is not None else -1


def as_filters(filters) -> QueueFilters | None:
    """QueueFilters as given, or from a mapping of strings (a form, a query string)."""
    if filters is None or isinstance(filters, QueueFilters):
        return filters
    if isinstance(filters, Mapping):
        return QueueFilters.from_params(filters)
    raise QueryError(f"filters: expected QueueFilters or a mapping, not {type(filters).__name__}")


def filter_conditions(session: Session, filters: QueueFilters | None, user: User | None,
                      now: datetime | None = None) -> list:
    """The WHERE conditions of `filters` (for the user asking, for "mine")."""
    filters = as_filters(filters) or QueueFilters(status=None)
    strings = [v for v in dataclasses.astuple(filters) if isinstance(v, str)]
    strings += list(filters.status) if isinstance(filters.status, tuple) else []
    if any("\x00" in value for value in strings):
        return [false()]  # no stored text has a NUL (PostgreSQL cannot even compare one)
    conditions = []
    if isinstance(filters.status, str):
        conditions.append(Candidate.status == filters.status)
    elif filters.status:
        conditions.append(Candidate.status.in_(filters.status))
    if filters.category:
        conditions.append(Candidate.category == filters.category)
    if filters.platform:
        conditions.append(_about_source(Source.platform == filters.platform))
    if filters.region:
        conditions.append(_about_source(func.lower(Source.region) == filters.region.lower()))
    if filters.score_min is not None:
        conditions.append(Candidate.score >= filters.score_min)
    if filters.score_max is not None:
        conditions.append(Candidate.score <= filters.score_max)
    if filters.mine:
        conditions.append(Candidate.assigned_to == (user.id if user is not None else -1))
    if filters.assigned_to is not None:
        conditions.append(Candidate.assigned_to == user_id_of(session, filters.assigned_to))
    if filters.source:
        conditions.append(_about_source(_source_match(filters.source), narrow=True))
    if filters.rule:
        conditions.append(_rule_condition(session, filters.rule))
    if filters.text:
        conditions.append(_text_condition(filters.text))
    if filters.spot_check:  # recent dismissals sampled for a second look, and open samples
        conditions.append(or_(Candidate.id.in_(spot_check_ids(session, now)),
                              and_(Candidate.sampled.is_(True), Candidate.status == "open")))
    else:  # an open sample of unflagged posts waits in the spot-check queue only
        conditions.append(or_(Candidate.sampled.is_(False), Candidate.status != "open"))
    return conditions


def _source_match(key: str):
    key = key.strip()
    handle = key.lstrip("@").lower()
    if handle.startswith(("https://t.me/", "t.me/")):
        handle = handle.rstrip("/").rsplit("/", 1)[-1]
    match = or_(Source.handle == handle, Source.external_id == key)
    if key.isdigit() and len(key) < 12 and 0 < int(key) <= MAX_ID:
        match = or_(match, Source.id == int(key))
    return match if key else false()


@dataclass
class QueueRow:
    """One candidate as the queue shows it."""

    id: int
    subject: str  # scraped text: escape it where it is shown
    subject_type: str
    subject_id: int
    category: str
    priority: int
    score: float
    status: str
    claimed_by: str | None  # display name (or username) of whoever holds it
    assigned_to: int | None
    age: timedelta
    created_at: datetime
    reasons: list = field(default_factory=list)

    def as_dict(self) -> dict:
        """For JSON: times as ISO 8601, the age in whole seconds."""
        record = dataclasses.asdict(self)
        record["age"] = int(self.age.total_seconds())
        record["created_at"] = self.created_at.isoformat()
        return record


@dataclass
class QueuePage:
    rows: list[QueueRow]
    total: int  # at most COUNT_CAP beyond this page's end: see `more`
    page: int
    page_size: int
    more: bool = False  # more matches than `total` counted

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def order_of(sort: str | None):
    key = sort or "priority"
    if key not in SORTS:
        raise QueryError(f"sort: expected one of {', '.join(SORTS)}")
    return SORTS[key]


def queue_page(session: Session, filters: QueueFilters | None = None, sort: str = "priority",
               page: int = 1, page_size: int = 50, *, user: User | None = None,
               now: datetime | None = None) -> QueuePage:
    """One page (from 1) of candidates matching `filters`, in `sort` order."""
    if not isinstance(page, int) or not 1 <= page <= 1_000_000:
        raise QueryError("page: expected a whole number from 1")
    if not isinstance(page_size, int) or not 1 <= page_size <= 500:
        raise QueryError("page_size: expected a whole number from 1 to 500")
    now = now or datetime.now(timezone.utc)
    conditions = filter_conditions(session, filters, user, now)
    order = order_of(sort)
    candidates = list(session.scalars(
        select(Candidate).where(*conditions).order_by(*order)
        .limit(page_size).offset((page - 1) * page_size)))
    # Counting every match of a filter over a large queue costs a full scan; count up to a cap
    # past this page instead (the unfiltered queue's count is an index-only count anyway).
    cap = (page - 1) * page_size + COUNT_CAP
    total = session.scalar(select(func.count()).select_from(
        select(Candidate.id).where(*conditions).limit(cap + 1).subquery())) or 0
    return QueuePage(rows_for(session, candidates, now), min(total, cap), page, page_size,
                     more=total > cap)


def rows_for(session: Session, candidates: list[Candidate], now: datetime) -> list[QueueRow]:
    """Display rows; subject lines and users come from a few batched queries of the columns
    they need (`subject_lines`), never one per row."""
    lines = subject_lines(session, candidates)
    holders = sorted({c.assigned_to for c in candidates if c.assigned_to})
    users = {row.id: row.display_name or row.username for row in session.execute(
        select(User.id, User.display_name, User.username).where(User.id.in_(holders)))
        } if holders else {}
    return [QueueRow(
        id=c.id, subject=lines[c.id], subject_type=c.subject_type, subject_id=c.subject_id,
        category=c.category, priority=c.priority, score=c.score, status=c.status,
        claimed_by=users.get(c.assigned_to) if c.assigned_to else None,
        assigned_to=c.assigned_to, age=now - c.created_at, created_at=c.created_at,
        reasons=c.reasons or []) for c in candidates]


__all__ = ["QueryError", "QueueFilters", "QueuePage", "QueueRow", "QueueCounts", "queue_counts",
           "queue_page", "filter_conditions", "spot_check_ids"]
