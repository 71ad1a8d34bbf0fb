"""Leave-one-writer-out: how the detector does on a writer whose posts it never trained on.

For each writer of a corpus directory, a model is trained on every other writer (plus the extra
training files) and scored on that writer's posts; the rules alone are scored on the same posts
in the same run. The old held-out set (written by the lexicons' authors) is scored by the model
trained on every writer. Figures per writer: sale and recruitment precision/recall/F1, hard
negatives flagged (``kind`` starting with one of ``hard_kinds``) and all negatives flagged; then
the average and the worst writer. Where a writer also wrote whole channels
(``channels/<writer>.json``), the same fold's detector scores them at the source level, so the
channel figures are held out too. A reliability table of the pooled held-out predictions shows
whether the model's probabilities mean what they say.

With ``tuning`` (``kyran eval --by-writer DIR --nested full|temperature``), each held-out writer
is also scored by a model whose settings (calibration, decision shifts, hard-negative weight:
:mod:`detection.tuning`) were chosen by leave-one-writer-out over the *other* writers alone —
nested, so the held-out writer never informs a choice — reported as ``tuned`` with the settings
each fold chose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from detection.config import DetectionConfig
from detection.evaluate import evaluate_channels
from detection.scorer import Detector
from detection.training import DEFAULT_BITS, DEFAULT_C, fit, rules_detector
from detection.tuning import prepare, tuned_fit

__all__ = ["LowoReport", "channel_figures", "figures", "leave_one_writer_out", "reliability"]

SCORED = ("sale", "recruitment")


def figures(records: Sequence[dict], predicted: Sequence[str],
            hard_kinds: Sequence[str] = ("hard/",)) -> dict:
    """Per category precision/recall/F1, and negatives (all and hard) flagged."""
    out: dict = {}
    for c in SCORED:
        tp = sum(r["label"] == c and p == c for r, p in zip(records, predicted, strict=True))
        n_pred = sum(p == c for p in predicted)
        n_true = sum(r["label"] == c for r in records)
        prec = tp / n_pred if n_pred else 0.0
        rec = tp / n_true if n_true else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        out[c] = {"precision": round(prec, 4), "recall": round(rec, 4), "f1": round(f1, 4),
                  "support": n_true}
    neg = [(r, p) for r, p in zip(records, predicted, strict=True) if r["label"] == "none"]
    hard = [(r, p) for r, p in neg if str(r.get("kind", "")).startswith(tuple(hard_kinds))]
    out["negatives"] = {"flagged": sum(p != "none" for _, p in neg), "total": len(neg)}
    out["hard"] = {"flagged": sum(p != "none" for _, p in hard), "total": len(hard)}
    return out


def reliability(pairs: Sequence[tuple[float, bool]], bins: int = 10) -> list[dict]:
    """Per probability bin: how many predictions, their mean, and how often they were right."""
    rows = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        inside = [(p, t) for p, t in pairs if lo <= p < hi or (b == bins - 1 and p == 1.0)]
        if inside:
            rows.append({"bin": f"{lo:.1f}-{hi:.1f}", "n": len(inside),
                         "mean_p": round(sum(p for p, _ in inside) / len(inside), 4),
                         "observed": round(sum(t for _, t in inside) / len(inside), 4)})
    return rows


@dataclass
class LowoReport:
    """Figures per writer (model and rules alone), average, worst, old held-out, reliability."""

    writers: dict[str, dict[str, dict]]  # writer -> {"model": figures, "rules": figures, ...}
    heldout: dict[str, dict] = field(default_factory=dict)
    calibration: list[dict] = field(default_factory=list)
    model_version: str = ""
    settings: dict[str, dict] = field(default_factory=dict)  # writer -> the nested choice
    channels: dict[str, dict[str, dict]] = field(default_factory=dict)  # writer -> which -> dict

    @property
    def kinds(self) -> list[str]:
        first = next(iter(self.writers.values()))
        return [k for k in ("model", "tuned", "rules") if k in first]

    def summary(self, which: str) -> dict[str, dict[str, float]]:
        """``{"average": {...}, "worst": {...}}`` of sale F1, recruitment F1, hard share."""
        rows = [w[which] for w in self.writers.values()]
        share = [r["hard"]["flagged"] / r["hard"]["total"] if r["hard"]["total"] else 0.0
                 for r in rows]
        f1 = {c: [r[c]["f1"] for r in rows] for c in SCORED}
        return {"average": {"sale_f1": sum(f1["sale"]) / len(rows),
                            "recruitment_f1": sum(f1["recruitment"]) / len(rows),
                            "hard_share": sum(share) / len(rows)},
                "worst": {"sale_f1": min(f1["sale"]), "recruitment_f1": min(f1["recruitment"]),
                          "hard_share": max(share)}}

    def to_dict(self) -> dict:
        return {"writers": self.writers, "heldout": self.heldout,
                "summary": {w: self.summary(w) for w in self.kinds},
                "calibration": self.calibration, "model_version": self.model_version,
                "settings": self.settings, "channels": self.channels}

    def format(self) -> str:
        head = (f"{'writer':<10} {'':<6} {'sale P/R/F1':>16} {'recruitment P/R/F1':>20} "
                f"{'hard flagged':>13} {'negatives flagged':>18}")
        lines = [f"leave-one-writer-out (model trained without the writer) vs rules alone; "
                 f"final model {self.model_version}", "", head]
        groups = dict(self.writers)
        if self.heldout:
            groups["old held-out"] = self.heldout
        for name, by in groups.items():
            for which in [k for k in self.kinds if k in by]:
                f = by[which]
                lines.append(
                    f"{name if which == 'model' else '':<10} {which:<6} {_prf(f['sale']):>16} "
                    f"{_prf(f['recruitment']):>20} {_share(f['hard']):>13} "
                    f"{_share(f['negatives']):>18}")
        lines.append("")
        for which in self.kinds:
            s = self.summary(which)
            for what in ("average", "worst"):
                v = s[what]
                lines.append(f"{what} ({which}): sale F1 {v['sale_f1']:.3f}, recruitment F1 "
                             f"{v['recruitment_f1']:.3f}, hard negatives flagged "
                             f"{100 * v['hard_share']:.1f}%")
        if self.channels:
            lines += ["", "channels, scored by the same folds (right / total; errors):"]
            for which in ("model", "rules"):
                right = sum(c[which]["right"] for c in self.channels.values())
                total = sum(c[which]["total"] for c in self.channels.values())
                wrong = [e for c in self.channels.values() for e in c[which]["errors"]]
                lines.append(f"{which:<6} {right} of {total} right"
                             + (f"; {', '.join(wrong)}" if wrong else ""))
        lines += ["", "reliability of the held-out probabilities (each category's score against "
                      "whether the post was that category):",
                  f"{'bin':<9} {'n':>6} {'mean p':>8} {'observed':>9}"]
        lines += [f"{r['bin']:<9} {r['n']:>6} {r['mean_p']:>8.3f} {r['observed']:>9.3f}"
                  for r in self.calibration]
        if self.settings:
            lines += ["", "settings each fold chose on the other writers alone:"]
            lines += [f"{w:<10} {v}" for w, v in self.settings.items()]
        return "\n".join(lines)


def _prf(m: dict) -> str:
    return f"{m['precision']:.2f}/{m['recall']:.2f}/{m['f1']:.2f}"


def _share(m: dict) -> str:
    return f"{m['flagged']}/{m['total']}"


def _categories(detector: Detector, records: Sequence[dict]) -> list[str]:
    return [v.category for v in detector.score_many([r["text"] for r in records])]


def channel_figures(detector, channels: Sequence[dict]) -> dict:
    """How many of ``channels`` (records of :func:`~detection.evaluate.read_channels`) the
    detector gets right at the source level, and the wrong ones as ``id (label -> predicted)``."""
    report = evaluate_channels(detector, channels)
    return {"right": len(channels) - len(report.errors), "total": len(channels),
            "errors": [f"{e['id']} ({e['label']} -> {e['predicted']})" for e in report.errors]}


def leave_one_writer_out(corpus: dict[str, list[dict]], also: Sequence[dict] = (),
                         heldout: Sequence[dict] = (), *, sources: Sequence[str] = (),
                         channels: dict[str, list[dict]] | None = None,
                         lexicons: Path | None = None,
                         config: DetectionConfig | None = None, c: float = DEFAULT_C,
                         bits: int = DEFAULT_BITS, hard_kinds: Sequence[str] = ("hard/",),
                         tuning: str | None = None) -> LowoReport:
    """Train without each writer in turn and score that writer (see the module docstring).
    The model trained on everything (``sources`` name its files) is the one ``kyran train``
    makes from the same data."""
    if len(corpus) < (3 if tuning else 2):
        raise ValueError(f"leave-one-writer-out needs {3 if tuning else 2} writers or more "
                         f"(nested: two inside each fold), found {len(corpus)}")
    rules = rules_detector(lexicons)
    config = config or DetectionConfig(lexicon_dir=lexicons)
    # Each writer's posts and their obfuscated copies, with features, computed once.
    data = prepare(rules, corpus, also)
    parts, rows = data.parts, data.rows
    writers: dict[str, dict[str, dict]] = {}
    settings: dict[str, dict] = {}
    by_channel: dict[str, dict[str, dict]] = {}
    pairs: list[tuple[float, bool]] = []
    for writer, recs in corpus.items():
        train = [r for w in parts if w != writer for r in parts[w]]
        train_rows = [x for w in parts if w != writer for x in rows[w]]
        model = fit(rules, train, rows=train_rows, c=c, bits=bits)
        detector = Detector(config, rules.lexicon, model)
        verdicts = detector.score_many([r["text"] for r in recs])
        for r, v in zip(recs, verdicts, strict=True):
            pairs += [(v.scores[cat], r["label"] == cat) for cat in SCORED]
        writers[writer] = {"model": figures(recs, [v.category for v in verdicts], hard_kinds)}
        if channels and channels.get(writer):
            by_channel[writer] = {"model": channel_figures(detector, channels[writer]),
                                  "rules": channel_figures(rules, channels[writer])}
        if tuning:
            tuned, chosen = tuned_fit(rules, data, [writer], c=c, bits=bits, mode=tuning)
            detector = Detector(config, rules.lexicon, tuned)
            writers[writer]["tuned"] = figures(
                recs, _categories(detector, recs), hard_kinds)
            settings[writer] = chosen.to_dict()
        writers[writer]["rules"] = figures(
            recs, _categories(rules, recs), hard_kinds)
    final = fit(rules, [r for w in parts for r in parts[w]],
                rows=[x for w in parts for x in rows[w]], sources=sources, c=c, bits=bits)
    held: dict[str, dict] = {}
    if heldout:
        detector = Detector(config, rules.lexicon, final)
        held = {"model": figures(heldout, _categories(detector, heldout), hard_kinds),
                "rules": figures(heldout, _categories(rules, heldout), hard_kinds)}
    return LowoReport(writers, held, reliability(pairs), final.version, settings, by_channel)
