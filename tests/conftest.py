"""Shared fixtures: a fresh store on the backend under test, a config file pointing at it, and a
way to run the `kyran` command line in a subprocess (Scrapy's reactor runs once per process).

Every test that uses the store runs once per backend in KYRAN_TEST_DATABASES (default
`sqlite,postgresql`): SQLite in the test's temporary folder, and PostgreSQL at 127.0.0.1:5432,
database `test` (override with KYRAN_TEST_POSTGRES_URL), where each test gets its own schema,
dropped afterwards. Where PostgreSQL cannot be reached its tests are skipped with the reason,
except under CI (CI=true), where that is a failure: CI must run them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

# Property tests draw the same examples on every run (a run that found a counterexample once and
# not again would be a flaky submission) and never fail for a slow moment of a busy machine. Set
# here, before the test modules are imported, so their own @settings inherit it.
settings.register_profile("kyran", derandomize=True, database=None, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("kyran")

REPO = Path(__file__).resolve().parents[1]
POSTGRES = os.environ.get("KYRAN_TEST_POSTGRES_URL", "postgresql+psycopg://127.0.0.1:5432/test")


def backends() -> list[str]:
    return [name.strip() for name in
            os.environ.get("KYRAN_TEST_DATABASES", "sqlite,postgresql").split(",") if name.strip()]


def pytest_generate_tests(metafunc):
    if "db_url" in metafunc.fixturenames:
        metafunc.parametrize("backend", backends(), indirect=False, scope="function")


def _postgres_or_skip(admin) -> None:
    try:
        with admin.connect():
            pass
    except OperationalError as exc:
        reason = f"PostgreSQL at {POSTGRES} unreachable: {str(exc).splitlines()[0]}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (CI must run the PostgreSQL tests)")
        pytest.skip(reason)


@contextmanager
def postgres_schema():
    """A PostgreSQL schema of the test's own (its name), dropped afterwards."""
    schema = f"kyran_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    _postgres_or_skip(admin)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def db_url(tmp_path, backend):
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path}/kyran.sqlite"
        return
    with postgres_schema() as schema:
        yield f"{POSTGRES}?options=-csearch_path%3D{schema}"


@pytest.fixture
def store(db_url):
    from crawler.store.db import open_store

    opened = open_store(db_url)
    yield opened
    opened.dispose()


def write_config(path: Path, db_url: str, extra: str = "") -> Path:
    path.write_text(
        f'[store]\nurl = "{db_url}"\ncaptures_dir = "captures"\n\n'
        '[crawl]\ndownload_delay = 0\nautothrottle = false\nconcurrent_requests = 16\n'
        'concurrent_requests_per_domain = 16\nlog_level = "INFO"\nretry_times = 2\n'
        + extra,
        encoding="utf-8",
    )
    return path


@pytest.fixture
def config_file(tmp_path, db_url):
    return write_config(tmp_path / "kyran.toml", db_url)


def run_kyran(*args: str, config: Path | None = None, timeout: float = 120,
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "crawler"]
    if config is not None:
        command += ["--config", str(config)]
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(command + list(args), capture_output=True, text=True,
                          timeout=timeout, cwd=REPO, env=full_env)


@pytest.fixture
def kyran():
    return run_kyran


def wait_until(condition, timeout: float, what: str) -> None:
    """Poll `condition` until it holds (a bounded wait for a condition, never for luck); fail
    saying `what` was awaited after `timeout` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout:.0f} s for {what}")
        time.sleep(0.1)


def run_concurrently(work, count: int) -> list[BaseException]:
    """Run work(index) in `count` threads released at the same moment; the errors they raised."""
    import threading

    barrier, errors = threading.Barrier(count), []

    def runner(index: int) -> None:
        try:
            barrier.wait()
            work(index)
        except Exception as exc:  # reported to the caller
            errors.append(exc)

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors
