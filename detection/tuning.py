"""Settings chosen by leave-one-writer-out on the training writers alone, folded into the model.

For a set of training writers, each is held out in turn (an *inner* fold): a model is trained on
the others and its logits on the held-out writer's posts are kept. From these pooled inner-fold
predictions, never from a writer being judged:

* **calibration** — a temperature and a bias per category (``z / T + b``), fitted by weighted
  log-loss, so a score of 0.8 means about 4 in 5;
* **decision shifts** — a further bias per category, from a small grid, that maximises the mean
  over inner writers of the mean sale/recruitment F1 less the share of hard negatives flagged
  (``HARD_COST`` per unit): a writer whose legitimate posts look like ads weighs as it should;
* the **hard-negative weight** of training, from ``HARD_WEIGHTS``, by the same objective.

All three are folded into the weights of the model trained on every training writer
(:func:`fold_into`), so the saved file stays ``kyran-lr/2``, with 0.5 thresholds as its
operating point. Posts with no evidence at all get the rules' quiet verdict, as in the detector.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from typing import Sequence

import numpy as np

from detection.features import Features
from detection.model import LABELS, FeatureModel

__all__ = ["HARD_COST", "HARD_WEIGHTS", "Settings", "apply", "calibrate", "categories",
           "choose", "fold_into", "objective"]

HARD_COST = 1.0  # a hard negative flagged per 100 costs one point of mean F1
HARD_WEIGHTS = (3.0, 6.0)
SHIFTS = tuple(np.round(np.arange(-1.5, 1.51, 0.25), 2))
SCORED = ("sale", "recruitment")
_J = {label: i for i, label in enumerate(LABELS)}


@dataclass(frozen=True)
class Settings:
    """What the inner folds chose."""

    hard_weight: float
    temperature: float
    bias: tuple[float, float, float]  # calibration, per label of LABELS
    shift: tuple[float, float, float]  # decision, per label of LABELS (none stays 0)

    def to_dict(self) -> dict:
        return {"hard_weight": self.hard_weight, "temperature": round(self.temperature, 4),
                "bias": [round(b, 4) for b in self.bias],
                "shift": [round(s, 4) for s in self.shift]}


@dataclass
class Fold:
    """One held-out writer's posts: logits, labels, kinds and which posts are quiet."""

    logits: np.ndarray  # (n, len(LABELS))
    labels: list[str]
    hard: np.ndarray  # bool (n,)
    quiet: np.ndarray  # bool (n,): no evidence, the detector's rules-only "none"


def logits_of(model: FeatureModel, rows: Sequence[Features], names: Sequence[str]) -> np.ndarray:
    bound = model.bind(names)
    return np.array([model.logits(f, bound) for f in rows]).reshape(len(rows), len(LABELS))


def apply(z: np.ndarray, temperature: float, bias: Sequence[float],
          shift: Sequence[float] = (0.0, 0.0, 0.0)) -> np.ndarray:
    """Probabilities of calibrated, shifted logits."""
    x = z / temperature + np.asarray(bias) + np.asarray(shift)
    x -= x.max(axis=1, keepdims=True)
    p = np.exp(x)
    return p / p.sum(axis=1, keepdims=True)


def categories(p: np.ndarray, quiet: np.ndarray, threshold: float = 0.5) -> list[str]:
    """The detector's decision: the higher of the categories that reach the threshold."""
    out = []
    for row, q in zip(p, quiet, strict=True):
        passing = [c for c in SCORED if row[_J[c]] >= threshold]
        out.append("none" if q or not passing else max(passing, key=lambda c: row[_J[c]]))
    return out


def objective(fold: Fold, predicted: Sequence[str]) -> float:
    """Mean of sale and recruitment F1, less ``HARD_COST`` times the hard share flagged."""
    f1 = []
    for c in SCORED:
        tp = sum(t == c and p == c for t, p in zip(fold.labels, predicted, strict=True))
        n_pred, n_true = predicted.count(c), fold.labels.count(c)
        f1.append(2 * tp / (n_pred + n_true) if n_pred + n_true else 1.0)
    hard = int(fold.hard.sum())
    flagged = sum(p != "none" for p, h in zip(predicted, fold.hard, strict=True) if h)
    return sum(f1) / len(f1) - HARD_COST * (flagged / hard if hard else 0.0)


def calibrate(folds: Sequence[Fold], hard_weight: float, biases: bool = True
              ) -> tuple[float, tuple[float, ...]]:
    """Temperature and (with ``biases``) biases minimising the weighted log-loss of the pooled
    inner folds' posts that the model reads (quiet posts are decided by the rules)."""
    from scipy.optimize import minimize

    z = np.concatenate([f.logits[~f.quiet] for f in folds])
    y = np.concatenate([[_J[lab] for lab, q in zip(f.labels, f.quiet, strict=True) if not q]
                        for f in folds]).astype(int)
    w = np.concatenate([np.where(f.hard[~f.quiet], hard_weight, 1.0) for f in folds])

    def loss(theta: np.ndarray) -> float:
        x = z / np.exp(theta[0]) + np.concatenate([[0.0], theta[1:]])
        x -= x.max(axis=1, keepdims=True)
        logp = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
        return float(-(w * logp[np.arange(len(y)), y]).sum() / w.sum())

    if not biases:
        t = minimize(lambda v: loss(np.array([v[0], 0.0, 0.0])), np.zeros(1),
                     method="L-BFGS-B").x[0]
        return float(np.exp(t)), (0.0, 0.0, 0.0)
    theta = minimize(loss, np.zeros(len(LABELS)), method="L-BFGS-B").x
    return float(np.exp(theta[0])), (0.0, *map(float, theta[1:]))


def choose_shift(folds: Sequence[Fold], temperature: float, bias: Sequence[float]
                 ) -> tuple[tuple[float, float, float], float]:
    """The decision shifts (recruitment, sale) with the best mean objective over the folds;
    ties go to the smallest shift."""
    best: tuple[float, tuple[float, float, float]] | None = None
    for r, s in sorted(product(SHIFTS, SHIFTS), key=lambda t: abs(t[0]) + abs(t[1])):
        shift = (0.0, float(r), float(s))
        value = np.mean([objective(f, categories(apply(f.logits, temperature, bias, shift),
                                                 f.quiet)) for f in folds])
        if best is None or value > best[0] + 1e-9:
            best = (float(value), shift)
    return best[1], best[0]


def choose(folds_by_weight: dict[float, Sequence[Fold]], mode: str = "full"
           ) -> tuple[Settings, float]:
    """The settings with the best inner objective, over the hard weights tried. ``mode``
    ``full`` fits temperature, biases and shifts; ``temperature`` the temperature alone."""
    best: tuple[float, Settings] | None = None
    for hard_weight, folds in folds_by_weight.items():
        temperature, bias = calibrate(folds, hard_weight, biases=mode == "full")
        if mode == "full":
            shift, value = choose_shift(folds, temperature, bias)
        else:
            shift = (0.0, 0.0, 0.0)
            value = float(np.mean([objective(f, categories(apply(f.logits, temperature, bias),
                                                             f.quiet)) for f in folds]))
        if best is None or value > best[0] + 1e-9:
            best = (value, Settings(hard_weight, temperature, tuple(bias), shift))
    return best[1], best[0]


def fold_into(model: FeatureModel, settings: Settings) -> FeatureModel:
    """The model whose logits are ``z / T + bias + shift``: the same file format, the settings
    recorded in its metadata, a version that covers them."""
    import hashlib
    import json

    t = settings.temperature
    offset = np.asarray(settings.bias) + np.asarray(settings.shift)
    # Its shifts were chosen for 0.5 thresholds, so that is its operating point.
    meta = {**model.meta, "tuning": settings.to_dict(),
            "thresholds": {c: 0.5 for c in SCORED}}
    digest = hashlib.sha256((model.version + json.dumps(meta["tuning"], sort_keys=True)).encode())
    meta["version"] = f"lr2-{digest.hexdigest()[:12]}"
    return FeatureModel(meta["version"], model.labels, model.named, model.bits,
                        model.coef_named / t, (model.coef_char / t).astype(np.float32),
                        (model.coef_word / t).astype(np.float32), model.intercept / t + offset,
                        meta)


# -- inner folds over prepared data -------------------------------------------------------------
@dataclass
class Prepared:
    """Every part's records with their obfuscated copies and features, and which original
    posts of each writer are quiet: computed once, shared by every fold."""

    corpus: dict[str, list[dict]]  # writer -> original posts
    parts: dict[str, list[dict]]  # writer (and "" for the extra files) -> posts and copies
    rows: dict[str, list[Features]]
    quiet: dict[str, np.ndarray]

    def fold(self, model: FeatureModel, writer: str, names: Sequence[str]) -> Fold:
        recs = self.corpus[writer]
        return Fold(logits_of(model, self.rows[writer][:len(recs)], names),
                    [r["label"] for r in recs],
                    np.array([str(r.get("kind", "")).startswith("hard/") for r in recs]),
                    self.quiet[writer])


def prepare(rules, corpus: dict[str, list[dict]], also: Sequence[dict]) -> Prepared:
    from detection.training import featurize, with_copies

    parts = with_copies({**corpus, "": list(also)})
    rows = {w: featurize(rules, recs) for w, recs in parts.items()}
    # The detector's own test for a post with no evidence (named _read since scoring batches).
    reads = getattr(rules, "_read", None) or rules._features
    quiet = {w: np.array([reads(r["text"]) is None for r in recs]) for w, recs in corpus.items()}
    return Prepared(dict(corpus), parts, rows, quiet)


def fit_without(rules, data: Prepared, left_out: Sequence[str], *, hard_weight: float, c: float,
                bits: int, sources: Sequence[str] = ()) -> FeatureModel:
    """A model trained on every part but ``left_out``."""
    from detection.training import fit

    keep = [w for w in data.parts if w not in left_out]
    return fit(rules, [r for w in keep for r in data.parts[w]],
               rows=[x for w in keep for x in data.rows[w]], sources=sources, c=c, bits=bits,
               hard_weight=hard_weight)


def tuned_fit(rules, data: Prepared, left_out: Sequence[str] = (), *, c: float, bits: int,
              sources: Sequence[str] = (), mode: str = "full",
              hard_weights: Sequence[float] = HARD_WEIGHTS) -> tuple[FeatureModel, Settings]:
    """Settings chosen by leave-one-writer-out over the writers not ``left_out``, folded into
    the model trained on all of them."""
    writers = [w for w in data.corpus if w not in left_out]
    names = rules.space.names
    folds = {hw: [data.fold(fit_without(rules, data, [*left_out, w], hard_weight=hw, c=c,
                                        bits=bits), w, names) for w in writers]
             for hw in hard_weights}
    settings, _ = choose(folds, mode)
    model = fit_without(rules, data, left_out, hard_weight=settings.hard_weight, c=c, bits=bits,
                        sources=sources)
    return fold_into(model, settings), settings
