"""Benchmark: export of a batch of 100 confirmed candidates with 10,000 evidence posts (each with
its real WARC capture) into one signed evidence package — seconds and peak memory — beside the
baseline of copying the same bytes (the package's members, as built) into a ZIP in the same run;
and, when the verifier is installed (evidence/verify.py), the time to verify the result.

Memory is read two ways: the peak of Python allocations during the call (tracemalloc, in a run
of its own, as it slows the code) and the growth of the process's peak RSS. A smaller batch
(a tenth) is exported too: captures, texts and tables are streamed and stay flat; the one
part held whole is the manifest (about 2.3 KB a post), as Ed25519 signs its exact bytes.
Measured on the shared 2-core machine (load ~12): 10,000 posts in 23 s, Python peak 29 MB
(1,000 posts: 1.8 s, 4.5 MB); the same 62 MB of members copied into a ZIP: 1.3 s.

    .venv/bin/python bench/bench_export.py [--candidates 100] [--posts 100] [--dir DIR]
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
import zipfile
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawler.config import load_config  # noqa: E402
from crawler.store.captures import CaptureWriter  # noqa: E402
from crawler.store.db import open_store  # noqa: E402
from crawler.store.ingest import record_capture  # noqa: E402
from crawler.store.models import (Candidate, Entity, Post, PostCapture, PostEntity,  # noqa: E402
                                  Source, User, Verdict)
from evidence import keys  # noqa: E402
from evidence.build import build_package  # noqa: E402
from evidence.collect import Selection  # noqa: E402

WORDS = ("закладки доставка мефедрон соль шишки работа курьер оплата btc гарантия качество "
         "алматы астана пиши бот кладмен зарплата быстро қала жұмыс").split()


def populate(home: Path, candidates: int, posts: int) -> tuple[object, object, list[int]]:
    (home / "kyran.toml").write_text(
        f'[store]\nurl = "sqlite:///{home}/kyran.sqlite"\ncaptures_dir = "captures"\n'
        '[evidence]\norganisation = "Bench"\norganisation_id = "bench"\n'
        'signing_key_file = "keys/signing.key"\nout_dir = "packages"\n', encoding="utf-8")
    config = load_config(str(home / "kyran.toml"))
    keys.generate(config.resolve(config.evidence.signing_key_file))
    store = open_store(config.database_url)
    rng = random.Random(7)
    writer = CaptureWriter(config.captures_path, fsync=False)
    now = datetime.now(timezone.utc)
    ids = []
    with store.session() as session:
        lead = User(username="lead", password_hash="x", role="lead", display_name="Bench lead")
        session.add(lead)
        pool = [Entity(kind="telegram_bot", value=f"@shop{i}_bot") for i in range(300)]
        pool += [Entity(kind="url", value=f"https://shop{i}.example.kz/p") for i in range(300)]
        session.add_all(pool)
        session.flush()
        for c in range(candidates):
            source = Source(platform="telegram", handle=f"shop_{c}", external_id=str(10**6 + c),
                            title=f"Shop {c}", status="active")
            session.add(source)
            session.flush()
            for p in range(1, posts + 1):
                text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 80)))
                body = (f"<html><body><div class=tgme_widget_message>{text}</div>"
                        + "<p>" + "x" * rng.randint(500, 3000) + "</p></body></html>").encode()
                ref = writer.write_response(f"https://t.me/s/shop_{c}?before={p + 1}", 200,
                                            [("Content-Type", "text/html")], body)
                capture = record_capture(session, ref)
                post = Post(source_id=source.id, external_id=str(p), text=text,
                            url=f"https://t.me/shop_{c}/{p}", content_hash=f"{c}-{p}",
                            posted_at=now, views=p, capture_id=capture.id)
                session.add(post)
                session.flush()
                session.add(PostCapture(post_id=post.id, capture_id=capture.id))
                session.add(Verdict(subject_type="post", subject_id=post.id, category="sale",
                                    score=0.9, model_version="bench"))
                for entity in rng.sample(pool, 3):
                    session.add(PostEntity(post_id=post.id, entity_id=entity.id))
            candidate = Candidate(subject_type="source", subject_id=source.id, category="sale",
                                  decision="sale", policy="drug-sale", status="confirmed",
                                  decided_by=lead.id, decided_at=now)
            session.add(candidate)
            session.flush()
            ids.append(candidate.id)
    writer.close()
    return config, store, ids


def export(store, config, ids, out: Path, trace: bool) -> tuple[float, float, object]:
    """(seconds, peak MB of Python allocations or 0, result)."""
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    result = build_package(store, config, Selection(ids=tuple(ids)), "telegram", "lead",
                           out_dir=out)
    seconds = time.perf_counter() - start
    peak = 0.0
    if trace:
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return seconds, peak, result


def baseline(package: Path, work: Path, trace: bool) -> tuple[float, float, int]:
    """Copy the package's members (extracted beforehand) into a new ZIP, the same way."""
    source_dir = work / "members"
    with zipfile.ZipFile(package) as archive:
        archive.extractall(source_dir)
        infos = archive.infolist()
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    with zipfile.ZipFile(work / "copy.zip", "w", allowZip64=True) as copy:
        for info in infos:
            copy.write(source_dir / info.filename, info.filename, compress_type=info.compress_type)
    seconds = time.perf_counter() - start
    peak = 0.0
    if trace:
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    size = sum(i.file_size for i in infos)
    shutil.rmtree(source_dir)
    return seconds, peak, size


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def arguments(doc: str) -> argparse.Namespace:
    """--candidates, --posts and --dir, as this bench and bench/bench_import.py take them."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=100)
    parser.add_argument("--posts", type=int, default=100, help="evidence posts per candidate")
    parser.add_argument("--dir", type=Path, help="work directory (default: a temporary one)")
    return parser.parse_args()


def main() -> None:
    args = arguments(__doc__)
    work = Path(args.dir or tempfile.mkdtemp(prefix="kyran-bench-export-"))
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    config, store, ids = populate(work, args.candidates, args.posts)
    print(f"store: {len(ids)} candidates, {len(ids) * args.posts} evidence posts "
          f"({time.perf_counter() - t0:.1f} s to make)")
    small = ids[: max(1, len(ids) // 10)]
    rss_before = rss_mb()
    s_small, _, r_small = export(store, config, small, work / "out", trace=False)
    rss_small = rss_mb()
    s_full, _, result = export(store, config, ids, work / "out", trace=False)
    rss_full = rss_mb()
    _, peak_small, _ = export(store, config, small, work / "out", trace=True)
    _, peak_full, _ = export(store, config, ids, work / "out", trace=True)
    b_seconds, _, members = baseline(result.path, work, trace=False)
    _, b_peak, _ = baseline(result.path, work, trace=True)
    print(f"package: {result.path.stat().st_size / 2**20:.1f} MB "
          f"({members / 2**20:.1f} MB of members), {result.items} posts")
    print(f"export {len(small)} candidates ({r_small.items} posts): {s_small:.2f} s, "
          f"Python peak {peak_small:.1f} MB")
    print(f"export {len(ids)} candidates ({result.items} posts): {s_full:.2f} s, "
          f"Python peak {peak_full:.1f} MB; {result.items / s_full:.0f} posts/s")
    print(f"process peak RSS: {rss_before:.0f} MB before, {rss_small:.0f} MB after the small "
          f"export, {rss_full:.0f} MB after the full one")
    print(f"baseline, the same bytes copied into a ZIP: {b_seconds:.2f} s, Python peak "
          f"{b_peak:.1f} MB (export/baseline: {s_full / b_seconds:.1f}x)")
    try:
        from evidence.verify import verify_package
    except ImportError:
        print("verify: evidence/verify.py is not on this branch")
    else:
        start = time.perf_counter()
        report = verify_package(result.path)
        print(f"verify: {time.perf_counter() - start:.2f} s, "
              f"{'valid' if report.ok else 'INVALID: ' + '; '.join(report.problems[:3])}")
    store.dispose()
    if not args.dir:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
