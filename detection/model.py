"""The learned model: character n-gram TF-IDF + logistic regression over folded text.

``train_model`` fits it on labelled records and saves it as one versioned ``.npz`` file holding
only arrays and a JSON metadata string: no pickle, so loading a model file runs no code and does
not depend on the scikit-learn version that wrote it. Features are hashed (``HashingVectorizer``
is stateless), so the file needs only the IDF vector and the regression weights.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from detection.normalize import Normalizer, default_normalizer

__all__ = ["LABELS", "LearnedModel", "ModelError", "train_model"]

LABELS = ("none", "recruitment", "sale")
FORMAT = "kyran-tfidf-lr/1"


class ModelError(ValueError):
    """A model file that cannot be used, or training data that cannot train one."""


def _vectorizer(n_features: int, ngram_range: tuple[int, int]):
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(analyzer="char_wb", ngram_range=ngram_range, n_features=n_features,
                             alternate_sign=False, norm=None, lowercase=False)


@dataclass
class LearnedModel:
    """A loaded model; ``predict_proba`` takes folded texts."""

    version: str
    labels: tuple[str, ...]
    n_features: int
    ngram_range: tuple[int, int]
    idf: np.ndarray
    coef: np.ndarray  # (n_labels, n_features), float64
    intercept: np.ndarray
    meta: dict

    @classmethod
    def load(cls, path: Path | str) -> LearnedModel:
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                idf, coef, intercept = data["idf"], data["coef"], data["intercept"]
        except (OSError, KeyError, ValueError) as exc:
            raise ModelError(f"{path}: not a Kyran model file ({exc})") from None
        if meta.get("format") != FORMAT:
            raise ModelError(f"{path}: format {meta.get('format')!r}, expected {FORMAT!r}")
        n = int(meta["n_features"])
        if idf.shape != (n,) or coef.shape != (len(meta["labels"]), n):
            raise ModelError(f"{path}: array shapes do not match the metadata")
        return cls(meta["version"], tuple(meta["labels"]), n, tuple(meta["ngram_range"]),
                   idf, coef, intercept, meta)

    def predict_proba(self, folded_texts: Sequence[str]) -> list[dict[str, float]]:
        """Per text, the probability of each label."""
        x = _vectorizer(self.n_features, self.ngram_range).transform(list(folded_texts)).tocsr()
        x.data = np.log1p(x.data)  # as in training: log counts, then IDF, then unit length
        x = x.multiply(self.idf.reshape(1, -1)).tocsr()
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1))).ravel()
        norms[norms == 0] = 1.0
        logits = np.asarray(x @ self.coef.T) / norms[:, None] + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        # One column per label: load() checks coef has one row per label.
        return [dict(zip(self.labels, map(float, row), strict=True)) for row in p]


def train_model(records: Iterable[dict], out_dir: Path | str, *,
                normalizer: Normalizer | None = None, n_features: int = 1 << 18,
                ngram_range: tuple[int, int] = (2, 5), c: float = 8.0,
                source: str = "") -> tuple[Path, LearnedModel]:
    """Fit on ``{"text", "label"}`` records and save ``<out_dir>/<version>.npz``."""
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.linear_model import LogisticRegression

    norm = normalizer or default_normalizer()
    texts, labels = [], []
    for i, rec in enumerate(records, 1):
        label = rec.get("label")
        if label not in LABELS or not isinstance(rec.get("text"), str):
            raise ModelError(f"record {i}: needs 'text' and a label in {LABELS}")
        texts.append(norm.normalize(rec["text"]).text)
        labels.append(label)
    present = sorted(set(labels))
    if len(present) < 2:
        raise ModelError(f"training needs at least two labels, found {present}")
    vec = _vectorizer(n_features, ngram_range)
    counts = vec.transform(texts)
    counts.data = np.log1p(counts.data)
    tfidf = TfidfTransformer(sublinear_tf=False).fit(counts)
    x = tfidf.transform(counts)
    clf = LogisticRegression(C=c, max_iter=3000, class_weight="balanced").fit(x, labels)
    # Expand to all labels so the file always has rows for none/recruitment/sale.
    coef = np.zeros((len(LABELS), n_features), dtype=np.float64)
    intercept = np.full(len(LABELS), -30.0)
    classes = list(clf.classes_)
    if len(classes) == 2:  # binary LR: one row for classes[1]; logits (0, z) give the same softmax
        coef[LABELS.index(classes[1])] = clf.coef_[0]
        intercept[LABELS.index(classes[1])] = clf.intercept_[0]
        intercept[LABELS.index(classes[0])] = 0.0
    else:
        for row, label in enumerate(classes):
            coef[LABELS.index(label)] = clf.coef_[row]
            intercept[LABELS.index(label)] = clf.intercept_[row]
    # texts and labels are appended together, one pair per record.
    pairs = "\n".join(f"{label}\t{text}" for text, label in zip(texts, labels, strict=True))
    digest = hashlib.sha256(pairs.encode()).hexdigest()
    stamp = datetime.now(timezone.utc)
    version = f"tfidf-lr-{stamp:%Y%m%dT%H%M%SZ}-{digest[:8]}"
    meta = {"format": FORMAT, "version": version, "labels": list(LABELS),
            "n_features": n_features, "ngram_range": list(ngram_range),
            "trained_at": stamp.isoformat(), "samples": len(texts),
            "label_counts": {label: labels.count(label) for label in LABELS},
            "data_sha256": digest, "source": source, "C": c}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{version}.npz"
    np.savez_compressed(path, meta=np.array(json.dumps(meta)), idf=tfidf.idf_.astype(np.float64),
                        coef=coef, intercept=intercept)
    return path, LearnedModel.load(path)
