"""Benchmark: what the report part's extras add to an export of 100 confirmed candidates with
10,000 evidence posts (bench_export.py's batch): seconds of each hook (request texts from the
templates, screenshots by headless Chromium, report.html, report.pdf, WACZ), the whole export
with and without them, and the peak RSS growth. Screenshots are capped per subject, and the
report shows a bounded number of posts per subject, so the extras cost about the same for any
batch larger than that.

    .venv/bin/python bench/bench_extras.py [--candidates 100] [--posts 100] [--dir DIR]

Measured on 2 shared cores (100 candidates, 10,000 posts): export 11.7 s without extras, 63.7 s
with them — screenshots 26.9 s (200 pages), report.pdf 23.9 s, request texts 1.1 s, report.html
0.9 s, WACZ 2.3 s; the process's peak RSS grew 86 MiB (the screenshots are held in memory).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_export import populate, rss_mb  # noqa: E402
from evidence.build import build_package  # noqa: E402
from evidence.collect import Selection  # noqa: E402
from evidence.extras import Extras  # noqa: E402

HOOKS = ("request_texts", "screenshots", "report_html", "report_pdf", "wacz")


class Timed(Extras):
    """Extras that remember how long each hook took."""

    def __init__(self, config) -> None:
        super().__init__(config)
        self.seconds: dict[str, float] = {}

    def __getattribute__(self, name):
        method = super().__getattribute__(name)
        if name not in HOOKS:
            return method

        def timed(*args):
            start = time.perf_counter()
            try:
                return method(*args)
            finally:
                self.seconds[name] = time.perf_counter() - start
        return timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name, default in (("--candidates", 100), ("--posts", 100)):
        parser.add_argument(name, type=int, default=default)
    parser.add_argument("--dir", type=Path, help="work directory (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        home = Path(tmp)
        start = time.perf_counter()
        config, store, ids = populate(home, args.candidates, args.posts)
        config.evidence.contact_email = "bench@example.org"  # the DSA notice needs one
        print(f"batch: {len(ids)} candidates, {len(ids) * args.posts} posts "
              f"(made in {time.perf_counter() - start:.0f} s)")
        start = time.perf_counter()
        build_package(store, config, Selection(ids=tuple(ids)), "telegram", "lead",
                      out_dir=home / "plain")
        plain = time.perf_counter() - start
        rss = rss_mb()
        extras = Timed(config)
        start = time.perf_counter()
        result = build_package(store, config, Selection(ids=tuple(ids)), "telegram", "lead",
                               extras=extras, out_dir=home / "extras")
        total = time.perf_counter() - start
        print(f"export without extras: {plain:.1f} s; with extras: {total:.1f} s "
              f"({result.path.stat().st_size / 2**20:.1f} MiB)")
        for name in HOOKS:
            print(f"  {name:14s} {extras.seconds.get(name, 0):6.1f} s")
        print(f"peak RSS growth during the export with extras: {rss_mb() - rss:.0f} MiB")
        if extras.notes:
            print("notes: " + "; ".join(extras.notes[:5]))
        store.dispose()


if __name__ == "__main__":
    main()
