"""What the dashboard shows of detection and reporting in production, beside the review figures:
the spot-check sample's verdicts (the share of unflagged posts analysts found to be ads: what
detection misses) and the takedown figures of reported subjects (evidence/takedowns.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crawler.store.models import Candidate
from evidence.takedowns import Figures, figures, reported_subjects, rereport


@dataclass
class SpotCheck:
    sampled: int  # sampled candidates ever opened
    decided: int
    missed: int  # sampled posts analysts confirmed: ads the detector did not flag

    @property
    def miss_rate(self) -> float | None:
        return self.missed / self.decided if self.decided else None


@dataclass
class Takedowns:
    figures: list[Figures]
    rereport: int
    rereport_after_days: int


def spot_check(session: Session) -> SpotCheck:
    rows = dict(session.execute(select(Candidate.status, func.count()).where(
        Candidate.sampled.is_(True)).group_by(Candidate.status)).all())
    # A sample the detector later flagged leaves the sample (sampled = False): not a miss.
    decided = sum(n for status, n in rows.items() if status not in ("open", "in_review"))
    missed = sum(n for status, n in rows.items()
                 if status in ("confirmed", "reported", "taken_down"))
    return SpotCheck(sum(rows.values()), decided, missed)


def takedowns(session: Session, days: int, now: datetime) -> Takedowns:
    rows = reported_subjects(session)
    return Takedowns(figures(rows, now), len(rereport(rows, days, now)), days)
