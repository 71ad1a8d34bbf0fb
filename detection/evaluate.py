"""Evaluate a detector on labelled posts or whole channels: per-label precision/recall/F1,
confusion, errors, and how many negatives were flagged.

Post records are ``{"id", "text", "label"}`` (``label`` in sale/recruitment/none); channel records
are ``{"id", "title", "description", "posts": [...], "label"}`` (``label`` in shop/recruiter/none,
scored with ``Detector.score_source`` over the posts' verdicts). Every negative flagged is
counted; a negative whose ``"kind"`` starts with one of ``hard_kinds`` (default ``hard/``) is
also counted as a hard one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from detection.verdict import CATEGORIES

__all__ = ["EvalReport", "RecordError", "evaluate", "evaluate_channels", "read_channels",
           "read_jsonl"]

LABELS = ("sale", "recruitment", "none")
CHANNEL_LABELS = {"shop": "sale", "recruiter": "recruitment", "none": "none"}
HARD_KINDS = ("hard/",)


class RecordError(ValueError):
    """A JSON Lines record that cannot be evaluated: ``file:line: reason``."""


def read_jsonl(path: Path | str) -> Iterator[dict]:
    """Records of a JSON Lines file, checked for ``text`` and ``label``; blank lines skipped."""
    path = Path(path)
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise RecordError(f"{path}:{n}: not JSON ({exc.msg})") from None
            if not isinstance(rec, dict) or not isinstance(rec.get("text"), str):
                raise RecordError(f"{path}:{n}: a record needs a string 'text'")
            if rec.get("label") not in CATEGORIES:
                raise RecordError(f"{path}:{n}: 'label' must be one of {CATEGORIES}, "
                                  f"not {rec.get('label')!r}")
            rec.setdefault("id", f"line-{n}")
            yield rec


@dataclass
class EvalReport:
    """Figures for one evaluation run."""

    per_label: dict[str, dict[str, float]]
    macro_f1: float
    accuracy: float
    confusion: dict[str, dict[str, int]]  # true label -> predicted label -> count
    errors: list[dict]
    hard_negatives: dict[str, float] = field(default_factory=dict)
    model_version: str = ""
    negatives: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"per_label": self.per_label, "macro_f1": self.macro_f1, "accuracy": self.accuracy,
                "confusion": self.confusion, "errors": self.errors,
                "hard_negatives": self.hard_negatives, "negatives": self.negatives,
                "model_version": self.model_version}

    def format(self) -> str:
        lines = [f"model: {self.model_version}", "",
                 f"{'label':<12} {'precision':>9} {'recall':>7} {'f1':>7} {'support':>8}"]
        for label in LABELS:
            m = self.per_label[label]
            lines.append(f"{label:<12} {m['precision']:>9.3f} {m['recall']:>7.3f} "
                         f"{m['f1']:>7.3f} {m['support']:>8d}")
        lines.append(f"{'macro F1':<12} {self.macro_f1:>25.3f}")
        lines.append(f"{'accuracy':<12} {self.accuracy:>25.3f}")
        for name, h in (("negatives", self.negatives), ("hard negatives", self.hard_negatives)):
            if h:
                lines.append(f"{name} flagged: {h['flagged']} of {h['total']} "
                             f"({100 * h['rate']:.1f}%)")
        lines += ["", "confusion (rows: true, columns: predicted)",
                  f"{'':<12} " + " ".join(f"{p:>11}" for p in LABELS)]
        for t in LABELS:
            lines.append(f"{t:<12} " + " ".join(f"{self.confusion[t][p]:>11d}" for p in LABELS))
        lines += ["", f"errors: {len(self.errors)}"]
        for e in self.errors:
            lines.append(f"  {e['id']}: true={e['label']} predicted={e['predicted']} "
                         f"score={e['score']:.3f} reasons={', '.join(e['reasons']) or '-'}")
        return "\n".join(lines)


def _share(flagged: int, total: int) -> dict:
    return {"total": total, "flagged": flagged,
            "rate": round(flagged / total, 4) if total else 0.0}


def evaluate(detector, records: Iterable[dict], hard_kinds: tuple[str, ...] = HARD_KINDS
             ) -> EvalReport:
    """Score every post record with ``detector`` and compare with its label."""
    records = list(records)
    return _report(zip(records, _score_all(detector, [r["text"] for r in records]), strict=True),
                   hard_kinds, getattr(detector, "model_version", ""))


def _score_all(detector, texts: list[str]) -> list:
    """Verdicts for ``texts``: in batches where the detector scores batches (the same verdicts,
    faster with a learned model), else one by one."""
    many = getattr(detector, "score_many", None)
    return many(texts) if many else [detector.score(t) for t in texts]


def evaluate_channels(detector, channels: Iterable[dict],
                      hard_kinds: tuple[str, ...] = HARD_KINDS) -> EvalReport:
    """Score every channel record (its posts, then the channel from its title, description and
    the posts' verdicts) and compare with its label."""
    def scored():
        for rec in channels:
            verdicts = _score_all(detector, rec["posts"])
            yield rec, detector.score_source(rec.get("title"), rec.get("description"), None,
                                             verdicts)
    return _report(scored(), hard_kinds, getattr(detector, "model_version", ""))


def _report(scored, hard_kinds: tuple[str, ...], model_version: str) -> EvalReport:
    confusion = {t: {p: 0 for p in LABELS} for t in LABELS}
    errors: list[dict] = []
    negatives = flagged = hard_total = hard_flagged = 0
    n = 0
    for rec, verdict in scored:
        truth, pred = rec["label"], verdict.category
        confusion[truth][pred] += 1
        n += 1
        if truth == "none":
            negatives += 1
            flagged += pred != "none"
            if str(rec.get("kind", "")).startswith(tuple(hard_kinds)):
                hard_total += 1
                hard_flagged += pred != "none"
        if pred != truth:
            errors.append({"id": rec["id"], "label": truth, "predicted": pred,
                           "score": round(verdict.score, 4),
                           "scores": {k: round(v, 4) for k, v in verdict.scores.items()},
                           "reasons": [f"{h.rule}({h.contribution:+.2f}: {', '.join(h.words)})"
                                       for h in verdict.hits]})
    per_label = {}
    for label in LABELS:
        tp = confusion[label][label]
        predicted = sum(confusion[t][label] for t in LABELS)
        support = sum(confusion[label].values())
        p = tp / predicted if predicted else 0.0
        r = tp / support if support else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        per_label[label] = {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f1, 4),
                            "support": support}
    macro = sum(per_label[label]["f1"] for label in LABELS) / len(LABELS)
    accuracy = sum(confusion[label][label] for label in LABELS) / n if n else 0.0
    return EvalReport(per_label, round(macro, 4), round(accuracy, 4), confusion, errors,
                      _share(hard_flagged, hard_total), model_version,
                      _share(flagged, negatives))


def read_channels(path: Path | str) -> list[dict]:
    """Channel records of a JSON file (a list), checked; labels shop/recruiter/none become
    sale/recruitment/none."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise RecordError(f"{path}: cannot read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise RecordError(f"{path}:{exc.lineno}: not JSON ({exc.msg})") from None
    if not isinstance(data, list):
        raise RecordError(f"{path}: expected a JSON list of channels")
    out = []
    for n, rec in enumerate(data, 1):
        where = f"{path}: channel {n}"
        if not isinstance(rec, dict) or not isinstance(rec.get("posts"), list) or not all(
                isinstance(p, str) for p in rec["posts"]):
            raise RecordError(f"{where}: a channel needs 'posts', a list of strings")
        if rec.get("label") not in CHANNEL_LABELS:
            raise RecordError(f"{where}: 'label' must be one of {tuple(CHANNEL_LABELS)}, "
                              f"not {rec.get('label')!r}")
        for key in ("title", "description"):
            if rec.get(key) is not None and not isinstance(rec[key], str):
                raise RecordError(f"{where}: '{key}' must be a string")
        out.append({**rec, "id": rec.get("id", f"channel-{n}"),
                    "label": CHANNEL_LABELS[rec["label"]], "channel_label": rec["label"]})
    return out
