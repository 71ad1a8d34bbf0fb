"""Benchmark: the lxml preview parser against the BeautifulSoup (html.parser) baseline.

Builds a corpus of saved t.me/s pages -- the real reference page when ``../shared`` is beside the
checkout, plus synthetic pages from ``crawler.fixtures.tme_pages`` -- checks that both parsers
agree on every page, then times each over the same corpus in the same run, single-threaded.
Figures are per core: CPU time of this process (wall time is printed too; on a busy machine the
CPU figure is the fairer one).

    .venv/bin/python bench/bench_preview_parse.py [--pages 220] [--rounds 5] [--seed 0]
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawler.fixtures.tme_world import FakeTelegram  # noqa: E402
from spiders.tme_parser import parse_preview, parse_preview_bs4  # noqa: E402

REAL_PAGE = ROOT.parent / "shared/reference/telegram-preview/telegram-channel-page.html"


def build_corpus(pages: int, seed: int) -> list[tuple[bytes, str, str]]:
    """(body, page_url, requested_name) for the real page (if present) and ``pages`` synthetic
    pages, walking each generated channel back with ?before= as a crawler would."""
    corpus = []
    if REAL_PAGE.is_file():
        corpus.append((REAL_PAGE.read_bytes(), "https://t.me/s/telegram", "telegram"))
    per_channel = 20 * 20  # 20 full pages per channel
    world = FakeTelegram.generate(seed=seed, channels=pages // 20 + 4,
                                  posts_per_channel=per_channel)
    synthetic = 0
    for ch in world.channels:
        before = None
        while synthetic < pages:
            status, _, body = world.page(ch.username, before)
            if status != 200:
                break
            url = f"https://t.me/s/{ch.username}" + (f"?before={before}" if before else "")
            corpus.append((body, url, ch.username))
            synthetic += 1
            before = parse_preview(body, url, ch.username).before
            if before is None:
                break
    return corpus


def run(parser, corpus, rounds: int) -> tuple[float, float, int]:
    """CPU seconds, wall seconds and posts parsed for ``rounds`` passes over the corpus."""
    gc.collect()
    posts = 0
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for _ in range(rounds):
        for body, url, name in corpus:
            posts += len(parser(body, url, name).posts)
    return time.process_time() - cpu0, time.perf_counter() - wall0, posts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=220, help="synthetic pages (default 220)")
    ap.add_argument("--rounds", type=int, default=5, help="passes for the lxml parser")
    ap.add_argument("--bs4-rounds", type=int, default=1, help="passes for the bs4 baseline")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    corpus = build_corpus(args.pages, args.seed)
    size = sum(len(b) for b, _, _ in corpus)
    real = "with" if REAL_PAGE.is_file() else "WITHOUT (not found)"
    print(f"corpus: {len(corpus)} pages, {size / 1e6:.1f} MB, {real} the real reference page")
    mismatches = sum(parse_preview(*c) != parse_preview_bs4(*c) for c in corpus)
    print(f"lxml and bs4 results differ on {mismatches} of {len(corpus)} pages")

    results = {}
    for label, parser, rounds in (("lxml (parse_preview)", parse_preview, args.rounds),
                                  ("bs4 html.parser (baseline)", parse_preview_bs4,
                                   args.bs4_rounds)):
        cpu, wall, posts = run(parser, corpus, rounds)
        pages = len(corpus) * rounds
        results[label] = pages / cpu
        print(f"{label:28} {pages / cpu:8.1f} pages/s {posts / cpu:9.0f} posts/s per core "
              f"(cpu {cpu:.2f} s, wall {wall:.2f} s, {rounds} round(s))")
    if REAL_PAGE.is_file():  # the real page is ~3x a synthetic one: report it on its own too
        real_only = corpus[:1]
        for label, parser, rounds in (("real page only, lxml", parse_preview, 100),
                                      ("real page only, bs4", parse_preview_bs4, 10)):
            cpu, _, posts = run(parser, real_only, rounds)
            print(f"{label:28} {rounds / cpu:8.1f} pages/s {posts / cpu:9.0f} posts/s per core")
    lx, bs = results.values()
    print(f"lxml is {lx / bs:.1f}x the bs4 baseline; aim >= 100 pages/s per core: "
          f"{'met' if lx >= 100 else 'NOT met'}")
    return 0 if mismatches == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
