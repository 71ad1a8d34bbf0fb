"""Benchmark: a whole `kyran crawl telegram` against a local fake t.me, beside fetch+parse only.

Builds a deterministic fictional Telegram (``FakeTelegram.generate``; by default 50 channels x
420 posts, ~1,000 preview pages, ~20,000 posts), renders every page once up front and serves the
bytes from ``FixtureServer`` in this process, then crawls all public channels, each run in its
own subprocess with a fresh temp dir (kyran.toml, SQLite store, captures):

  A  full pipeline: ``python -m crawler crawl telegram NAME...`` (captures fsynced + SQLite store)
  B  baseline, fetch + parse only: ``run_spider`` with ITEM_PIPELINES={} and
     KYRAN_CAPTURE_ENABLED=False
  C  full pipeline with KYRAN_CAPTURE_FSYNC=False (the cost of one fsync per capture)

After A and C the store is checked against the world: exactly the expected posts per channel,
each with a capture, one capture per page. B is checked to have parsed exactly the expected
posts. A run that fails a check is reported as such and the exit status is 1.

Per run: wall seconds of the crawl process (spawn to exit; `startup` is spawn to the server's
first request, `tail` its last request to exit), pages fetched, posts stored (A, C) or parsed
(B), pages/s and posts/s over the wall time, CPU seconds of the crawl process and of the fake
server (this process), and peak RSS of the crawl process (``os.wait4``: the child's own
rusage). Ratios are against B. On a shared machine the CPU columns are the steadier figures.

Figures (2 shared cores, ext4, 1,008 pages / 20,160 posts): with a transaction per post, A took
36 s against B's 6.6 s (5.5x), ~70% of A's CPU in SQLAlchemy ORM work per item; with the store
pipeline writing batches (one lookup of a page's posts, one transaction per batch) A takes 11 s
(1.7x B, ~1,800 posts/s). C is as A: fsync per capture is ~0.3 ms here, lost in the noise.

    .venv/bin/python bench/bench_crawl.py [--channels 50] [--posts 420] [--runs ABC] [--profile]
                                          [--keep] [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAGE = 20  # posts per preview page (FakeTelegram.page_size)

RUNS = {
    "A": "full chain: captures (fsync), store, scoring, entities, clusters, queue, discovery, "
         "via `kyran crawl telegram`",
    "S": "the same without scoring: captures + store only (KYRAN_SCORING=False)",
    "B": "baseline: fetch + parse only (ITEM_PIPELINES={}, KYRAN_CAPTURE_ENABLED=False)",
    "C": "full pipeline, KYRAN_CAPTURE_FSYNC=False",
}
CHILD_OVERRIDES = {
    "S": {"KYRAN_SCORING": False},
    "B": {"ITEM_PIPELINES": {}, "KYRAN_CAPTURE_ENABLED": False},
    "C": {"KYRAN_CAPTURE_FSYNC": False},
}


# --------------------------------------------------------------------------- the crawl child


class PostCounter:
    """Scrapy extension for the child runs: counts the posts the spider yields (the baseline
    has no store to count them in)."""

    def __init__(self, crawler) -> None:
        from scrapy import signals

        self.stats = crawler.stats
        crawler.signals.connect(self.scraped, signal=signals.item_scraped)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def scraped(self, item, **_) -> None:
        from crawler.items import PostBatch, PostItem

        if isinstance(item, PostItem):
            self.stats.inc_value("bench/posts_parsed")
        elif isinstance(item, PostBatch):
            self.stats.inc_value("bench/posts_parsed", len(item.posts))


def child_main(argv: list[str]) -> int:
    """``bench_crawl.py --child CONFIG STATS_OUT OVERRIDES_JSON NAME...``: one run_spider."""
    config, out, overrides, *names = argv
    from crawler.crawl import run_spider

    settings = json.loads(overrides)
    settings["EXTENSIONS"] = {"__main__.PostCounter": 0}
    profile_out = os.environ.get("BENCH_CRAWL_PROFILE")
    if profile_out:
        import cProfile

        profiler = cProfile.Profile()
        stats = profiler.runcall(run_spider, "telegram_preview", config, settings,
                                 channels=",".join(names))
        profiler.dump_stats(profile_out)
    else:
        stats = run_spider("telegram_preview", config, settings, channels=",".join(names))
    Path(out).write_text(json.dumps(stats, default=str), encoding="utf-8")
    return 0


# --------------------------------------------------------------------------- the fake t.me


class PageCache:
    """Every page of the world rendered once; the server answers from memory so the fake
    t.me costs as little CPU as possible (it shares the 2 cores with the crawler)."""

    def __init__(self, world) -> None:
        self.world = world
        self.answers: dict[str, tuple[int, list[tuple[str, str]], bytes]] = {}
        self.misses = 0
        self.hits: list[float] = []  # arrival time of each request, for the current run
        self.lock = threading.Lock()

    def warm(self, names: list[str]) -> int:
        for name in names:
            ids = [p.id for p in self.world.posts(name)]
            paths = [f"/s/{name}"]
            # page k (newest first) shows ids[end-20:end]; the next page asks ?before=ids[end-20]
            end = len(ids)
            while end > PAGE:
                end -= PAGE
                paths.append(f"/s/{name}?before={ids[end]}")
            for path in paths:
                self.answers[path] = self._render(path)
        return len(self.answers)

    def _render(self, path: str):
        status, headers, body = self.world.handle(path)
        return status, list(headers.items()), body

    def handler(self, method: str, target: str, headers: dict[str, str]):
        now = time.perf_counter()
        with self.lock:
            self.hits.append(now)
        answer = self.answers.get(target)
        if answer is None:
            with self.lock:
                self.misses += 1
            answer = self._render(target)
        return answer


# --------------------------------------------------------------------------- one run


@dataclass
class Result:
    run: str
    what: str
    wall_s: float = 0.0
    startup_s: float = 0.0
    tail_s: float = 0.0
    pages: int = 0
    posts: int = 0
    pages_per_s: float = 0.0
    posts_per_s: float = 0.0
    crawl_cpu_s: float = 0.0
    server_cpu_s: float = 0.0
    peak_rss_mb: float = 0.0
    server_requests: int = 0
    captures: int | None = None
    store_bytes: int | None = None
    capture_bytes: int | None = None
    returncode: int = 0
    ok: bool = False
    problems: list[str] = field(default_factory=list)
    workdir: str = ""
    profile: dict | None = None


def write_config(workdir: Path, server_url: str, max_pages: int) -> Path:
    path = workdir / "kyran.toml"
    path.write_text(
        '[store]\nurl = "sqlite:///kyran.sqlite"\ncaptures_dir = "captures"\n\n'
        "[crawl]\ndownload_delay = 0\nautothrottle = false\nconcurrent_requests = 16\n"
        'concurrent_requests_per_domain = 16\nlog_level = "WARNING"\nretry_times = 2\n\n'
        f'[telegram_preview]\nbase_url = "{server_url}"\nfirst_visit_max_pages = {max_pages}\n'
        f"max_pages = {max_pages}\n",
        encoding="utf-8",
    )
    return path


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any KYRAN_* variable a developer may have set."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("KYRAN_") and k != "BENCH_CRAWL_PROFILE"}
    env["PYTHONHASHSEED"] = "0"
    return env | extra


def spawn_and_wait(command: list[str], workdir: Path, timeout: float, env: dict[str, str]):
    """Run `command` with output to files; return (returncode, rusage, t_start, t_end).
    ``os.wait4`` gives this child's own rusage (peak RSS, CPU), not the max over all children."""
    out = open(workdir / "stdout.txt", "wb")
    err = open(workdir / "stderr.txt", "wb")
    try:
        t0 = time.perf_counter()
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=err)
        timer = threading.Timer(timeout, lambda: os.kill(proc.pid, signal.SIGKILL))
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        t1 = time.perf_counter()
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        return proc.returncode, usage, t0, t1
    finally:
        out.close()
        err.close()


def store_check(workdir: Path, expected: dict[str, int], pages: int, result: Result) -> None:
    from sqlalchemy import func, select

    from crawler.store.db import open_store
    from crawler.store.models import Capture, Post, Source

    store = open_store(f"sqlite:///{workdir / 'kyran.sqlite'}", migrate=False)
    try:
        with store.session() as session:
            per_source = dict(session.execute(
                select(Source.handle, func.count(Post.id)).join(Post, Post.source_id == Source.id)
                .where(Source.platform == "telegram").group_by(Source.handle)).all())
            no_capture = session.scalar(
                select(func.count()).select_from(Post).where(Post.capture_id.is_(None)))
            result.captures = session.scalar(select(func.count()).select_from(Capture))
    finally:
        store.dispose()
    result.posts = sum(per_source.values())
    wrong = {name: (per_source.get(name, 0), n) for name, n in expected.items()
             if per_source.get(name, 0) != n}
    extra = sorted(set(per_source) - set(expected))
    if wrong:
        sample = ", ".join(f"{k}: {got} stored, {want} expected"
                           for k, (got, want) in list(wrong.items())[:3])
        result.problems.append(f"{len(wrong)} channels with wrong post counts ({sample})")
    if extra:
        result.problems.append(f"posts stored under unexpected sources: {extra[:3]}")
    if no_capture:
        result.problems.append(f"{no_capture} posts without a capture")
    if result.captures != pages:
        result.problems.append(f"{result.captures} captures indexed, {pages} pages expected")
    result.store_bytes = sum(p.stat().st_size for p in workdir.glob("kyran.sqlite*"))
    result.capture_bytes = sum(p.stat().st_size for p in (workdir / "captures").rglob("*")
                               if p.is_file())


def crawl(run: str, cache: PageCache, server, names: list[str], expected: dict[str, int],
          pages: int, max_pages: int, keep_root: Path | None, timeout: float,
          profile: bool = False) -> Result:
    result = Result(run, RUNS[run])
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-crawl-{run}-", dir=keep_root))
    result.workdir = str(workdir)
    config = write_config(workdir, server.url, max_pages)
    stats_out = workdir / "stats.json"
    profile_out = workdir / f"profile-{run}.pstats"
    env = clean_env()
    if run == "A":
        command = [sys.executable, "-m", "crawler", "--config", str(config), "crawl", "telegram",
                   "--stats", *names]  # --stats: the counters this benchmark reads back
        if profile:
            command[1:1] = ["-m", "cProfile", "-o", str(profile_out)]
    else:
        command = [sys.executable, str(Path(__file__).resolve()), "--child", str(config),
                   str(stats_out), json.dumps(CHILD_OVERRIDES[run]), *names]
        if profile:
            env = clean_env(BENCH_CRAWL_PROFILE=str(profile_out))
    with cache.lock:
        cache.hits.clear()
    served0 = len(server.requests)
    cpu0 = time.process_time()
    code, usage, t0, t1 = spawn_and_wait(command, workdir, timeout, env)
    result.server_cpu_s = time.process_time() - cpu0
    result.returncode = code
    result.wall_s = t1 - t0
    result.crawl_cpu_s = usage.ru_utime + usage.ru_stime
    result.peak_rss_mb = usage.ru_maxrss / 1024  # KiB on Linux
    with cache.lock:
        hits = list(cache.hits)
    if hits:
        result.startup_s, result.tail_s = hits[0] - t0, t1 - hits[-1]
    result.server_requests = len(server.requests) - served0
    stderr = (workdir / "stderr.txt").read_text(encoding="utf-8", errors="replace")

    if run == "A":  # the CLI prints `key: value` lines of the crawl stats
        stats = {}
        for line in (workdir / "stdout.txt").read_text(encoding="utf-8").splitlines():
            key, sep, value = line.partition(": ")
            if sep:
                stats[key] = value
    else:
        stats = json.loads(stats_out.read_text(encoding="utf-8")) if stats_out.exists() else {}
    result.pages = int(stats.get("response_received_count", 0))

    if code != 0:
        result.problems.append(f"exit status {code}: {stderr.strip()[-500:]}")
    if result.pages != pages:
        result.problems.append(f"{result.pages} responses, {pages} pages expected")
    for key in ("kyran/store/errors", "kyran/telegram/failed_pages", "log_count/ERROR"):
        if int(stats.get(key, 0) or 0):
            result.problems.append(f"{key} = {stats[key]}")
    if "Traceback" in stderr or " ERROR" in stderr:
        result.problems.append("errors in the crawl's log: " + stderr.strip()[-300:])
    if run == "B":
        result.posts = int(stats.get("bench/posts_parsed", 0))
        if result.posts != sum(expected.values()):
            result.problems.append(f"{result.posts} posts parsed, {sum(expected.values())} "
                                   "expected")
    elif code == 0:
        store_check(workdir, expected, pages, result)
    if result.wall_s > 0:
        result.pages_per_s = result.pages / result.wall_s
        result.posts_per_s = result.posts / result.wall_s
    result.ok = not result.problems
    if profile and profile_out.exists():
        result.profile = profile_summary(profile_out)
    if keep_root is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return result


# --------------------------------------------------------------------------- report


def _bucket(filename: str, function: str) -> str:
    """Which library a profiled function belongs to (C functions by their type's module)."""
    if filename == "~":
        for name in ("sqlite3", "lxml", "zlib", "hashlib", "posix"):
            if name in function:
                return f"{name} (C)"
        if "fsync" in function or "write" in function:
            return "os/io (C)"
        return "other builtins (C)"
    match = re.search(r"(?:site|dist)-packages/([A-Za-z0-9_]+)", filename)
    if match:
        return match.group(1)
    if filename.startswith("<"):  # <frozen ...>, <string>
        return "stdlib"
    try:
        return Path(filename).resolve().relative_to(ROOT).parts[0] + " (kyran)"
    except ValueError:
        return "stdlib"


def profile_summary(path: Path, top: int = 12) -> dict:
    """Own (tottime) CPU seconds per library and the `top` hottest functions of a profile."""
    import pstats

    entries = pstats.Stats(str(path)).stats  # (file, line, func) -> (cc, nc, tt, ct, callers)
    buckets: dict[str, float] = {}
    for (filename, _, function), (_, _, tt, _, _) in entries.items():
        key = _bucket(filename, function)
        buckets[key] = buckets.get(key, 0.0) + tt
    hottest = sorted(entries.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    return {
        "total_s": sum(buckets.values()),
        "by_library_s": dict(sorted(buckets.items(), key=lambda kv: kv[1], reverse=True)),
        "hottest": [{"function": f"{Path(f).name}:{line}({func})", "calls": nc,
                     "own_s": round(tt, 3), "cumulative_s": round(ct, 3)}
                    for (f, line, func), (_, nc, tt, ct, _) in hottest],
    }


def print_profile(r: Result) -> None:
    p = r.profile
    print(f"\n{r.run}: profile, {p['total_s']:.1f} CPU s in the main thread; own time by library:")
    for name, seconds in list(p["by_library_s"].items())[:10]:
        print(f"   {seconds:7.2f}s  {100 * seconds / p['total_s']:5.1f}%  {name}")
    print("   hottest functions (own time):")
    for h in p["hottest"]:
        print(f"   {h['own_s']:7.2f}s  {h['calls']:>8}  {h['function']}")


COLUMNS = [  # (header, attribute, format)
    ("wall s", "wall_s", "{:.1f}"), ("startup", "startup_s", "{:.1f}"),
    ("tail", "tail_s", "{:.1f}"), ("pages", "pages", "{:d}"), ("posts", "posts", "{:d}"),
    ("pages/s", "pages_per_s", "{:.0f}"), ("posts/s", "posts_per_s", "{:.0f}"),
    ("crawl CPU s", "crawl_cpu_s", "{:.1f}"), ("server CPU s", "server_cpu_s", "{:.1f}"),
    ("peak RSS MB", "peak_rss_mb", "{:.0f}"),
]
RATIOS = ["wall_s", "pages_per_s", "posts_per_s", "crawl_cpu_s", "peak_rss_mb"]


def table(results: list[Result]) -> str:
    rows = [["run", *(h for h, _, _ in COLUMNS), "check"]]
    for r in results:
        rows.append([r.run, *(f.format(getattr(r, a)) for _, a, f in COLUMNS),
                     "ok" if r.ok else "FAILED"])
    by_run = {r.run: r for r in results}
    pairs = [("A", "S")] + [(r.run, "B") for r in results if r.run != "B"]
    for top, bottom in pairs:
        if top not in by_run or bottom not in by_run:
            continue
        r, base = by_run[top], by_run[bottom]
        row = [f"{top}/{bottom}"]
        for _, attr, _ in COLUMNS:
            if attr in RATIOS and getattr(base, attr):
                row.append(f"{getattr(r, attr) / getattr(base, attr):.2f}x")
            else:
                row.append("")
        rows.append(row + [""])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [cell.rjust(w) if i else cell.ljust(w)
                 for i, (cell, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return child_main(argv[1:])
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--channels", type=int, default=50, help="channels in the world (default 50)")
    ap.add_argument("--posts", type=int, default=420, help="posts per channel (default 420)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--runs", default="ASB", help="which runs, in order, of A, S, B, C "
                    "(default ASB)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dirs (printed)")
    ap.add_argument("--json", action="store_true", help="one JSON document instead of a table")
    ap.add_argument("--timeout", type=float, default=900, help="seconds per crawl at most")
    ap.add_argument("--profile", action="store_true",
                    help="run each crawl under cProfile and print where its CPU goes (the "
                         "timings of profiled runs are inflated: compare them with each other)")
    args = ap.parse_args(argv)
    runs = [r for r in args.runs.upper() if r in RUNS]
    if not runs or args.channels < 1 or args.posts < 1:
        ap.error("need --runs from A, S, B, C and positive --channels and --posts")

    from crawler.fixtures.server import FixtureServer
    from crawler.fixtures.tme_world import FakeTelegram

    say = (lambda *a: print(*a, file=sys.stderr, flush=True)) if args.json else \
        (lambda *a: print(*a, flush=True))
    t = time.perf_counter()
    world = FakeTelegram.generate(seed=args.seed, channels=args.channels,
                                  posts_per_channel=args.posts)
    public = [ch.username for ch in world.channels if ch.preview == "public"]
    expected = {name.lower(): len(world.posts(name)) for name in public}
    pages = sum(math.ceil(n / PAGE) for n in expected.values())
    max_pages = max(math.ceil(n / PAGE) for n in expected.values()) + 1
    cache = PageCache(world)
    cache.warm(public)
    size = sum(len(body) for _, _, body in cache.answers.values())
    say(f"world: seed {args.seed}, {len(world.channels)} channels, {len(public)} public, "
        f"{sum(expected.values())} posts on {pages} pages ({size / 1e6:.1f} MB), rendered in "
        f"{time.perf_counter() - t:.1f}s")

    keep_root = Path(tempfile.mkdtemp(prefix="bench-crawl-")) if args.keep else None
    results: list[Result] = []
    with FixtureServer(cache.handler) as server:
        for run in runs:
            say(f"run {run}: {RUNS[run]} ...")
            r = crawl(run, cache, server, public, expected, pages, max_pages, keep_root,
                      args.timeout, args.profile)
            say(f"  {r.wall_s:.1f}s, {r.pages} pages, {r.posts} posts"
                + ("" if r.run == "B" else f" in the store ({sum(expected.values())} expected)")
                + ("" if r.ok else f"; FAILED: {'; '.join(r.problems)}"))
            results.append(r)
    if cache.misses:
        say(f"note: {cache.misses} requests for pages not pre-rendered")

    load = os.getloadavg()
    if args.json:
        print(json.dumps({
            "world": {"seed": args.seed, "channels": args.channels, "public_channels": len(public),
                      "posts_per_channel": args.posts, "posts": sum(expected.values()),
                      "pages": pages, "bytes": size},
            "cpus": os.cpu_count(), "loadavg": load,
            "results": [asdict(r) for r in results],
        }, indent=2))
    else:
        print()
        print(table(results))
        print()
        for r in results:
            line = f"{r.run}: {r.what}"
            if r.captures is not None:
                line += (f"; {r.posts} posts stored of {sum(expected.values())} expected, "
                         f"{r.captures} captures; store {r.store_bytes / 1e6:.1f} MB, "
                         f"captures {r.capture_bytes / 1e6:.1f} MB")
            print(line)
            for problem in r.problems:
                print(f"   FAILED: {problem}")
        for r in results:
            if r.profile:
                print_profile(r)
        print(f"\n{os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
              "startup = spawn to first request, tail = last request to exit"
              + ("; PROFILED: timings inflated" if args.profile else ""))
        if keep_root is not None:
            print(f"kept: {keep_root}")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
