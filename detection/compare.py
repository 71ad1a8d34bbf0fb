"""Two models side by side on the same labelled posts: is the new one better than the running one?

``kyran eval --compare NEW.npz`` scores a held-out slice with both models and prints their sale
and recruitment precision/recall/F1 and the negatives (all, and hard ones) each flags. The new
model is *better* when its mean F1 over the two categories is at least the running model's and
it flags no larger share of hard negatives (of all negatives where the slice tags no hard ones),
with one of the two strictly better; *worse* in the mirror case; otherwise the figures are
*mixed* (or the *same*) and an analyst decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from detection.evaluate import HARD_KINDS, EvalReport, evaluate

__all__ = ["Comparison", "compare"]

SCORED = ("sale", "recruitment")


def _mean_f1(report: EvalReport) -> float:
    return sum(report.per_label[c]["f1"] for c in SCORED) / len(SCORED)


def _false_share(report: EvalReport) -> float:
    kept = report.hard_negatives if report.hard_negatives.get("total") else report.negatives
    return kept.get("rate", 0.0)


@dataclass
class Comparison:
    """The new and the running model's reports on the same posts, and which is better."""

    new: EvalReport
    current: EvalReport
    posts: int

    @property
    def better(self) -> str:
        """``new``, ``current``, ``mixed`` or ``same`` (see the module docstring)."""
        df1 = round(_mean_f1(self.new) - _mean_f1(self.current), 6)
        dfp = round(_false_share(self.new) - _false_share(self.current), 6)
        if df1 == 0 and dfp == 0:
            return "same"
        if df1 >= 0 and dfp <= 0:
            return "new"
        if df1 <= 0 and dfp >= 0:
            return "current"
        return "mixed"

    def to_dict(self) -> dict:
        return {"posts": self.posts, "better": self.better,
                "new": _summary(self.new), "current": _summary(self.current)}

    def format(self) -> str:
        lines = [f"{self.posts} posts", f"{'':<22} {'new':>24} {'current':>24}",
                 f"{'model':<22} {self.new.model_version[-24:]:>24} "
                 f"{self.current.model_version[-24:]:>24}"]
        for c in SCORED:
            a, b = self.new.per_label[c], self.current.per_label[c]
            lines.append(f"{c + ' P/R/F1':<22} {_prf(a):>24} {_prf(b):>24}")
        for name, key in (("hard negatives flagged", "hard_negatives"),
                          ("negatives flagged", "negatives")):
            a, b = getattr(self.new, key), getattr(self.current, key)
            lines.append(f"{name:<22} {_share(a):>24} {_share(b):>24}")
        lines.append(f"{'mean F1':<22} {_mean_f1(self.new):>24.3f} "
                     f"{_mean_f1(self.current):>24.3f}")
        verdict = {"new": "the new model is better: switch it on with 'kyran model use'",
                   "current": "the running model is better: keep it",
                   "mixed": "mixed: one model has the higher F1, the other flags fewer "
                            "negatives; an analyst decides",
                   "same": "the same figures"}[self.better]
        return "\n".join(lines + ["", f"better: {self.better} ({verdict})"])


def _summary(report: EvalReport) -> dict:
    return {"model_version": report.model_version,
            **{c: report.per_label[c] for c in SCORED},
            "hard_negatives": report.hard_negatives, "negatives": report.negatives,
            "mean_f1": round(_mean_f1(report), 4)}


def _prf(m: dict) -> str:
    return f"{m['precision']:.3f}/{m['recall']:.3f}/{m['f1']:.3f}"


def _share(m: dict) -> str:
    return f"{m['flagged']}/{m['total']} ({100 * m['rate']:.1f}%)"


def compare(new, current, records: Sequence[dict],
            hard_kinds: tuple[str, ...] = HARD_KINDS) -> Comparison:
    """Score ``records`` with the ``new`` and the ``current`` detector."""
    records = list(records)
    return Comparison(evaluate(new, records, hard_kinds), evaluate(current, records, hard_kinds),
                      len(records))
