"""Record the detector's verdicts for a fixed set of texts, or compare them with a recording.

    .venv/bin/python bench/verdict_snapshot.py record /tmp/before.pkl
    .venv/bin/python bench/verdict_snapshot.py compare /tmp/before.pkl

A speed change must not change a single verdict. The texts: every post of the detection corpus
(``detection/corpus/*.jsonl`` and its holdout), every title, description and post of its channels,
``tests/data/*.jsonl``, 20,000 posts of the benchmark corpus, and obfuscated variants
(:mod:`detection.obfuscate`, every kind) of the corpus and dev-set posts. Each text is scored by
the full detector one by one (``score``) and in batches of 200 (``score_many``) and by the rules
alone; each channel by ``score_source``. Floats are compared to 1e-9, everything else exactly.
"""

from __future__ import annotations

import json
import pickle
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_detection import build_corpus  # noqa: E402
from detection.config import DetectionConfig  # noqa: E402
from detection.obfuscate import KINDS, obfuscate  # noqa: E402
from detection.scorer import Detector  # noqa: E402


def texts_and_channels() -> tuple[list[str], list[dict]]:
    corpus = ROOT / "detection/corpus"
    texts: list[str] = []
    base: list[str] = []
    for path in [*sorted(corpus.glob("*.jsonl")), *sorted((corpus / "holdout").glob("*.jsonl")),
                 *sorted((ROOT / "tests/data").glob("*.jsonl"))]:
        for line in path.open(encoding="utf-8"):
            if line.strip():
                base.append(json.loads(line)["text"])
    channels: list[dict] = []
    for path in [*sorted((corpus / "channels").glob("*.json")),
                 *sorted((corpus / "holdout").glob("*.json"))]:
        for ch in json.loads(path.read_text(encoding="utf-8")):
            channels.append(ch)
            base += [t for t in (ch.get("title"), ch.get("description")) if t]
            base += [p if isinstance(p, str) else p.get("text", "") for p in ch.get("posts", [])]
    texts += base
    rng = random.Random(7)
    for text in base:
        for kind in KINDS:
            texts.append(obfuscate(text, kind, rng))
    texts += build_corpus(20_000, 0.02, 0.2)
    return texts, channels


def _verdict(v) -> tuple:
    return (v.category, v.score, sorted(v.scores.items()),
            [(h.rule, h.category, h.concepts, h.contribution,
              [(m.concept, m.term, m.text, m.span, m.weight, m.field, m.reported)
               for m in h.matches]) for h in v.hits],
            [(i.kind, i.value, i.span, i.field) for i in v.indicators],
            [(c.feature, c.weight) for c in v.contributions])


def snapshot() -> dict:
    texts, channels = texts_and_channels()
    full = Detector.from_config(DetectionConfig())
    rules = Detector.from_config(DetectionConfig(rules_only=True))
    out = {"texts": texts}
    out["score"] = [_verdict(full.score(t)) for t in texts]
    many = []
    for i in range(0, len(texts), 200):
        many += [_verdict(v) for v in full.score_many(texts[i:i + 200])]
    out["score_many"] = many
    out["rules"] = [_verdict(rules.score(t)) for t in texts]
    sources = []
    for ch in channels:
        posts = [p if isinstance(p, str) else p.get("text", "") for p in ch.get("posts", [])]
        for det in (full, rules):
            verdicts = det.score_many(posts)
            sources.append(_verdict(det.score_source(ch.get("title"), ch.get("description"),
                                                     None, verdicts)))
    out["sources"] = sources
    return out


def same(a, b, path: str = "") -> str | None:
    """None if ``a`` and ``b`` agree (floats to 1e-9), else where they differ."""
    if isinstance(a, float) and isinstance(b, float):
        return None if abs(a - b) <= 1e-9 else f"{path}: {a!r} != {b!r}"
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            return f"{path}: length {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            d = same(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    return None if a == b and type(a) is type(b) else f"{path}: {a!r} != {b!r}"


def main() -> None:
    mode, path = sys.argv[1], Path(sys.argv[2])
    snap = snapshot()
    if mode == "record":
        path.write_bytes(pickle.dumps(snap))
        print(f"recorded {len(snap['texts'])} texts, {len(snap['sources'])} sources to {path}")
        return
    old = pickle.loads(path.read_bytes())
    assert old["texts"] == snap["texts"], "the texts differ: record again with the old code"
    bad = 0
    for key in ("score", "score_many", "rules", "sources"):
        for i, (x, y) in enumerate(zip(old[key], snap[key], strict=True)):
            d = same(x, y)
            if d:
                bad += 1
                if bad <= 10:
                    text = snap["texts"][i] if key != "sources" else f"source {i}"
                    print(f"{key} #{i} differs {d}\n  text: {text[:200]!r}")
    print(f"{len(snap['texts'])} texts, {len(snap['sources'])} sources: "
          f"{'all identical' if not bad else f'{bad} DIFFER'}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
