"""Shared fixtures: a fresh store on the backend under test, a config file pointing at it, and a
way to run the `kyran` command line in a subprocess (Scrapy's reactor runs once per process).

The backend is chosen by KYRAN_TEST_DATABASE: `sqlite` (default) or `postgresql` (the server at
127.0.0.1:5432, database `test`; each test gets its own schema, dropped afterwards). Override the
server with KYRAN_TEST_POSTGRES_URL.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parents[1]
POSTGRES = os.environ.get("KYRAN_TEST_POSTGRES_URL", "postgresql+psycopg://127.0.0.1:5432/test")


def backend() -> str:
    return os.environ.get("KYRAN_TEST_DATABASE", "sqlite")


@pytest.fixture
def db_url(tmp_path):
    if backend() == "sqlite":
        yield f"sqlite:///{tmp_path}/kyran.sqlite"
        return
    schema = f"kyran_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


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
