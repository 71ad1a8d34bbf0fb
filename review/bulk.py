"""The bulk workspace's work, apart from the web: choosing the candidates (by the queue's filters
or by ids a person gave), sealing a selection so that what is applied is exactly what was
previewed, and applying one decision to it, skipping (and saying why) the candidates that can no
longer take it.

A selection is sealed with a signed digest (itsdangerous, the app's key, salt "kyran.bulk") of
the user's id and the sorted ids: the ids travel with the forms from preview to confirm to apply,
and a changed list, another user's list or a seal older than an hour is refused. Candidates that
entered the filter after the preview are therefore never swept in.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.config_review import ReviewConfig
from crawler.store.models import Candidate, User
from review.decisions import (MAX_BULK, MAX_ID, DecisionError, bulk_decide, validate,
                              validate_request)
from review.queries import QueryError, QueueFilters, filter_conditions, order_of

ACTIONS = ("confirm", "dismiss", "escalate")
SEAL_SECONDS = 3600
MAX_IDS_TEXT = 200_000  # characters of pasted or carried ids (5,000 ids fit many times over)


class BulkError(ValueError):
    """A selection or a seal that cannot be used; the message is one line."""


def parse_ids(values: list[str]) -> list[int]:
    """Candidate ids from checkbox values and pasted text (separated by commas, spaces or new
    lines, each optionally written #123), sorted and without repeats; BulkError naming the
    first thing that is not an id, or a selection over MAX_BULK."""
    text = " ".join(values)
    if len(text) > MAX_IDS_TEXT:
        raise BulkError(f"ids: at most {MAX_IDS_TEXT} characters")
    ids = set()
    for token in re.split(r"[\s,;]+", text.strip()):
        if not token:
            continue
        number = token[1:] if token.startswith("#") else token
        if not number.isascii() or not number.isdigit() or not 0 < int(number) <= MAX_ID:
            raise BulkError(f"ids: {token[:40]!r} is not a candidate id (a whole number)")
        ids.add(int(number))
    if len(ids) > MAX_BULK:
        raise BulkError(f"at most {MAX_BULK} candidates at once, {len(ids)} given: split the "
                        "list")
    return sorted(ids)


def existing_ids(session: Session, ids: list[int]) -> list[int]:
    """Those of `ids` that name a candidate, in order."""
    found: set[int] = set()
    for start in range(0, len(ids), 500):
        found.update(session.scalars(select(Candidate.id).where(
            Candidate.id.in_(ids[start:start + 500]))))
    return [i for i in ids if i in found]


def ids_by_filter(session: Session, filters: QueueFilters, user: User, sort: str) -> list[int]:
    """The ids of every candidate matching `filters`, in the queue's `sort` order; BulkError
    when more than MAX_BULK match (narrow the filter)."""
    try:
        order = order_of(sort)
    except QueryError as exc:
        raise BulkError(str(exc)) from None
    ids = list(session.scalars(select(Candidate.id).where(
        *filter_conditions(session, filters, user)).order_by(*order).limit(MAX_BULK + 1)))
    if len(ids) > MAX_BULK:
        raise BulkError(f"more than {MAX_BULK} candidates match: narrow the filter (at most "
                        f"{MAX_BULK} at once)")
    return ids


def _digest(user_id: int, ids: list[int]) -> str:
    joined = f"{user_id}:" + ",".join(str(i) for i in sorted(ids))
    return hashlib.sha256(joined.encode()).hexdigest()


def seal(key: bytes, user_id: int, ids: list[int]) -> str:
    """The signed digest of `user_id`'s selection `ids`, carried beside them."""
    return URLSafeTimedSerializer(key, salt="kyran.bulk").dumps(_digest(user_id, ids))


def check_seal(key: bytes, token: str | None, user_id: int, ids: list[int]) -> None:
    """BulkError unless `token` seals exactly `ids` for `user_id`, within SEAL_SECONDS."""
    try:
        sealed = URLSafeTimedSerializer(key, salt="kyran.bulk").loads(
            token or "", max_age=SEAL_SECONDS)
    except SignatureExpired:
        raise BulkError("this selection is over an hour old: preview it again") from None
    except BadSignature:
        raise BulkError("the selection does not match its preview: preview it again") from None
    if sealed != _digest(user_id, ids):
        raise BulkError("the selection does not match its preview: preview it again")


@dataclass
class BulkRequest:
    """One decision for many: the action and what it names."""

    action: str
    policy: str | None = None
    reason: str | None = None
    note: str | None = None

    @classmethod
    def from_form(cls, form) -> BulkRequest:
        """From a form: the policy is kept for confirm only, the reason for dismiss only (the
        form shows both lists)."""
        def get(name):
            value = form.get(name)
            return value.strip() or None if isinstance(value, str) else None

        action = get("action") or ""
        return cls(action=action, policy=get("policy") if action == "confirm" else None,
                   reason=get("reason") if action == "dismiss" else None, note=get("note"))

    def check(self, actor: User, review: ReviewConfig) -> None:
        """DecisionError with one line when this cannot be asked at all."""
        if self.action not in ACTIONS:
            raise DecisionError(f"action: expected one of {', '.join(ACTIONS)}")
        validate_request(actor, self.action, policy=self.policy, reason=self.reason,
                         note=self.note, category=None, assignee=None, review=review)


@dataclass
class BulkResult:
    applied: list[int] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (id, why)
    batch: str | None = None  # the events' shared "bulk" id


def apply_bulk(session: Session, actor: User, ids: list[int], wanted: BulkRequest, *,
               review: ReviewConfig, now: datetime | None = None) -> BulkResult:
    """Apply `wanted` to each of `ids` that can take it now, one event each (through
    `bulk_decide`); the others are skipped with the reason (already decided, gone, …). The
    candidates are locked while they are checked, so none changes between check and apply."""
    wanted.check(actor, review)
    now = now or datetime.now(timezone.utc)
    found: dict[int, Candidate] = {}
    for start in range(0, len(ids), 500):
        found.update((c.id, c) for c in session.scalars(
            select(Candidate).where(Candidate.id.in_(ids[start:start + 500]))
            .with_for_update().execution_options(populate_existing=True)))
    result = BulkResult()
    ready = []
    for candidate_id in ids:
        candidate = found.get(candidate_id)
        if candidate is None:
            result.skipped.append((candidate_id, f"no candidate {candidate_id}"))
            continue
        try:
            validate(session, actor, candidate, wanted.action, category=None, review=review,
                     now=now)
        except DecisionError as exc:
            result.skipped.append((candidate_id, str(exc)))
            continue
        ready.append(candidate_id)
    if ready:
        outcomes = bulk_decide(session, actor, ready, wanted.action, policy=wanted.policy,
                               reason=wanted.reason, note=wanted.note, review=review, now=now,
                               via="web")
        result.applied = [o.candidate.id for o in outcomes]
        result.batch = outcomes[0].event.payload.get("bulk")
    return result
