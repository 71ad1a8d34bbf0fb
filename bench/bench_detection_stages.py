"""Where the full detector's time goes: each stage timed alone over the benchmark corpus.

    .venv/bin/python bench/bench_detection_stages.py [--posts 20000]

Each stage runs over every post (or every post that reaches it) on inputs prepared beforehand,
best of three, and is reported in CPU microseconds per corpus post, beside ``score_many`` in
batches of 200 (what bench_detection.py rates). The stages overlap a little (``_read`` holds the
first eight), so they do not add up to the total exactly.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_detection import build_corpus  # noqa: E402
from detection import quotes  # noqa: E402
from detection.config import DetectionConfig  # noqa: E402
from detection.rules import mark_reported  # noqa: E402
from detection.scorer import Detector  # noqa: E402


def per_post(run, n: int) -> float:
    """Best of three runs of ``run()``, in CPU microseconds per corpus post."""
    best = float("inf")
    for _ in range(3):
        quotes._read.cache_clear()
        t0 = time.process_time()
        run()
        best = min(best, time.process_time() - t0)
    return best / n * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=20_000)
    args = ap.parse_args()
    det = Detector.from_config(DetectionConfig())
    corpus = build_corpus(args.posts, 0.02, 0.2)
    n = len(corpus)
    det.score(corpus[0])
    folded = [det.normalizer.normalize(t) for t in corpus]
    collected = [det._collect(t) for t in corpus]
    matches = [det._matches(t, c[0], c[1], c[2], c[3], "text") for t, c in zip(corpus, collected,
                                                                               strict=True)]
    ruled = [i for i, m in enumerate(matches)
             if det.engine.can_fire({x.concept for x in m} | collected[i][4])]
    marked = {i: mark_reported(matches[i], corpus[i]) for i in ruled}
    frames = {i: quotes.report_frame(corpus[i]) for i in ruled}
    reads = [r for r in (det._read(t) for t in corpus) if r is not None]
    batches = [reads[i:i + 200] for i in range(0, len(reads), 200)]
    probs = [p for b in batches for p in det._predict_many(b)]
    stages = {
        "normalizer.normalize": lambda: [det.normalizer.normalize(t) for t in corpus],
        "matcher.find_spans": lambda: [det.matcher.find_spans(f.text) for f in folded],
        "extractor.extract": lambda: [det.extractor.extract(t) for t in corpus],
        "patterns.find": lambda: [det.patterns.find(f.text) for f in folded],
        "_matches": lambda: [det._matches(t, c[0], c[1], c[2], c[3], "text")
                             for t, c in zip(corpus, collected, strict=True)],
        "quotes.reported_spans": lambda: [quotes.reported_spans(corpus[i]) for i in ruled],
        "quotes.report_frame (spans cached)": lambda: [
            (quotes.reported_spans(corpus[i]), quotes.report_frame(corpus[i])) for i in ruled],
        "engine.evaluate": lambda: [det.engine.evaluate(marked[i], frame=frames[i])
                                    for i in ruled],
        "_read (all of the above)": lambda: [det._read(t) for t in corpus],
        "_predict_many": lambda: [det._predict_many(b) for b in batches],
        "_model_decide": lambda: [det._model_decide(r, p)
                                  for r, p in zip(reads, probs, strict=True)],
        "score_many (batches of 200)": lambda: [det.score_many(corpus[i:i + 200])
                                                for i in range(0, n, 200)],
    }
    print(f"{n} posts, {len(ruled)} reach the rules; CPU us per corpus post, best of 3:")
    for name, run in stages.items():
        print(f"  {name:<36} {per_post(run, n):7.1f}")


if __name__ == "__main__":
    main()
