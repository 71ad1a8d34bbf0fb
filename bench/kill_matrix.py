"""The kill-and-cut matrix: crawls broken on purpose, then run again, with the posts lost, doubled
and orphaned counted against what the fake Telegram holds.

Every run crawls a deterministic fictional Telegram (``FakeTelegram.generate``; by default 6
channels x 200 posts, 4 of them with a public preview) served on loopback, into a fresh store,
breaks it with one fault at a random moment (after a random number of its pages were served),
and then runs the same crawl again unbroken:

  kill       SIGKILL of the crawl process (its chain child must exit by itself)
  cut        PostgreSQL connections reset through a loopback TCP proxy (``TcpProxy.cut``)
  blackhole  PostgreSQL silent through the proxy (``TcpProxy.blackhole``): no error, no answer

Counted per scenario and backend, after the second run:
- lost: posts the world has that the store does not;
- doubled: rows beyond one per (channel, post id);
- orphaned: posts without a verdict or without a capture, captures whose WARC record does not
  read back with its SHA-256, and processes of the broken crawl still alive 5 s after it ended;
- the broken run's exit status (a fault must never end in exit 0 — "silent") and the seconds
  from the fault to its exit; the second run must exit 0.

The baseline, measured in the same run, is one unbroken crawl per backend: its seconds and the
posts it stored. PostgreSQL itself is never touched: the faults are the proxy's.

    .venv/bin/python bench/kill_matrix.py [--runs 6] [--backends sqlite,postgresql]
                                          [--faults kill,cut,blackhole] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

from crawler.fixtures.server import FixtureServer  # noqa: E402
from crawler.fixtures.tcp_proxy import TcpProxy  # noqa: E402
from crawler.fixtures.tme_world import FakeTelegram  # noqa: E402
from crawler.store.captures import CaptureError, read_capture  # noqa: E402
from crawler.store.db import open_store  # noqa: E402
from crawler.store.models import Capture, Post, Source, Verdict  # noqa: E402

POSTGRES = os.environ.get("KYRAN_TEST_POSTGRES_URL", "postgresql+psycopg://127.0.0.1:5432/test")
FAULT_TIMEOUT = 180.0  # seconds a broken crawl may take to notice; beyond it counts as a hang
# How long the store may stay silent before a crawl gives up (the [store] bounds, kept short
# here so a black hole is noticed in seconds; the defaults are documented in kyran.example.toml).
STORE_BOUNDS = os.environ.get("KYRAN_MATRIX_STORE_BOUNDS", "")


@dataclass
class Outcome:
    scenario: str
    backend: str
    broken_exit: int | None = None  # None: still running at FAULT_TIMEOUT (a hang)
    fault_to_exit_s: float | None = None
    rerun_exit: int | None = None
    lost: int = 0
    doubled: int = 0
    orphan_rows: int = 0
    orphan_procs: int = 0
    missed: bool = False


@dataclass
class Row:
    scenario: str
    backend: str
    runs: int = 0
    lost: int = 0
    doubled: int = 0
    orphan_rows: int = 0
    orphan_procs: int = 0
    silent: int = 0  # broken runs that exited 0
    hangs: int = 0
    rerun_failed: int = 0
    missed: int = 0  # runs that ended before the fault (not counted)
    fault_to_exit: list[float] = field(default_factory=list)


@contextmanager
def database(backend: str, tmp: Path):
    if backend == "sqlite":
        yield f"sqlite:///{tmp}/kyran.sqlite"
        return
    schema = f"kyran_matrix_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def through(url: str, proxy: TcpProxy | None) -> str:
    if proxy is None:
        return url
    host, port = proxy.address
    return url.replace("127.0.0.1:5432", f"{host}:{port}", 1)


def write_config(tmp: Path, url: str, server_url: str) -> Path:
    path = tmp / "kyran.toml"
    path.write_text(
        f'[store]\nurl = "{url}"\ncaptures_dir = "{tmp}/captures"\n{STORE_BOUNDS}\n'
        '[crawl]\ndownload_delay = 0\nautothrottle = false\nconcurrent_requests = 8\n'
        'concurrent_requests_per_domain = 8\nlog_level = "WARNING"\nretry_times = 1\n'
        f'\n[telegram_preview]\nbase_url = "{server_url}"\nfirst_visit_max_pages = 50\n',
        encoding="utf-8")
    return path


def crawl_command(config: Path, names: list[str]) -> list[str]:
    return [sys.executable, "-m", "crawler", "--config", str(config), "crawl", "telegram", *names]


def group_alive(pgid: int) -> list[int]:
    """Processes still in the broken crawl's process group (its chain child, if orphaned)."""
    alive = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                alive.append(int(entry.name))
    return alive


def audit(url: str, captures: Path, expected: set[tuple[str, str]]) -> tuple[int, int, int]:
    """(lost, doubled, orphaned rows) of the store against the world."""
    store = open_store(url)
    try:
        with store.session() as session:
            rows = session.execute(select(Source.handle, Post.external_id).join(Source)).all()
            stored = {(handle, ext) for handle, ext in rows}
            unscored = session.scalar(select(func.count()).select_from(Post).where(
                ~Post.id.in_(select(Verdict.subject_id).where(Verdict.subject_type == "post"))))
            uncaptured = session.scalar(select(func.count()).select_from(Post)
                                        .where(Post.capture_id.is_(None)))
            bad = 0
            for ref in session.scalars(select(Capture)):
                try:
                    read_capture(captures, ref.path, ref.offset, ref.length, ref.sha256)
                except CaptureError:
                    bad += 1
    finally:
        store.dispose()
    return len(expected - stored), len(rows) - len(stored), unscored + uncaptured + bad


def one_run(scenario: str, backend: str, seed: int, names, expected, pages: int,
            server: FixtureServer) -> Outcome:
    rng = random.Random(seed)
    outcome = Outcome(scenario, backend)
    with tempfile.TemporaryDirectory(prefix="kyran-matrix-") as tmp_name, ExitStack() as stack:
        tmp = Path(tmp_name)
        url = stack.enter_context(database(backend, tmp))
        proxy = None
        if scenario in ("cut", "blackhole"):
            proxy = stack.enter_context(TcpProxy(("127.0.0.1", 5432)))
        config = write_config(tmp, through(url, proxy), server.url)
        command = crawl_command(config, names)
        served = len(server.requests)
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True)
        # A random moment in the crawl: after a random number of its pages were served.
        at_page = rng.randrange(1, pages)
        while len(server.requests) - served < at_page and process.poll() is None:
            time.sleep(0.01)
        if process.poll() is not None:
            outcome.missed = True  # it ended before the fault: nothing was broken
        faulted = time.monotonic()
        if scenario == "kill":
            process.send_signal(signal.SIGKILL)
        elif scenario == "cut":
            proxy.cut()
        else:
            proxy.blackhole()
        try:
            outcome.broken_exit = process.wait(timeout=FAULT_TIMEOUT)
            outcome.fault_to_exit_s = round(time.monotonic() - faulted, 2)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        deadline = time.monotonic() + 5
        while group_alive(process.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        stragglers = group_alive(process.pid)
        outcome.orphan_procs = len(stragglers)
        for pid in stragglers:
            os.kill(pid, signal.SIGKILL)
        if proxy is not None:
            proxy.forward()
        rerun = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
        outcome.rerun_exit = rerun.returncode
        outcome.lost, outcome.doubled, outcome.orphan_rows = audit(url, tmp / "captures",
                                                                   expected)
    return outcome


def clean_crawl(backend: str, names, expected, server: FixtureServer
                ) -> tuple[float, int, int, int]:
    """Seconds, posts stored, posts doubled and pages served of one unbroken crawl."""
    served = len(server.requests)
    with tempfile.TemporaryDirectory(prefix="kyran-matrix-") as tmp_name:
        tmp = Path(tmp_name)
        with database(backend, tmp) as url:
            config = write_config(tmp, url, server.url)
            started = time.monotonic()
            result = subprocess.run(crawl_command(config, names), cwd=ROOT, capture_output=True,
                                    text=True, timeout=600)
            seconds = time.monotonic() - started
            lost, doubled, _ = audit(url, tmp / "captures", expected)
    if result.returncode != 0:
        raise SystemExit(f"kill_matrix: the unbroken baseline crawl failed on {backend}:\n"
                         + result.stderr[-2000:])
    return seconds, len(expected) - lost, doubled, len(server.requests) - served


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=6, help="runs per scenario and backend")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--faults", default="kill,cut,blackhole")
    parser.add_argument("--channels", type=int, default=6)
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--delay", type=float, default=0.05, help="server seconds per page")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    world = FakeTelegram.generate(seed=7, channels=args.channels, posts_per_channel=args.posts)
    names = [c.username for c in world.channels if c.preview == "public"]
    expected = {(name, str(p.id)) for name in names for p in world.posts(name)}

    def handler(method, target, headers):
        time.sleep(args.delay)
        status, answer_headers, body = world.handle(target)
        return status, list(answer_headers.items()), body

    outcomes: list[Outcome] = []
    baselines = {}
    with FixtureServer(handler) as server:
        for backend in args.backends.split(","):
            baselines[backend] = clean_crawl(backend, names, expected, server)
            for scenario in args.faults.split(","):
                if scenario != "kill" and backend != "postgresql":
                    continue  # the proxy stands in front of PostgreSQL only
                for run in range(args.runs):
                    outcome = one_run(scenario, backend, run, names, expected,
                                      baselines[backend][3], server)
                    outcomes.append(outcome)
                    print(json.dumps(asdict(outcome)), file=sys.stderr, flush=True)
    rows: dict[tuple[str, str], Row] = {}
    for o in outcomes:
        row = rows.setdefault((o.scenario, o.backend), Row(o.scenario, o.backend))
        if o.missed:
            row.missed += 1
            continue
        row.runs += 1
        row.lost += o.lost
        row.doubled += o.doubled
        row.orphan_rows += o.orphan_rows
        row.orphan_procs += o.orphan_procs
        row.silent += o.broken_exit == 0
        row.hangs += o.broken_exit is None
        row.rerun_failed += o.rerun_exit != 0
        if o.fault_to_exit_s is not None:
            row.fault_to_exit.append(o.fault_to_exit_s)
    if args.json:
        print(json.dumps({"baselines": baselines, "rows": [asdict(r) for r in rows.values()]}))
        return
    print(f"world: {len(names)} channels with a preview, {len(expected)} posts")
    for backend, (seconds, stored, doubled, pages) in baselines.items():
        print(f"baseline {backend}: unbroken crawl {seconds:.1f} s, {pages} pages, "
              f"{stored}/{len(expected)} posts stored, {doubled} doubled")
    print(f"{'fault':<10} {'backend':<11} {'runs':>4} {'lost':>5} {'doubled':>7} "
          f"{'orphans':>7} {'procs':>5} {'exit 0':>6} {'hangs':>5} {'rerun≠0':>7} "
          f"{'fault→exit s (median / max)':>28}")
    for row in rows.values():
        spread = (f"{statistics.median(row.fault_to_exit):.1f} / {max(row.fault_to_exit):.1f}"
                  if row.fault_to_exit else "-")
        silent = "-" if row.scenario == "kill" else str(row.silent)  # SIGKILL has no say
        missed = f"  ({row.missed} ended before the fault, not counted)" if row.missed else ""
        print(f"{row.scenario:<10} {row.backend:<11} {row.runs:>4} {row.lost:>5} "
              f"{row.doubled:>7} {row.orphan_rows:>7} {row.orphan_procs:>5} {silent:>6} "
              f"{row.hangs:>5} {row.rerun_failed:>7} {spread:>28}{missed}")
    bad = any(r.lost or r.doubled or r.orphan_rows or r.orphan_procs or r.hangs
              or r.rerun_failed or (r.scenario != "kill" and r.silent) for r in rows.values())
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
