"""Takedown tracking: how long reported subjects stayed up.

Per reported candidate: when it was reported (the first `reported` event per recipient), when the
liveness monitor first saw its subject gone, and whether it came back. Per recipient and
platform: the median and 90th percentile time from report to takedown, and the share still up
after 7 and 30 days. Subjects still up are *censored* (their takedown time is only known to be
longer than their age), so the figures are Kaplan–Meier estimates, never means of the ones
that went: removal times are heavy-tailed (lognormal), and a mean of the fast ones flatters.
The re-report list names subjects still up a configurable time after their report.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.store.models import Candidate, Entity, Event, Post, Source
from crawler.store.models_ops import SubjectLiveness

__all__ = ["REPORTED_ACTIONS", "Reported", "Figures", "reported_subjects", "figures",
           "rereport", "survival_quantile", "survival_at"]

REPORTED_ACTIONS = ("reported", "candidate.reported")
BASELINE = ("phishing URLs (2025 study, 286,237 URLs): median lifetime 5.5 h after detection")
HOUR = 3600.0


@dataclass
class Reported:
    """One candidate reported to one recipient, and what became of its subject."""

    candidate_id: int
    recipient: str
    platform: str
    target: str
    reported_at: datetime
    gone_at: datetime | None  # first seen gone after the report
    back_at: datetime | None  # came back after being gone
    package_id: str | None

    @property
    def taken_down(self) -> bool:
        return self.gone_at is not None

    def hours_up(self, now: datetime) -> float:
        """Hours from report to takedown, or to now while it is up."""
        end = self.gone_at or now
        return max(0.0, (end - self.reported_at).total_seconds() / HOUR)

    def as_dict(self, now: datetime) -> dict:
        out = asdict(self)
        for key in ("reported_at", "gone_at", "back_at"):
            out[key] = out[key].isoformat() if out[key] else None
        out["hours_up"] = round(self.hours_up(now), 2)
        return out


@dataclass
class Figures:
    recipient: str
    platform: str
    reported: int
    taken_down: int
    came_back: int
    median_hours: float | None  # None: fewer than half taken down so far
    p90_hours: float | None
    up_after_7d: float | None  # share still up 7 days after the report (None: too recent)
    up_after_30d: float | None


def _as_utc(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment


def _liveness_key(session: Session, candidate: Candidate) -> tuple[tuple[str, int], str, str]:
    """The liveness row a candidate's subject is watched under, its platform and a label."""
    if candidate.subject_type == "post":
        post = session.get(Post, candidate.subject_id)
        if post is not None and post.source.platform == "telegram":
            return ("source", post.source_id), "telegram", f"@{post.source.handle}"
        return ("post", candidate.subject_id), "web", post.url if post else "?"
    if candidate.subject_type == "source":
        source = session.get(Source, candidate.subject_id)
        platform = source.platform if source else "?"
        return ("source", candidate.subject_id), platform, (
            f"@{source.handle}" if source and platform == "telegram" else
            (source.url if source else "?"))
    entity = session.get(Entity, candidate.subject_id)
    kind = entity.kind if entity else "?"
    platform = "telegram" if kind.startswith("telegram") or kind == "invite_link" else "web"
    return ("entity", candidate.subject_id), platform, entity.value if entity else "?"


def reported_subjects(session: Session) -> list[Reported]:
    """Every (candidate, recipient) reported, oldest report first."""
    first: dict[tuple[int, str], tuple[datetime, str | None]] = {}
    for event in session.scalars(select(Event).where(
            Event.subject_type == "candidate", Event.action.in_(REPORTED_ACTIONS))
            .order_by(Event.at, Event.id)):
        payload = event.payload or {}
        key = (event.subject_id, str(payload.get("recipient") or "generic"))
        first.setdefault(key, (_as_utc(event.at), payload.get("package_id")))
    out = []
    for (candidate_id, recipient), (at, package_id) in first.items():
        candidate = session.get(Candidate, candidate_id)
        if candidate is None:
            continue
        (subject_type, subject_id), platform, target = _liveness_key(session, candidate)
        row = session.scalars(select(SubjectLiveness).where(
            SubjectLiveness.subject_type == subject_type,
            SubjectLiveness.subject_id == subject_id)).one_or_none()
        gone = _as_utc(row.first_gone_at) if row is not None else None
        back = _as_utc(row.back_at) if row is not None else None
        if gone is not None and gone < at:
            gone = at  # already gone when reported: taken down at once, as far as we know
        out.append(Reported(candidate_id, recipient, platform, target, at, gone, back,
                            package_id))
    out.sort(key=lambda r: (r.reported_at, r.candidate_id, r.recipient))
    return out


def _kaplan_meier(samples: list[tuple[float, bool]]) -> list[tuple[float, float]]:
    """(time, survival just after it) at each time a takedown was observed."""
    steps, at_risk, survival = [], len(samples), 1.0
    by_time: dict[float, list[bool]] = defaultdict(list)
    for time, event in samples:
        by_time[time].append(event)
    for time in sorted(by_time):
        events = sum(by_time[time])
        if events and at_risk:
            survival *= 1.0 - events / at_risk
            steps.append((time, survival))
        at_risk -= len(by_time[time])
    return steps


def survival_quantile(samples: list[tuple[float, bool]], share_gone: float) -> float | None:
    """The time by which `share_gone` of subjects were taken down (0.5: the median); None when
    the estimate never gets there (too many still up)."""
    for time, survival in _kaplan_meier(samples):
        if 1.0 - survival >= share_gone - 1e-12:
            return time
    return None


def survival_at(samples: list[tuple[float, bool]], hours: float) -> float | None:
    """Share still up `hours` after the report; None when no subject was watched that long."""
    if not any(time >= hours for time, _ in samples):
        return None
    survival = 1.0
    for time, value in _kaplan_meier(samples):
        if time > hours:
            break
        survival = value
    return survival


def _figures(recipient: str, platform: str, rows: list[Reported], now: datetime) -> Figures:
    samples = [(r.hours_up(now), r.taken_down) for r in rows]

    def rounded(value):
        return None if value is None else round(value, 2)
    return Figures(recipient, platform, len(rows), sum(r.taken_down for r in rows),
                   sum(r.back_at is not None for r in rows),
                   rounded(survival_quantile(samples, 0.5)),
                   rounded(survival_quantile(samples, 0.9)),
                   rounded(survival_at(samples, 7 * 24)), rounded(survival_at(samples, 30 * 24)))


def figures(rows: list[Reported], now: datetime | None = None) -> list[Figures]:
    """Per recipient and platform, then all together (recipient and platform "all")."""
    now = now or datetime.now(timezone.utc)
    groups: dict[tuple[str, str], list[Reported]] = defaultdict(list)
    for row in rows:
        groups[(row.recipient, row.platform)].append(row)
    out = [_figures(recipient, platform, group, now)
           for (recipient, platform), group in sorted(groups.items())]
    if rows:
        out.append(_figures("all", "all", rows, now))
    return out


def rereport(rows: list[Reported], days: int, now: datetime | None = None) -> list[Reported]:
    """Subjects still up (never gone, or back) `days` or more after their latest report."""
    now = now or datetime.now(timezone.utc)
    latest: dict[int, Reported] = {}
    for row in rows:
        if row.candidate_id not in latest or row.reported_at > latest[row.candidate_id].reported_at:
            latest[row.candidate_id] = row
    due = now - timedelta(days=days)
    return [row for row in latest.values()
            if row.reported_at <= due and (row.gone_at is None or row.back_at is not None)]
