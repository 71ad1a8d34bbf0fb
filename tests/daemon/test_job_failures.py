"""Jobs that fail, report failure or hang: recorded with their reason, retried with backoff
(shown in `kyran jobs`), killed at their time limit, and the daemon stays up."""

import json
import os
import signal

from tests.conftest import wait_until
from tests.daemon.daemon_helpers import Daemon, daemon_config, finished, job_runs, pid_gone
from tests.spiders.crawl_helpers import gated_server, gated_world

JOBS = ('[daemon.jobs.bad]\nschedule = "1s"\ncall = "tests.daemon.sample_jobs:always_fails"\n'
        '[daemon.jobs.good]\nschedule = "1s"\ncall = "tests.daemon.sample_jobs:succeeds"\n')


def test_a_job_raising_every_time_backs_off_and_the_daemon_stays_up(kyran, tmp_path, db_url):
    config = daemon_config(tmp_path / "kyran.toml", db_url, daemon=JOBS)
    daemon = Daemon(config)
    try:
        wait_until(lambda: len(finished(db_url, "bad")) >= 4, 60, "four failed runs of 'bad'")
        wait_until(lambda: len(finished(db_url, "good", "ok")) >= 4, 60, "'good' going on")
        assert daemon.alive(), daemon.log()[-3000:]
        bad = finished(db_url, "bad")[:4]
        assert {run.status for run in bad} == {"failed"}
        assert bad[0].summary == "bad failed: RuntimeError: boom, as every time"
        # Retried after 1, 2, then 4 s (retry_max): each gap at least its backoff.
        gaps = [(later.started_at - earlier.finished_at).total_seconds()
                for earlier, later in zip(bad, bad[1:], strict=False)]
        assert [round(gap) >= want for gap, want in zip(gaps, [1, 2, 4], strict=True)] == [
            True] * 3, gaps

        listing = kyran("jobs", "--json", config=config)
        jobs = {record["job"]: record for record in map(json.loads, listing.stdout.splitlines())}
        assert jobs["bad"]["consecutive_failures"] >= 4
        assert jobs["bad"]["last_result"] in ("failed", "running")
        assert jobs["good"]["consecutive_failures"] == 0
        assert "Traceback" not in daemon.log()
        assert "retrying in 4 s" in daemon.log()
    finally:
        daemon.process.send_signal(signal.SIGTERM)
        assert daemon.wait() == 0, daemon.log()[-3000:]


def test_a_hung_crawl_is_killed_at_its_time_limit(kyran, tmp_path, db_url):
    server, gate = gated_server(gated_world(big=1))
    with server:
        try:
            config = daemon_config(tmp_path / "kyran.toml", db_url, base_url=server.url,
                                   channels='"shop_0001"', disable='"liveness", "retention"',
                                   daemon='crawl_time_limit = "3s"\n')
            result = kyran("run", "--once", config=config)
        finally:
            gate.set()
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    (run,) = job_runs(db_url, "crawl:telegram-preview")
    assert run.status == "timeout"
    assert run.summary.startswith("crawl:telegram-preview killed at its time limit of 3 s")
    assert pid_gone(run.pid)
    duration = (run.finished_at - run.started_at).total_seconds()
    assert 3 <= duration < 3 + 2 + 30  # the limit, then SIGTERM's grace, then SIGKILL
    listing = kyran("jobs", config=config)
    assert "timeout" in listing.stdout and "killed at its time limit" in listing.stdout


def test_an_in_daemon_job_over_its_limit_is_stopped(kyran, tmp_path, db_url):
    config = daemon_config(tmp_path / "kyran.toml", db_url, daemon=(
        '[daemon.jobs.stuck]\nschedule = "1h"\ncall = "tests.daemon.sample_jobs:hangs"\n'
        'time_limit = "1s"\n'))
    result = kyran("run", "--once", config=config)
    assert result.returncode == 1
    (run,) = job_runs(db_url, "stuck")
    assert (run.status, run.summary) == ("timeout", "stuck stopped at its time limit of 1 s")
    assert run.pid == run.pid and os.getpid() != run.pid
