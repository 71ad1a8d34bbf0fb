"""Benchmark: import of a partner's package of 100 candidates with 10,000 evidence posts (each
with its WARC record) into a fresh store — verification alone, the whole import (verify again,
extract, write captures, sources, posts, verdicts, indicators, candidates in one transaction),
and a re-import of the same package (verified, then found already imported) — with peak Python
allocations and process RSS. The sender's store and package are made as bench/bench_export.py
makes them.

    .venv/bin/python bench/bench_import.py [--candidates 100] [--posts 100] [--dir DIR]
"""

from __future__ import annotations

import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_export import arguments, export, populate  # noqa: E402
from crawler.config import load_config  # noqa: E402
from crawler.store.db import open_store  # noqa: E402
from evidence import keys  # noqa: E402
from evidence.importer import import_package  # noqa: E402
from evidence.verify import verify_package  # noqa: E402


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def receiver(home: Path, sender_key) -> tuple[object, object, keys.TrustedKeys]:
    home.mkdir(parents=True)
    (home / "kyran.toml").write_text(
        f'[store]\nurl = "sqlite:///{home}/kyran.sqlite"\ncaptures_dir = "captures"\n'
        '[evidence]\norganisation_id = "receiver"\ntrusted_keys_dir = "trusted"\n',
        encoding="utf-8")
    config = load_config(str(home / "kyran.toml"))
    trusted = keys.TrustedKeys(config.resolve(config.evidence.trusted_keys_dir))
    trusted.add("bench", sender_key)
    return config, open_store(config.database_url), trusted


def main() -> None:
    args = arguments(__doc__)
    work = args.dir or Path(tempfile.mkdtemp(prefix="kyran-bench-import-"))
    start = time.perf_counter()
    (work / "sender").mkdir(parents=True)
    config, store, ids = populate(work / "sender", args.candidates, args.posts)
    _, _, result = export(store, config, ids, work / "sender" / "packages", trace=False)
    public = keys.load_private_key(config.resolve(config.evidence.signing_key_file)).public_key()
    print(f"sender: {len(ids)} candidates, {result.items} posts, package "
          f"{result.size / 2**20:.1f} MB ({time.perf_counter() - start:.0f} s to make)")

    begin = time.perf_counter()
    report = verify_package(result.path, public)
    print(f"verify: {time.perf_counter() - begin:.2f} s, {'valid' if report.ok else 'INVALID'}")

    r_config, r_store, trusted = receiver(work / "receiver", public)
    rss_before = rss_mb()
    tracemalloc.start()
    begin = time.perf_counter()
    imported = import_package(r_store, result.path, "bench", trusted, r_config.captures_path)
    seconds = time.perf_counter() - begin
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(f"import: {seconds:.2f} s ({result.items / seconds:.0f} posts/s), Python peak "
          f"{peak:.1f} MB, process peak RSS {rss_before:.0f} -> {rss_mb():.0f} MB")
    print(f"  {imported.summary()}")
    begin = time.perf_counter()
    again = import_package(r_store, result.path, "bench", trusted, r_config.captures_path)
    print(f"re-import: {time.perf_counter() - begin:.2f} s, "
          f"{'nothing changed' if again.already else 'IMPORTED AGAIN'}")
    store.dispose()
    r_store.dispose()
    if not args.dir:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
