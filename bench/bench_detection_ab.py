"""The full detector's speed at another revision against the working tree's, interleaved.

    .venv/bin/python bench/bench_detection_ab.py [--rev HEAD] [--posts 40000]

On a shared machine the rate bench_detection.py prints drifts by 10 % and more from one run to
the next with the load of other processes, more than many speed-ups gain. Here both versions
run in one process: the other revision's ``detection`` package is exported (``git archive``) to
a temporary directory as ``detection_ab``, and the two detectors score the same batches of 200
posts (``score_many``) in turn, the order alternating, so both meet the same load. Prints the
CPU time per post of each and the ratio.
"""

from __future__ import annotations

import argparse
import importlib
import io
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_detection import build_corpus  # noqa: E402
from detection.config import DetectionConfig  # noqa: E402
from detection.scorer import Detector  # noqa: E402

_IMPORT = re.compile(r"\b(from|import) detection(?=[. ])")


def load_revision(rev: str, into: Path):
    """``Detector`` and ``DetectionConfig`` of ``detection`` at ``rev``, as ``detection_ab``."""
    tar = subprocess.run(["git", "archive", rev, "detection"], cwd=ROOT, check=True,
                         capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        archive.extractall(into, filter="data")
    package = into / "detection_ab"
    (into / "detection").rename(package)
    for path in package.rglob("*.py"):
        path.write_text(_IMPORT.sub(r"\1 detection_ab", path.read_text(encoding="utf-8")),
                        encoding="utf-8")
    sys.path.insert(0, str(into))
    config = importlib.import_module("detection_ab.config")
    scorer = importlib.import_module("detection_ab.scorer")
    return scorer.Detector, config.DetectionConfig


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rev", default="HEAD", help="the revision to compare with (git)")
    ap.add_argument("--posts", type=int, default=40_000)
    ap.add_argument("--batch", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        other_detector, other_config = load_revision(args.rev, Path(tmp))
        other = other_detector.from_config(other_config())
        here = Detector.from_config(DetectionConfig())
        corpus = build_corpus(args.posts, 0.02, 0.2)
        other.score(corpus[0])
        here.score(corpus[0])
        spent = {args.rev: 0.0, "working tree": 0.0}
        pair = [(args.rev, other), ("working tree", here)]
        for n, i in enumerate(range(0, len(corpus), args.batch)):
            batch = corpus[i:i + args.batch]
            for name, det in pair if n % 2 == 0 else pair[::-1]:
                t0 = time.process_time()
                det.score_many(batch)
                spent[name] += time.process_time() - t0
    print(f"{len(corpus)} posts in batches of {args.batch}, the two in turn (models "
          f"{other.model_version[-16:]} and {here.model_version[-16:]}):")
    for name, t in spent.items():
        print(f"  {name:<14} {len(corpus) / t:8,.0f} posts/s  {t / len(corpus) * 1e6:6.1f} CPU us "
              f"per post")
    print(f"  working tree / {args.rev}: x{spent[args.rev] / spent['working tree']:.2f}")


if __name__ == "__main__":
    main()
