"""Stopping the daemon: SIGTERM drains (running jobs finish within the grace, the rest are
stopped and marked interrupted, exit 0); SIGKILL loses nothing, and the next start neither
doubles the run nor loses it; a second daemon on the same store is refused, and the lock of a
killed one does not block a restart."""

import json
import signal

from sqlalchemy import func, select

from crawler.daemon.lock import held_elsewhere
from crawler.store.db import open_store
from crawler.store.models import Post
from crawler.store.models_ops import JobRun
from tests.conftest import wait_until
from tests.daemon.daemon_helpers import Daemon, daemon_config, job_runs, pid_gone
from tests.spiders.crawl_helpers import GATED, gated_server, gated_world, start_crawl, stored

PREVIEW = "crawl:telegram-preview"
DRAIN_JOBS = (
    '[daemon.jobs.finishing]\nschedule = "1h"\ncall = "tests.daemon.sample_jobs:waits_for_release"'
    '\n[daemon.jobs.stuck]\nschedule = "1h"\ncall = "tests.daemon.sample_jobs:hangs"\n')


def lock_held(db_url: str) -> bool:
    store = open_store(db_url)
    try:
        return held_elsewhere(db_url, store.engine)
    finally:
        store.dispose()


def running(db_url: str, job_id: str):
    return [run for run in job_runs(db_url, job_id) if run.status == "running"]


def test_sigterm_lets_running_jobs_finish_then_stops_the_rest(kyran, tmp_path, db_url):
    server, gate = gated_server(gated_world(big=1))
    with server:
        try:
            config = daemon_config(tmp_path / "kyran.toml", db_url, base_url=server.url,
                                   channels='"shop_0001"', disable='"liveness", "retention"',
                                   daemon=DRAIN_JOBS)
            daemon = Daemon(config)
            for job_id in (PREVIEW, "finishing", "stuck"):
                wait_until(lambda job_id=job_id: running(db_url, job_id), 60,
                           f"{job_id} to be running")
            wait_until(lambda: (tmp_path / "started").exists()
                       and (tmp_path / "hanging").exists(), 30, "both sample jobs to start")
            wait_until(lambda: running(db_url, PREVIEW)[0].pid, 30, "the crawl's pid")
            crawl_pid = running(db_url, PREVIEW)[0].pid
            daemon.process.send_signal(signal.SIGTERM)
            wait_until(lambda: "SIGTERM received: stopping" in daemon.log(), 30, "the drain")
            (tmp_path / "release").touch()
            assert daemon.wait() == 0, daemon.log()[-3000:]
        finally:
            gate.set()
    assert "Traceback" not in daemon.log()
    runs = {run.job_id: run for run in job_runs(db_url)}
    assert (runs["finishing"].status, runs["finishing"].summary) == ("ok", "released")
    assert runs["stuck"].status == "interrupted"
    assert runs[PREVIEW].status == "interrupted"
    assert "grace of 3 s ran out" in runs[PREVIEW].summary
    assert pid_gone(crawl_pid)
    # The interrupted runs are owed: due at the next start, the finished one an hour later.
    listing = kyran("jobs", "--json", config=config)
    jobs = {record["job"]: record for record in map(json.loads, listing.stdout.splitlines())}
    assert jobs["stuck"]["next_run"] < jobs["finishing"]["next_run"]
    assert jobs["stuck"]["consecutive_failures"] == 0  # stopped by the daemon: no failure
    assert jobs[PREVIEW]["next_run"] < jobs["finishing"]["next_run"]


def test_sigterm_during_once_stops_and_exits_1(tmp_path, db_url):
    config = daemon_config(tmp_path / "kyran.toml", db_url, daemon=(
        '[daemon.jobs.stuck]\nschedule = "1h"\ncall = "tests.daemon.sample_jobs:hangs"\n'))
    daemon = Daemon(config, "--once")
    wait_until(lambda: (tmp_path / "hanging").exists(), 60, "the job to start")
    daemon.process.send_signal(signal.SIGTERM)
    assert daemon.wait() == 1  # not every job succeeded
    (run,) = job_runs(db_url, "stuck")
    assert run.status == "interrupted"
    assert "Traceback" not in daemon.log()


def distinct_posts(db_url: str) -> tuple[int, int]:
    store = open_store(db_url, migrate=False)
    try:
        with store.reader() as session:
            total = session.scalar(select(func.count()).select_from(Post))
            pairs = select(Post.source_id, Post.external_id).distinct().subquery()
            distinct = session.scalar(select(func.count()).select_from(pairs))
    finally:
        store.dispose()
    return total, distinct


def test_sigkill_mid_crawl_then_restart_loses_and_doubles_nothing(kyran, tmp_path, db_url):
    server, gate = gated_server(gated_world(big=3))
    with server:
        try:
            channels = ", ".join(f'"{name}"' for name in GATED)
            config = daemon_config(tmp_path / "kyran.toml", db_url, base_url=server.url,
                                   channels=channels, disable='"liveness", "retention"')
            daemon = Daemon(config)
            wait_until(lambda: stored(db_url)[0] >= 45, 90, "the first channel to be stored")
            wait_until(lambda: running(db_url, PREVIEW) and running(db_url, PREVIEW)[0].pid,
                       30, "the crawl's run and pid")
            crawl_pid = running(db_url, PREVIEW)[0].pid
            daemon.process.kill()
            daemon.wait()
            # The crawl does not outlive its daemon (it is told to stop when the daemon dies).
            wait_until(lambda: pid_gone(crawl_pid), 60, "the crawl to end with its daemon")
        finally:
            gate.set()
        again = kyran("run", "--once", config=config)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "another kyran daemon" not in again.stderr  # the killed daemon's lock went with it
    first, second = job_runs(db_url, PREVIEW)
    assert first.status == "interrupted" and second.status == "ok"
    assert second.started_at >= first.finished_at
    assert distinct_posts(db_url) == (645, 645)


def test_a_run_left_over_from_before_a_restart_is_not_doubled(kyran, tmp_path, db_url):
    """A crawl a killed daemon left running (here one the test starts, recorded as the job's
    run) keeps the job from starting again until it ends; then it is closed as interrupted and
    the job runs at once."""
    server, gate = gated_server(gated_world(big=1))
    with server:
        try:
            config = daemon_config(tmp_path / "kyran.toml", db_url, base_url=server.url,
                                   channels='"shop_0001"', disable='"liveness", "retention"')
            store = open_store(db_url)
            leftover = start_crawl(config, "telegram", "shop_0001")
            with store.session() as session:
                session.add(JobRun(job_id=PREVIEW, status="running", pid=leftover.pid))
            store.dispose()
            skipped = kyran("run", "--once", config=config)
            assert skipped.returncode == 1
            assert "a run from before the restart still runs" in skipped.stderr
            assert len(job_runs(db_url, PREVIEW)) == 1
        finally:
            gate.set()
        leftover.communicate(timeout=120)
        again = kyran("run", "--once", config=config)
    assert again.returncode == 0, again.stderr[-3000:]
    statuses = [run.status for run in job_runs(db_url, PREVIEW)]
    assert statuses == ["interrupted", "ok"]


def test_a_second_daemon_on_the_same_store_is_refused(kyran, tmp_path, db_url):
    config = daemon_config(tmp_path / "kyran.toml", db_url, daemon=(
        '[daemon.jobs.good]\nschedule = "1h"\ncall = "tests.daemon.sample_jobs:succeeds"\n'))
    assert not lock_held(db_url)
    first = Daemon(config)
    try:
        wait_until(lambda: "daemon started" in first.log(), 60, "the first daemon")
        assert lock_held(db_url)
        for args in (["run"], ["run", "--once"]):
            second = kyran(*args, config=config)
            assert second.returncode == 1
            lines = second.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith(
                "kyran: another kyran daemon already runs on "), second.stderr
            assert "stop it first" in lines[0]
    finally:
        first.process.kill()  # SIGKILL: the lock must go with the process
        first.wait()
    assert not lock_held(db_url)
    after = kyran("run", "--once", config=config)
    assert after.returncode == 0, after.stderr[-3000:]
    assert "another kyran daemon" not in after.stderr
