"""Benchmark training the model: 10,000 labelled posts, features and fit, in under a minute.

    .venv/bin/python bench/bench_detect_train.py [--posts 10000]

The posts are drawn deterministically from the writers' corpus and the development set, each
with a varied tail and a unique number (so no two are the same string), keeping their labels.
Trained as ``kyran train`` trains: each post with its obfuscated copies
(``detection.training.AUGMENT_COPIES``), hard negatives weighted. Reported: CPU and wall seconds
for the copies and features (rules' evidence + hashed n-grams) and for the fit, and the peak
memory of this process.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_detection import TAILS  # noqa: E402
from detection.evaluate import read_jsonl  # noqa: E402
from detection.training import (REPO_DEV, augmented, featurize, fit, read_corpus,  # noqa: E402
                                rules_detector)


def build_training_set(n: int, seed: int = 7) -> list[dict]:
    pool = [r for recs in read_corpus(ROOT / "detection" / "corpus").values() for r in recs]
    pool += list(read_jsonl(REPO_DEV))
    rng = random.Random(seed)
    out = []
    for i in range(n):
        rec = rng.choice(pool)
        tail = " ".join(rng.choice(TAILS) for _ in range(rng.randint(0, 2)))
        out.append({"text": f"{rec['text']}\n{tail} #{i}".strip(), "label": rec["label"]})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=10_000)
    args = ap.parse_args()
    records = build_training_set(args.posts)
    detector = rules_detector()
    c0, w0 = time.process_time(), time.perf_counter()
    records = records + augmented(records)
    rows = featurize(detector, records)
    c1, w1 = time.process_time(), time.perf_counter()
    model = fit(detector, records, rows=rows)
    c2, w2 = time.process_time(), time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    total = c2 - c0
    print(f"training set: {args.posts} posts, {len(records)} with their obfuscated copies; "
          f"model {model.version}")
    print(f"features: {c1 - c0:.1f} CPU s ({w1 - w0:.1f} s wall)")
    print(f"fit:      {c2 - c1:.1f} CPU s ({w2 - w1:.1f} s wall)")
    print(f"total:    {total:.1f} CPU s ({w2 - w0:.1f} s wall); peak memory {peak:.0f} MB")
    print(f"aim: under a minute: {'met' if total < 60 else 'NOT met'} (CPU time)")


if __name__ == "__main__":
    main()
