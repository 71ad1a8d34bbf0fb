"""Helpers of the daemon tests: a kyran.toml with short intervals, the daemon started in the
background with its log in a file, and reading job runs and the job store back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from crawler.store.db import open_store
from crawler.store.models_ops import JobRun
from tests.conftest import REPO

QUIET = '"liveness", "retention", "crawl:telegram-preview"'


def daemon_config(path: Path, db_url: str, daemon: str = "", extra: str = "",
                  disable: str = QUIET, base_url: str = "http://127.0.0.1:9",
                  channels: str = "") -> Path:
    """kyran.toml: jitter 0, short backoff and grace, the built-in jobs in `disable` off."""
    path.write_text(
        f'[store]\nurl = "{db_url}"\ncaptures_dir = "captures"\n\n'
        '[crawl]\ndownload_delay = 0\nautothrottle = false\nconcurrent_requests = 16\n'
        'concurrent_requests_per_domain = 16\nretry_times = 1\n\n'
        f'[telegram_preview]\nbase_url = "{base_url}"\nchannels = [{channels}]\n\n'
        '[daemon]\njitter = 0\nretry_base = 1\nretry_max = "4s"\nshutdown_grace = 3\n'
        f'kill_grace = 2\nhealth_listen = "127.0.0.1:0"\ndisable = [{disable}]\n{daemon}\n'
        + extra, encoding="utf-8")
    return path


class Daemon:
    """`kyran run` in the background; its stderr goes to a file read back by `log()`."""

    def __init__(self, config: Path, *args: str) -> None:
        self.log_path = config.parent / f"daemon-{os.urandom(3).hex()}.log"
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "crawler", "--config", str(config), "run", *args],
            cwd=REPO, stdout=self._log, stderr=subprocess.STDOUT, text=True)

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait(self, timeout: float = 60) -> int:
        code = self.process.wait(timeout)
        self._log.close()
        return code

    def stop(self) -> None:
        if self.alive():
            self.process.kill()
        self.wait()


def job_runs(db_url: str, job_id: str | None = None) -> list[JobRun]:
    """Every job run (of `job_id`), oldest first; [] before the store has its tables."""
    from sqlalchemy.exc import DBAPIError

    store = open_store(db_url, migrate=False)
    try:
        with store.reader() as session:
            query = select(JobRun).order_by(JobRun.id)
            if job_id is not None:
                query = query.where(JobRun.job_id == job_id)
            return list(session.scalars(query).all())
    except DBAPIError:
        return []
    finally:
        store.dispose()


def finished(db_url: str, job_id: str, status: str | None = None) -> list[JobRun]:
    return [run for run in job_runs(db_url, job_id) if run.status != "running"
            and (status is None or run.status == status)]


def pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state == "Z"
