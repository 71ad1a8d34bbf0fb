"""Benchmark: latency of the review app under 10 concurrent analysts, on SQLite and PostgreSQL.

A store is filled by `bench/review_data.py` (or an already filled one is reused), the app is
served by uvicorn in a child process on 127.0.0.1 port 0 (the port read back from the child),
and 10 users, each a thread with its own keep-alive HTTP client and its own API token (bearer:
no login per request, no CSRF), loop over: the queue page, a filtered queue page, a candidate
page, "take next" (the POST that claims; its redirect is not followed), and a static file from
the same server as the baseline. p50 and p95 per kind are printed side by side, for each backend.

    .venv/bin/python bench/bench_review.py [--posts 1000000 --candidates 100000]
        [--sqlite PATH] [--postgres URL] [--reuse] [--rounds 40] [--users 10] [--workers 1]
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.review_data import generate  # noqa: E402

KINDS = ("static", "queue", "queue_filtered", "candidate", "take_next")
# Category, score range and another sort. (The platform and region filters are measured apart:
# they take seconds at 100k candidates, see the report.)
FILTERED = "/queue?status=all&category=sale&score_min=0.5&sort=score"
POSTGRES = "postgresql+psycopg://127.0.0.1:5432/test"


def serve_child(config_path: str, fd: int | None = None) -> None:
    """In the child: build the app from the config and serve it on port 0 (or on the listening
    socket `fd` the parent shares among its workers); print the port."""
    import asyncio

    import uvicorn

    from crawler.config import load_config
    from crawler.store.db import open_store
    from review.app import create_app

    config = load_config(config_path)
    store = open_store(config.store.url)
    where = {"fd": fd} if fd is not None else {"host": "127.0.0.1", "port": 0}
    server = uvicorn.Server(uvicorn.Config(create_app(config, store), **where,
                                           log_level="warning", access_log=False))

    async def run() -> None:
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                await task
                return
            await asyncio.sleep(0.05)
        print(server.servers[0].sockets[0].getsockname()[1] if fd is None else "ready",
              flush=True)
        await task

    asyncio.run(run())


def make_users(url: str, count: int) -> list[str]:
    """`count` analysts, each with an API token (review.users, as `kyran user` makes them); the
    tokens."""
    from crawler.store.db import open_store
    from review.users import add_user, issue_token

    store = open_store(url)
    tokens = []
    try:
        with store.session() as session:
            for i in range(count):
                user = add_user(session, "component:bench", f"bench{i}-{secrets.token_hex(3)}",
                                "analyst", secrets.token_urlsafe(16), locale="en")
                tokens.append(issue_token(session, "component:bench", user, "bench").token)
    finally:
        store.dispose()
    return tokens


def candidate_ids(url: str) -> list[int]:
    from sqlalchemy import select

    from crawler.store.db import open_store
    from crawler.store.models import Candidate

    store = open_store(url)
    try:
        with store.session() as session:
            return list(session.scalars(select(Candidate.id)))
    finally:
        store.dispose()


def load(base: str, tokens: list[str], ids: list[int], rounds: int) -> dict[str, list[float]]:
    import httpx

    timings: dict[str, list[float]] = {kind: [] for kind in KINDS}
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(tokens))

    def user(index: int, token: str) -> None:
        rng = random.Random(index)
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            barrier.wait()
            for _ in range(rounds):
                plan = [("static", "GET", "/static/keys.js"), ("queue", "GET", "/queue"),
                        ("queue_filtered", "GET", FILTERED),
                        ("candidate", "GET", f"/candidates/{rng.choice(ids)}"),
                        ("take_next", "POST", "/queue/next")]
                rng.shuffle(plan)
                for kind, method, path in plan:
                    started = time.perf_counter()
                    response = client.request(method, path)
                    elapsed = time.perf_counter() - started
                    ok = response.status_code in (200, 303)
                    with lock:
                        timings[kind].append(elapsed)
                        if not ok:
                            errors.append(f"{kind} {path}: {response.status_code}")

    threads = [threading.Thread(target=user, args=(i, t)) for i, t in enumerate(tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        print(f"  {len(errors)} failed requests, e.g. {errors[:3]}")
    return timings


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(share * 100) - 1] \
        if len(values) > 1 else values[0]


def run_backend(name: str, url: str, args, workdir: Path) -> None:
    if not args.reuse:
        from crawler.store.db import open_store

        store = open_store(url)
        started = time.monotonic()
        counts = generate(store, args.posts, args.candidates)
        store.dispose()
        print(f"{name}: generated {counts['post']} posts, {counts['candidate']} candidates in "
              f"{time.monotonic() - started:.0f} s")
    tokens = make_users(url, args.users)
    ids = candidate_ids(url)
    config = workdir / f"{name}.toml"
    config.write_text(f'[store]\nurl = "{url}"\n\n[review]\nsecret_key_file = '
                      f'"{workdir / "secret.key"}"\n', encoding="utf-8")
    with serving(name, config, args.workers) as base:
        load(base, tokens[:1], ids, 2)  # warm-up: templates compiled, caches filled
        started = time.monotonic()
        timings = load(base, tokens, ids, args.rounds)
        wall = time.monotonic() - started
    total = sum(len(v) for v in timings.values())
    print(f"{name}: {args.workers} server process(es), {args.users} users, {total} requests "
          f"in {wall:.1f} s ({total / wall:.0f} req/s)")
    print(f"  {'request':<16}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}")
    for kind in KINDS:
        values = timings[kind]
        print(f"  {kind:<16}{len(values):>6}{percentile(values, 0.5) * 1000:>10.1f}"
              f"{percentile(values, 0.95) * 1000:>10.1f}")


@contextmanager
def serving(name: str, config: Path, workers: int):
    """The app served by `workers` child processes (one: on its own port 0; more: all
    accepting on one socket bound here, as uvicorn's own workers do); yields the base URL."""
    command = [sys.executable, __file__, "--serve", str(config)]
    listener = None
    if workers > 1:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(2048)
        command += ["--fd", str(listener.fileno())]
    children, answers = [], []
    try:
        for _ in range(workers):  # one after another: the first one writes the secret key
            children.append(subprocess.Popen(command, stdout=subprocess.PIPE, text=True,
                                             env={**os.environ},
                                             pass_fds=[listener.fileno()] if listener else []))
            answers.append(children[-1].stdout.readline().strip())
            if not (answers[-1].isdigit() or answers[-1] == "ready"):
                raise SystemExit(f"{name}: the server did not start "
                                 f"(exit {children[-1].wait()})")
        port = listener.getsockname()[1] if listener else answers[0]
        yield f"http://127.0.0.1:{port}"
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.wait(10)
        if listener:
            listener.close()


@contextmanager
def own_schema(url: str):
    """A fresh PostgreSQL schema for a generated store (never the database's public one),
    dropped afterwards; yields the URL that uses it."""
    from sqlalchemy import create_engine

    schema = f"kyran_bench_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--fd", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=1,
                        help="server processes sharing one listening socket")
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--candidates", type=int, default=100_000)
    parser.add_argument("--sqlite", help="SQLite file (default: a temporary one)")
    parser.add_argument("--postgres", default=POSTGRES, help="PostgreSQL URL ('' to skip)")
    parser.add_argument("--reuse", action="store_true", help="the stores are already filled")
    parser.add_argument("--rounds", type=int, default=40, help="rounds of 5 requests per user")
    parser.add_argument("--users", type=int, default=10)
    args = parser.parse_args(argv)
    if args.serve:
        serve_child(args.serve, args.fd)
        return 0
    with tempfile.TemporaryDirectory(prefix="kyran-bench-") as tmp:
        workdir = Path(tmp)
        sqlite = args.sqlite or str(workdir / "review.sqlite")
        run_backend("sqlite", f"sqlite:///{Path(sqlite).absolute()}", args, workdir)
        if args.postgres and args.reuse:
            run_backend("postgresql", args.postgres, args, workdir)
        elif args.postgres:
            with own_schema(args.postgres) as url:
                run_backend("postgresql", url, args, workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
