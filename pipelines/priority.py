"""A candidate's priority, 0–100: how urgently an analyst should look at it.

    score     up to 40   the detection score
    reach     up to 20   subscribers or views, on a log scale (1M and more: full)
    recency   up to 15   the evidence's age, fading over 30 days
    category  up to 20   recruitment 10; recruitment aimed at minors 20
    novelty   up to  5   evidence names a bot, wallet or handle never seen before

Each part is shown with the candidate, so the number explains itself.
"""

from __future__ import annotations

import math
import re
from datetime import datetime

MINORS = re.compile(
    r"(?:\b(?:от|с|c)\s*1[2-7]\s*(?:лет|года|жас)|\b1[2-7]\s*\+|школьник|школьниц|подрост"
    r"|несовершеннолет|для\s+молод|студент|оқушы|жасөспірім|мектеп|\bteen|\bschool)",
    re.IGNORECASE,
)


def aims_at_minors(text: str) -> bool:
    """Recruitment wording that targets teenagers: an age under 18, school pupils, students."""
    return MINORS.search(text) is not None


def priority_parts(score: float, category: str, reach: int | None, posted_at: datetime | None,
                   now: datetime, minors: bool, novel: bool) -> dict[str, float]:
    parts = {"score": 40.0 * max(0.0, min(1.0, score))}
    parts["reach"] = 20.0 * min(1.0, math.log10(max(reach or 0, 1)) / 6.0)
    if posted_at is not None:
        age_days = max(0.0, (now - posted_at).total_seconds() / 86400)
        parts["recency"] = 15.0 * max(0.0, 1.0 - age_days / 30.0)
    else:
        parts["recency"] = 7.5
    parts["category"] = (20.0 if minors else 10.0) if category == "recruitment" else 0.0
    parts["novelty"] = 5.0 if novel else 0.0
    return {name: round(value, 1) for name, value in parts.items()}


def priority(parts: dict[str, float]) -> int:
    return max(0, min(100, round(sum(parts.values()))))
