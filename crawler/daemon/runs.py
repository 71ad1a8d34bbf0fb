"""The record of job runs (table job_run): a run starts `running` and ends ok, failed, timeout
or interrupted with its exit status, summary line and posts stored. Writes are retried with
backoff while the database is briefly locked or unreachable, so no result is lost."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from crawler.store.db import Store
from crawler.store.models_ops import JobRun

log = logging.getLogger("kyran.daemon")
T = TypeVar("T")
FINISHED = ("ok", "failed", "timeout", "interrupted")


@dataclass
class Result:
    """How one run ended."""

    status: str  # ok | failed | timeout | interrupted
    summary: str
    exit_code: int | None = None
    stored: int | None = None


def now() -> datetime:
    return datetime.now(timezone.utc)


async def retrying(what: str, work: Callable[[], T], first: float = 0.5,
                   most: float = 30.0, give_up: float = 3600.0) -> T:
    """`work()` in a thread, again after 0.5, 1, 2 … (up to `most`) seconds while the database
    fails, for `give_up` seconds at most; then the last error is raised."""
    delay, waited = first, 0.0
    while True:
        try:
            return await asyncio.to_thread(work)
        except DBAPIError as exc:
            if waited >= give_up:
                raise
            reason = " ".join(str(getattr(exc, "orig", None) or exc).split())[:300]
            log.warning("database error while %s, retrying in %.1f s: %s", what, delay, reason)
            await asyncio.sleep(delay)
            waited += delay
            delay = min(most, delay * 2)


def start_run(store: Store, job_id: str, pid: int | None = None) -> int:
    with store.session() as session:
        run = JobRun(job_id=job_id, started_at=now(), status="running", pid=pid)
        session.add(run)
        session.flush()
        return run.id


def set_pid(store: Store, run_id: int, pid: int) -> None:
    with store.session() as session:
        session.get(JobRun, run_id).pid = pid


def finish_run(store: Store, run_id: int, result: Result) -> None:
    with store.session() as session:
        run = session.get(JobRun, run_id)
        run.status, run.summary = result.status, result.summary
        run.exit_code, run.stored = result.exit_code, result.stored
        run.finished_at = now()


def pid_alive(pid: int | None) -> bool:
    """Whether `pid` is a live kyran process other than this one (a pid reused by something
    else, or this daemon's own pid after a restart, counts as gone)."""
    if not pid or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
        status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return not Path("/proc/self").exists()  # no /proc: trust kill(0)
    return b"crawler" in command and status != "Z"


def close_stale(store: Store, job_id: str | None = None) -> tuple[list[str], list[str]]:
    """Close as `interrupted` the runs left `running` by a daemon that died, whose process is
    gone; (closed job ids, job ids whose orphaned process still runs)."""
    closed, alive = [], []
    with store.session() as session:
        query = select(JobRun).where(JobRun.status == "running")
        if job_id is not None:
            query = query.where(JobRun.job_id == job_id)
        for run in session.scalars(query).all():
            if pid_alive(run.pid):
                alive.append(run.job_id)
                continue
            run.status, run.finished_at = "interrupted", now()
            run.summary = "interrupted: the daemon stopped during the run (found at restart)"
            closed.append(run.job_id)
    return closed, alive


def consecutive_failures(store: Store, job_id: str) -> int:
    """Runs of `job_id` that failed or timed out since its last ok run (a run interrupted by
    the daemon's stop is no failure of the job)."""
    with store.reader() as session:
        statuses = session.scalars(
            select(JobRun.status).where(JobRun.job_id == job_id,
                                        JobRun.status.in_(FINISHED))
            .order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(64)).all()
    count = 0
    for status in statuses:
        if status == "ok":
            break
        count += status != "interrupted"
    return count


def backoff(failures: int, base: int, most: int) -> int:
    """Seconds before the next try after `failures` failures in a row: base, 2×base … most."""
    if failures <= 0:
        return 0
    return min(most, base * 2 ** min(failures - 1, 32))
