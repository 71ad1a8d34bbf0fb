"""The learned models, saved as versioned ``.npz`` files of arrays and a JSON metadata string.

No pickle: loading a model file runs no code and does not depend on the scikit-learn version that
wrote it. Two formats load:

* ``kyran-lr/2`` (:class:`FeatureModel`, written by :func:`train_feature_model`): multinomial
  logistic regression over :mod:`detection.features` — the rules' evidence as named features plus
  hashed character and word n-grams. Its probabilities are the detector's scores.
* ``kyran-tfidf-lr/1`` (:class:`LearnedModel`, the first format, still written by
  :func:`train_model`): character n-gram TF-IDF only, blended with the rules' score.

:func:`load_model` reads either. A v2 file is written byte for byte the same from the same data
(fixed zip dates, a version derived from the data and parameters), so the bundled model can be
rebuilt and compared.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from operator import itemgetter
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from detection.features import Features, describe, ngram_text
from detection.normalize import Normalizer, default_normalizer

__all__ = ["LABELS", "FeatureModel", "LearnedModel", "ModelError", "load_model",
           "train_feature_model", "train_model"]

LABELS = ("none", "recruitment", "sale")
FORMAT = "kyran-tfidf-lr/1"
FORMAT_V2 = "kyran-lr/2"
_ZIP_DATE = (2020, 1, 1, 0, 0, 0)  # fixed, so the same model is the same bytes


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


# -- v2: logistic regression over the detector's features ----------------------------------------
@dataclass
class FeatureModel:
    """A loaded ``kyran-lr/2`` model. Named features are matched by name (:meth:`bind`), so a
    model keeps working, without the features it never saw, when a rule or concept is added."""

    version: str
    labels: tuple[str, ...]
    named: tuple[str, ...]
    bits: int
    coef_named: np.ndarray  # (len(named), n_labels)
    coef_char: np.ndarray  # (2 ** bits, n_labels)
    coef_word: np.ndarray  # (2 ** bits, n_labels)
    intercept: np.ndarray  # (n_labels,)
    meta: dict

    @property
    def thresholds(self) -> dict[str, float]:
        """The operating point it was trained for: per category, the score that flags a post
        (``training.THRESHOLDS``); empty for a model saved before it was recorded."""
        return {c: float(t) for c, t in self.meta.get("thresholds", {}).items()}

    def bind(self, names: Sequence[str]) -> np.ndarray:
        """Weights, one row per name of a :class:`~detection.features.FeatureSpace`."""
        pos = {n: i for i, n in enumerate(self.named)}
        out = np.zeros((len(names), len(self.labels)))
        for j, name in enumerate(names):
            if name in pos:
                out[j] = self.coef_named[pos[name]]
        return out

    def logits(self, f: Features, bound: np.ndarray) -> np.ndarray:
        z = self.intercept.copy()
        if f.named:
            idx = np.fromiter(f.named.keys(), dtype=np.int64, count=len(f.named))
            vals = np.fromiter(f.named.values(), dtype=np.float64, count=len(f.named))
            z += vals @ bound[idx]
        if len(f.char_ids):
            z += f.char_vals @ self.coef_char[f.char_ids]
        if len(f.word_ids):
            z += f.word_vals @ self.coef_word[f.word_ids]
        return z

    def predict(self, f: Features, bound: np.ndarray) -> dict[str, float]:
        """The probability of each label."""
        z = self.logits(f, bound)
        p = np.exp(z - z.max())
        p /= p.sum()
        return dict(zip(self.labels, p.tolist(), strict=True))

    def contributions(self, f: Features, bound: np.ndarray, names: Sequence[str], label: str,
                      folded: str, top: int = 5) -> list[tuple[str, float]]:
        """The features that pushed ``label`` up against "none" the most, in words:
        ``[("rule sale.substance_drop", 1.2), ("n-gram «клад»", 0.8), ...]``."""
        j, k = self.labels.index(label), self.labels.index("none")
        found: list[tuple[float, str, str, int]] = []  # (weight, kind, name or block, index)
        if f.named:  # each v * (bound[i, j] - bound[i, k]), all at once
            idx = np.fromiter(f.named.keys(), dtype=np.int64, count=len(f.named))
            vals = np.fromiter(f.named.values(), dtype=np.float64, count=len(f.named))
            rows = bound.take(idx, axis=0)
            weights = (vals * (rows[:, j] - rows[:, k])).tolist()
            found += [(w, "named", names[i], i) for w, i in zip(weights, idx.tolist(),
                                                                 strict=True) if w > 0]
        for block, ids, vals, coef in (("char", f.char_ids, f.char_vals, self.coef_char),
                                       ("word", f.word_ids, f.word_vals, self.coef_word)):
            if len(ids):
                rows = coef.take(ids, axis=0)  # one gather for both labels
                w = vals * (rows[:, j] - rows[:, k])
                pos = np.argsort(-w)[:3 * top]  # overlapping pieces are skipped below
                found += [(x, block, block, i) for x, i in zip(w[pos].tolist(),
                                                               ids[pos].tolist(), strict=True)
                          if x > 0]
        out: list[tuple[str, float]] = []
        seen: set[str] = set()
        grams: list[str] = []
        # Heaviest first, ties in the order found (a reverse sort is stable too); only the
        # positive ones count.
        found.sort(key=itemgetter(0), reverse=True)
        for weight, kind, name, index in found:
            if len(out) == top:
                break
            if kind == "named":
                words = describe(name)
            else:
                gram = ngram_text(folded, self.bits, kind, index)
                if gram is None or not gram.strip():
                    continue
                words = f"{'n-gram' if kind == 'char' else 'words'} «{gram.strip()}»"
                if any(gram.strip() in g or g in gram.strip() for g in grams):
                    continue  # an overlapping piece of a gram already listed
                grams.append(gram.strip())
            if words not in seen:
                seen.add(words)
                out.append((words, round(float(weight), 4)))
        return out

    def save(self, path: Path | str) -> Path:
        """Write the model; the same model gives the same bytes."""
        arrays = {"meta": np.array(json.dumps(self.meta, sort_keys=True)),
                  "intercept": self.intercept.astype(np.float64),
                  "coef_named": self.coef_named.astype(np.float32)}
        for block, coef in (("char", self.coef_char), ("word", self.coef_word)):
            rows = np.nonzero(np.any(coef != 0, axis=1))[0].astype(np.int32)
            arrays[f"{block}_rows"] = rows
            arrays[f"{block}_coef"] = coef[rows].astype(np.float32)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, arr in arrays.items():
                buf = io.BytesIO()
                np.lib.format.write_array(buf, arr, allow_pickle=False)
                info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, buf.getvalue())
        os.replace(tmp, path)
        return path

    @classmethod
    def _from_arrays(cls, path: Path, meta: dict, data) -> FeatureModel:
        labels, named, bits = tuple(meta["labels"]), tuple(meta["named"]), int(meta["bits"])
        if not 8 <= bits <= 24:
            raise ModelError(f"{path}: bits {bits} out of range")
        coefs = {}
        for block in ("char", "word"):
            rows, values = data[f"{block}_rows"], data[f"{block}_coef"]
            if values.shape != (len(rows), len(labels)) or (len(rows) and (
                    rows.min() < 0 or rows.max() >= 1 << bits)):
                raise ModelError(f"{path}: {block} weights do not match the metadata")
            coef = np.zeros((1 << bits, len(labels)), dtype=np.float32)
            coef[rows] = values
            coefs[block] = coef
        coef_named, intercept = data["coef_named"].astype(np.float64), data["intercept"]
        if coef_named.shape != (len(named), len(labels)) or intercept.shape != (len(labels),):
            raise ModelError(f"{path}: array shapes do not match the metadata")
        if "none" not in labels:
            raise ModelError(f"{path}: labels {labels} lack 'none'")
        return cls(meta["version"], labels, named, bits, coef_named, coefs["char"],
                   coefs["word"], intercept.astype(np.float64), meta)


def load_model(path: Path | str) -> LearnedModel | FeatureModel:
    """Either model format from ``path`` (see the module docstring)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            if not isinstance(meta, dict):
                raise ValueError("metadata is not an object")
            if meta.get("format") == FORMAT_V2:
                return FeatureModel._from_arrays(path, meta, data)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        if isinstance(exc, ModelError):
            raise
        raise ModelError(f"{path}: not a Kyran model file ({exc})") from None
    return LearnedModel.load(path)


def train_feature_model(rows: Sequence[Features], labels: Sequence[str], names: Sequence[str],
                        bits: int, *, c: float = 4.0, weights: Sequence[float] | None = None,
                        meta: dict | None = None, named_scale: float = 1.0) -> FeatureModel:
    """Fit multinomial logistic regression on feature rows (from ``Detector.features``), each
    row counting ``weights[i]`` times (default once).

    ``named_scale`` multiplies the named features (rules, concepts, indicators, shape) while
    fitting, and their weights after it, so the saved model reads the features as they are: the
    same penalty then holds a named feature's weight ``1 / named_scale`` times more tightly than
    an n-gram's. A few dozen named features fire on most positives and on their look-alikes;
    held tightly, they stop deciding alone and the words around them get their say.

    ``meta`` (sources, data digest) is recorded in the file; the version is derived from it, the
    parameters and the weights, so the same data and code give the same version."""
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    if len(rows) != len(labels):
        raise ModelError(f"{len(rows)} feature rows but {len(labels)} labels")
    bad = sorted({label for label in labels if label not in LABELS})
    if bad:
        raise ModelError(f"labels {bad} are not in {LABELS}")
    if len(set(labels)) < 2:
        raise ModelError(f"training needs at least two labels, found {sorted(set(labels))}")
    d, h = len(names), 1 << bits
    indptr, cols, vals = [0], [], []
    for f in rows:
        cols += [np.fromiter(f.named.keys(), dtype=np.int64, count=len(f.named)),
                 d + f.char_ids, d + h + f.word_ids]
        vals += [named_scale * np.fromiter(f.named.values(), dtype=np.float64,
                                           count=len(f.named)),
                 f.char_vals, f.word_vals]
        indptr.append(indptr[-1] + len(f.named) + len(f.char_ids) + len(f.word_ids))
    x = csr_matrix((np.concatenate(vals), np.concatenate(cols), np.array(indptr)),
                   shape=(len(rows), d + 2 * h))
    used = np.unique(x.indices)  # most buckets never occur: fit on the columns that do
    clf = LogisticRegression(C=c, max_iter=1000, tol=1e-4).fit(
        x[:, used], list(labels), sample_weight=None if weights is None else np.asarray(weights))
    coef = np.zeros((d + 2 * h, len(LABELS)))
    intercept = np.full(len(LABELS), -30.0)
    classes = list(clf.classes_)
    if len(classes) == 2:  # binary: one row for classes[1]; logits (0, z) give the same softmax
        coef[used, LABELS.index(classes[1])] = clf.coef_[0]
        intercept[LABELS.index(classes[1])] = clf.intercept_[0]
        intercept[LABELS.index(classes[0])] = 0.0
    else:
        for row, label in enumerate(classes):
            coef[used, LABELS.index(label)] = clf.coef_[row]
            intercept[LABELS.index(label)] = clf.intercept_[row]
    coef[:d] *= named_scale  # weights for the unscaled features the detector computes
    info = dict(meta or {})
    info.update({"format": FORMAT_V2, "labels": list(LABELS), "named": list(names),
                 "bits": bits, "C": c, "named_scale": named_scale, "samples": len(rows),
                 "label_counts": {label: list(labels).count(label) for label in LABELS}})
    coef32 = coef.astype(np.float32)
    digest = hashlib.sha256(json.dumps(info, sort_keys=True).encode())
    digest.update(coef32.tobytes())  # the weights too: a change of features changes the version
    info["version"] = f"lr2-{digest.hexdigest()[:12]}"
    return FeatureModel(info["version"], LABELS, tuple(names), bits,
                        coef32[:d].astype(np.float64),
                        coef32[d:d + h], coef32[d + h:], intercept, info)
