"""Analysts' decisions on candidates, the one library the web pages, the JSON API and the command
line all call, so every door records the same events.

Actions: confirm (as sale or recruitment, naming a configured policy), dismiss (with a configured
reason: detection's training data reads `Candidate.decision`/`category` of confirmed ones and
`Candidate.reason` of dismissed ones), escalate, note (an internal note), assign and reopen (lead
or above). Every call appends exactly one event (`decision.<action>`, actor `user:NAME`, payload
with the previous status) and updates the candidate in the same transaction. A decision is never
silently overwritten: deciding a decided candidate fails until a lead reopens it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.config_review import ReviewConfig
from crawler.store.ingest import add_event
from crawler.store.models import Candidate, Event, User

ACTIONS = ("confirm", "dismiss", "escalate", "note", "assign", "reopen")
ROLES = {"analyst": 1, "lead": 2, "admin": 3}
UNDECIDED = ("open", "in_review", "escalated")
DECIDED = ("confirmed", "dismissed", "reported", "taken_down")
CONFIRM_CATEGORIES = ("sale", "recruitment")
MAX_NOTE = 4000
MAX_BULK = 5000
MAX_ID = 2**31 - 1  # ids are INTEGER columns: a larger number names nothing
# The role an action needs; escalated candidates are for leads.
NEEDS = {"confirm": "analyst", "dismiss": "analyst", "escalate": "analyst", "note": "analyst",
         "assign": "lead", "reopen": "lead"}


class DecisionError(Exception):
    """A decision that cannot be made; the message is one line. `status` is the HTTP status a
    web door answers with: 400 bad input, 403 role, 404 no such candidate, 409 conflict."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def has_role(user: User, role: str) -> bool:
    """lead includes analyst, admin includes lead."""
    return bool(user.active) and ROLES.get(user.role, 0) >= ROLES[role]


def actor_of(user: User) -> str:
    return f"user:{user.username}"


def check_actor(user: User | None, role: str, what: str) -> User:
    if user is None:
        raise DecisionError("no user: decisions are made by a named user", 403)
    if not user.active:
        raise DecisionError(f"user {user.username} is deactivated", 403)
    if not has_role(user, role):
        raise DecisionError(f"{what} needs the {role} role; {user.username} is {user.role}", 403)
    return user


@dataclass
class Outcome:
    candidate: Candidate
    event: Event


def locked_candidate(session: Session, candidate_id: int) -> Candidate:
    """The candidate, read afresh and locked until commit (PostgreSQL; SQLite serialises
    writers), so two decisions at once cannot both pass the status check."""
    if not isinstance(candidate_id, int) or isinstance(candidate_id, bool) or candidate_id < 1:
        raise DecisionError(f"candidate id: expected a positive whole number, got "
                            f"{str(candidate_id)[:40]!r}", 404)
    if candidate_id > MAX_ID:
        raise DecisionError(f"no candidate {candidate_id}", 404)
    candidate = session.scalars(
        select(Candidate).where(Candidate.id == candidate_id).with_for_update()
        .execution_options(populate_existing=True)).one_or_none()
    if candidate is None:
        raise DecisionError(f"no candidate {candidate_id}", 404)
    return candidate


def _who(session: Session, user_id: int | None) -> str:
    user = session.get(User, user_id) if user_id else None
    return user.username if user else "someone"


def _resolve_user(session: Session, who: User | str | int | None) -> User | None:
    if who is None or isinstance(who, User):
        return who
    if isinstance(who, int):
        user = session.get(User, who) if 0 < who <= MAX_ID else None
    elif "\x00" in who:
        user = None
    else:
        user = session.scalars(select(User).where(User.username == who.strip())).one_or_none()
    if user is None:
        raise DecisionError(f"no user {str(who)[:64]!r}", 400)
    return user


def validate_request(actor: User, action: str, *, policy: str | None, reason: str | None,
                     note: str | None, category: str | None, assignee: User | None,
                     review: ReviewConfig) -> None:
    """DecisionError with one line when `action` cannot be asked as it is, whatever the
    candidate: an unknown action, a role short of it, a missing or unknown policy or reason."""
    if action not in ACTIONS:
        raise DecisionError(f"unknown action {str(action)[:40]!r}: expected one of "
                            f"{', '.join(ACTIONS)}")
    check_actor(actor, NEEDS[action], action)
    if policy is not None and action != "confirm":
        raise DecisionError("a policy is named by confirm only")
    if reason is not None and action != "dismiss":
        raise DecisionError("a reason is given by dismiss only")
    if category is not None and action != "confirm":
        raise DecisionError("a category is given by confirm only")
    if assignee is not None and action != "assign":
        raise DecisionError("an assignee is named by assign only")
    if note is not None and "\x00" in note:
        raise DecisionError("note: contains a NUL character")
    if note is not None and len(note) > MAX_NOTE:
        raise DecisionError(f"note: at most {MAX_NOTE} characters")
    if category is not None and category not in CONFIRM_CATEGORIES:
        raise DecisionError(f"unknown category {category[:40]!r}: expected sale or recruitment")
    if action == "confirm":
        if not policy:
            raise DecisionError(f"confirm needs a policy: one of {', '.join(review.policies)}")
        if policy not in review.policies:
            raise DecisionError(f"unknown policy {policy[:64]!r}: expected one of "
                                f"{', '.join(review.policies)}")
    if action == "dismiss":
        if not reason:
            raise DecisionError(f"dismiss needs a reason: one of "
                                f"{', '.join(review.dismiss_reasons)}")
        if reason not in review.dismiss_reasons:
            raise DecisionError(f"unknown reason {reason[:64]!r}: expected one of "
                                f"{', '.join(review.dismiss_reasons)}")
    if action == "note" and not (note or "").strip():
        raise DecisionError("note needs the note's text")
    if assignee is not None and not assignee.active:
        raise DecisionError(f"user {assignee.username} is deactivated")


def validate(session: Session, actor: User, candidate: Candidate, action: str, *,
             category: str | None, review: ReviewConfig, now: datetime) -> None:
    """DecisionError with one line when `action` cannot be applied to this candidate now (its
    request already validated)."""
    if action == "confirm" and (category or candidate.category) not in CONFIRM_CATEGORIES:
        raise DecisionError(f"candidate {candidate.id} is {candidate.category}: confirm needs a "
                            "category, sale or recruitment")
    if action == "reopen":
        if candidate.status not in ("confirmed", "dismissed", "escalated"):
            raise DecisionError(f"candidate {candidate.id} is {candidate.status}: only confirmed,"
                                " dismissed or escalated candidates are reopened", 409)
        return
    if action == "note":
        return
    if candidate.status in DECIDED:
        by = f" by {_who(session, candidate.decided_by)}" if candidate.decided_by else ""
        raise DecisionError(f"candidate {candidate.id} is already {candidate.status}{by}; a lead "
                            "must reopen it first", 409)
    if action == "assign":
        return
    if candidate.status == "escalated" and not has_role(actor, "lead"):
        raise DecisionError(f"candidate {candidate.id} is escalated: a lead decides it", 403)
    if action == "escalate" and candidate.status == "escalated":
        raise DecisionError(f"candidate {candidate.id} is already escalated", 409)
    cutoff = now.timestamp() - review.claim_minutes * 60
    held = (candidate.status == "in_review" and candidate.assigned_to not in (None, actor.id)
            and candidate.claimed_at is not None and candidate.claimed_at.timestamp() > cutoff)
    if held and not has_role(actor, "lead"):
        raise DecisionError(f"candidate {candidate.id} is being reviewed by "
                            f"{_who(session, candidate.assigned_to)}", 409)
    assigned = candidate.status == "open" and candidate.assigned_to not in (None, actor.id)
    if assigned and not has_role(actor, "lead"):
        raise DecisionError(f"candidate {candidate.id} is assigned to "
                            f"{_who(session, candidate.assigned_to)}", 409)


def apply(session: Session, actor: User, candidate: Candidate, action: str, *,
          policy: str | None, reason: str | None, note: str | None, category: str | None,
          assignee: User | None, now: datetime, extra: dict | None = None) -> Event:
    """Change the candidate and append its one event (validated beforehand)."""
    payload = {"previous_status": candidate.status, **(extra or {})}
    if note is not None and note.strip():
        payload["note"] = note.strip()
    if action in ("confirm", "dismiss"):
        candidate.status = "confirmed" if action == "confirm" else "dismissed"
        candidate.decided_by, candidate.decided_at = actor.id, now
        candidate.assigned_to = candidate.claimed_at = None
        if action == "confirm":
            chosen = category or candidate.category
            if chosen != candidate.category:
                payload["previous_category"] = candidate.category
            candidate.category = candidate.decision = chosen
            candidate.policy, candidate.reason = policy, None
            payload.update(category=chosen, policy=policy)
        else:
            candidate.decision, candidate.policy, candidate.reason = None, None, reason
            payload.update(reason=reason, category=candidate.category)
    elif action == "escalate":
        candidate.status = "escalated"
        candidate.assigned_to = candidate.claimed_at = None
    elif action == "assign":
        payload["previous_assignee"] = _who(session, candidate.assigned_to) \
            if candidate.assigned_to else None
        payload["assignee"] = assignee.username if assignee else None
        candidate.assigned_to = assignee.id if assignee else None
        candidate.claimed_at = None
        if candidate.status == "in_review":
            candidate.status = "open"
    elif action == "reopen":
        payload.update(previous_decision=candidate.decision, previous_policy=candidate.policy,
                       previous_reason=candidate.reason)
        candidate.status = "open"
        candidate.decision = candidate.policy = candidate.reason = None
        candidate.decided_by = candidate.decided_at = None
        candidate.assigned_to = candidate.claimed_at = None
    candidate.updated_at = now
    event = add_event(session, actor_of(actor), f"decision.{action}", "candidate", candidate.id,
                      **payload)
    event.at = now
    session.flush()
    return event


def decide(session: Session, actor_user: User, candidate_id: int, action: str, *,
           policy: str | None = None, reason: str | None = None, note: str | None = None,
           category: str | None = None, assignee: User | str | int | None = None,
           review: ReviewConfig | None = None, now: datetime | None = None,
           via: str | None = None) -> Outcome:
    """Apply one decision to one candidate: DecisionError (nothing changed) or the candidate
    and its event. `review` is `config.review` (its policies, reasons and claim minutes);
    `via` (web, api, cli) is recorded in the event."""
    review = review or ReviewConfig()
    now = now or datetime.now(timezone.utc)
    policy, reason, category = _blank(policy), _blank(reason), _blank(category)
    target = _resolve_user(session, assignee)
    validate_request(actor_user, action, policy=policy, reason=reason, note=note,
                     category=category, assignee=target, review=review)
    candidate = locked_candidate(session, candidate_id)
    validate(session, actor_user, candidate, action, category=category, review=review, now=now)
    event = apply(session, actor_user, candidate, action, policy=policy, reason=reason,
                  note=note, category=category, assignee=target, now=now,
                  extra={"via": via} if via else None)
    return Outcome(candidate, event)


def bulk_decide(session: Session, actor: User, ids, action: str, *, policy: str | None = None,
                reason: str | None = None, note: str | None = None,
                category: str | None = None, assignee: User | str | int | None = None,
                review: ReviewConfig | None = None, now: datetime | None = None,
                via: str | None = None) -> list[Outcome]:
    """One decision with one reason applied to many candidates (lead or above): one event per
    candidate, all or nothing. DecisionError naming the candidates that cannot take it (and
    nothing changed) when any cannot."""
    check_actor(actor, "lead", "a bulk decision")
    review = review or ReviewConfig()
    now = now or datetime.now(timezone.utc)
    try:
        wanted = sorted({int(i) for i in ids})
    except (TypeError, ValueError):
        raise DecisionError("ids: expected candidate ids (whole numbers)") from None
    if not wanted:
        raise DecisionError("no candidates selected")
    if len(wanted) > MAX_BULK:
        raise DecisionError(f"at most {MAX_BULK} candidates at once, {len(wanted)} selected")
    policy, reason, category = _blank(policy), _blank(reason), _blank(category)
    target = _resolve_user(session, assignee)
    validate_request(actor, action, policy=policy, reason=reason, note=note, category=category,
                     assignee=target, review=review)
    found = {c.id: c for c in session.scalars(
        select(Candidate).where(Candidate.id.in_([i for i in wanted if 0 < i <= MAX_ID]))
        .order_by(Candidate.id).with_for_update().execution_options(populate_existing=True))}
    problems = [f"#{i}: no such candidate" for i in wanted if i not in found]
    for candidate in found.values():
        try:
            validate(session, actor, candidate, action, category=category, review=review,
                     now=now)
        except DecisionError as exc:
            problems.append(f"#{candidate.id}: {exc}")
    if problems:
        shown = "; ".join(problems[:5]) + (f"; … {len(problems) - 5} more"
                                           if len(problems) > 5 else "")
        raise DecisionError(f"{action}: {len(problems)} of {len(wanted)} candidates cannot "
                            f"take it, nothing was changed: {shown}", 409)
    batch = {"bulk": uuid.uuid4().hex, "bulk_size": len(wanted)}
    if via:
        batch["via"] = via
    with session.begin_nested():
        return [Outcome(found[i], apply(session, actor, found[i], action, policy=policy,
                                        reason=reason, note=note, category=category,
                                        assignee=target, now=now, extra=batch))
                for i in wanted]


def _blank(value: str | None) -> str | None:
    return value.strip() or None if isinstance(value, str) else value
