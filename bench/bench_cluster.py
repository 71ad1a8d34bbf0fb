"""Benchmark: near-duplicate clustering of 100k and 1M synthetic posts (is the growth linear?).

The corpus mixes reposted ads (a few thousand templates, each reposted with other prices,
handles and emoji) with ordinary posts written from a vocabulary, deterministically. Kyran's
index (`pipelines.neardup.NearDuplicateIndex`, batches of 200 as the chain gives them) runs over
each size with the in-memory band store; the figure to read is microseconds per post at 100k
against 1M (linear growth: the same). The baseline, in the same run, is datasketch's own
`MinHashLSH` (query, then insert a new head) on the first 100k posts, one MinHash at a time.
Both are checked to put every repost of a template in one cluster.

    .venv/bin/python bench/bench_cluster.py [--sizes 100000,1000000] [--baseline 100000]
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.neardup import (  # noqa: E402
    BANDS,
    NUM_PERM,
    MemoryBandStore,
    NearDuplicateIndex,
    Signer,
    similarity,
)

WORDS = ("алматы астана доставка работа город новости продам куплю телефон машина квартира "
         "срочно недорого скидка магазин открытие концерт погода пробки парк школа курсы "
         "ремонт мебель одежда обувь детский сад врач аптека такси кафе меню акция подарок "
         "жұмыс қала жаңалықтар сатамын аламын пәтер көлік бағасы тегін").split()
EMOJI = ("🔥", "✅", "💎", "🚀", "❗", "")


def template(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(14, 30)))


def corpus(size: int, seed: int = 1, templates: int = 3000, repost_share: float = 0.3):
    """(text, template id or None) for `size` posts."""
    rng = random.Random(seed)
    ads = [template(rng) for _ in range(templates)]
    for _ in range(size):
        if rng.random() < repost_share:
            t = rng.randrange(templates)
            yield (f"{rng.choice(EMOJI)} {ads[t]} цена {rng.randint(1, 99)} 000 тг "
                   f"пиши @shop_{rng.randint(1, 10**6)}_bot {rng.choice(EMOJI)}", t)
        else:
            yield template(rng) + f" {rng.randint(1, 10**9)}", None


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_kyran(size: int) -> tuple[float, dict]:
    index = NearDuplicateIndex(MemoryBandStore())
    clusters_of: dict[int, set] = {}
    batch, start, post_id = [], time.perf_counter(), 0
    texts = corpus(size)
    templates: dict[int, int] = {}
    for text, origin in texts:
        post_id += 1
        batch.append((post_id, text))
        if origin is not None:
            templates[post_id] = origin
        if len(batch) == 200:
            for a in index.assign_all(batch):
                if a.post_id in templates:
                    clusters_of.setdefault(templates[a.post_id], set()).add(a.cluster)
            batch = []
    for a in index.assign_all(batch):
        if a.post_id in templates:
            clusters_of.setdefault(templates[a.post_id], set()).add(a.cluster)
    seconds = time.perf_counter() - start
    split = sum(1 for found in clusters_of.values() if len(found) > 1)
    return seconds, {"heads": len(index.store), "templates split": split}


def run_datasketch(size: int, threshold: float = 0.6) -> tuple[float, dict]:
    from datasketch import MinHashLSH

    signer = Signer()
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM, params=(BANDS, NUM_PERM // BANDS))
    heads: dict[str, object] = {}
    clusters_of: dict[int, set] = {}
    start = time.perf_counter()
    for post_id, (text, origin) in enumerate(corpus(size), 1):
        minhash = signer.minhash(text)
        if minhash is None:
            continue
        best, best_similarity = None, 0.0
        for key in lsh.query(minhash):
            score = similarity(minhash.hashvalues, heads[key].hashvalues)
            if score > best_similarity:
                best, best_similarity = key, score
        if best is None or best_similarity < threshold:
            best = str(post_id)
            lsh.insert(best, minhash)
            heads[best] = minhash
        if origin is not None:
            clusters_of.setdefault(origin, set()).add(best)
    seconds = time.perf_counter() - start
    split = sum(1 for found in clusters_of.values() if len(found) > 1)
    return seconds, {"heads": len(heads), "templates split": split}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--baseline", type=int, default=100000,
                    help="posts for the datasketch MinHashLSH baseline (0: skip)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    if args.baseline:
        seconds, info = run_datasketch(args.baseline)
        rows.append(("datasketch MinHashLSH (baseline)", args.baseline, seconds, info))
        print(f"baseline done: {args.baseline} posts in {seconds:.1f} s", flush=True)
    for size in sizes:
        seconds, info = run_kyran(size)
        rows.append(("kyran NearDuplicateIndex", size, seconds, info))
        print(f"kyran done: {size} posts in {seconds:.1f} s (peak RSS {peak_mb():.0f} MB)",
              flush=True)
    print(f"\n{'method':34} {'posts':>9} {'seconds':>8} {'µs/post':>8} {'heads':>9} split")
    for method, size, seconds, info in rows:
        print(f"{method:34} {size:>9} {seconds:>8.1f} {1e6 * seconds / size:>8.1f} "
              f"{info['heads']:>9} {info['templates split']}")
    kyran = [(size, seconds) for method, size, seconds, _ in rows if method.startswith("kyran")]
    if len(kyran) >= 2:
        (n0, t0), (n1, t1) = kyran[0], kyran[-1]
        print(f"\ngrowth: {n1 / n0:.0f}x the posts took {t1 / t0:.1f}x the time "
              f"(per post: {(t1 / n1) / (t0 / n0):.2f}x; 1.00x is linear)")
    base = [(size, seconds) for method, size, seconds, _ in rows if "baseline" in method]
    same = [(size, seconds) for size, seconds in kyran if base and size == base[0][0]]
    if base and same:
        print(f"kyran is {base[0][1] / same[0][1]:.1f}x the datasketch baseline at "
              f"{base[0][0]} posts")
    print(f"peak RSS {peak_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
