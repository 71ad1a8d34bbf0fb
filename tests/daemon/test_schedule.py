"""The job store across restarts: runs missed while the clock jumped (or the daemon was away)
coalesce into one; a restart keeps each unchanged job's next run time; jobs are re-synchronised
with the configuration (removed, added, rescheduled)."""

import json
import signal
from datetime import datetime, timedelta, timezone

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

from crawler.store.db import open_store
from tests.conftest import wait_until
from tests.daemon.daemon_helpers import Daemon, daemon_config, finished, job_runs


def jobs(kyran, config) -> dict[str, dict]:
    listing = kyran("jobs", "--json", config=config)
    assert listing.returncode == 0, listing.stderr
    return {record["job"]: record for record in map(json.loads, listing.stdout.splitlines())}


def move_next_run(db_url: str, job_id: str, when: datetime) -> None:
    """What a clock jumping forward looks like to the scheduler: the job's next run is now far
    in the past."""
    store = open_store(db_url, migrate=False)
    try:
        job_store = SQLAlchemyJobStore(engine=store.engine)
        job = job_store.lookup_job(job_id)
        job.next_run_time = when
        job_store.update_job(job)
    finally:
        store.dispose()


def test_a_clock_jump_runs_a_missed_job_once_not_once_per_missed_run(kyran, tmp_path, db_url):
    config = daemon_config(tmp_path / "kyran.toml", db_url, daemon=(
        'misfire_grace = 86400\n[daemon.jobs.hourly]\nschedule = "1h"\n'
        'call = "tests.daemon.sample_jobs:succeeds"\n'))
    assert kyran("run", "--once", config=config).returncode == 0
    move_next_run(db_url, "hourly", datetime.now(timezone.utc) - timedelta(hours=5))
    daemon = Daemon(config)
    try:
        wait_until(lambda: len(finished(db_url, "hourly")) >= 2, 60, "the missed run")
        in_an_hour = (datetime.now(timezone.utc) + timedelta(minutes=50)).isoformat()
        wait_until(lambda: jobs(kyran, config)["hourly"]["next_run"] > in_an_hour, 30,
                   "the next run to be an hour ahead")
    finally:
        daemon.process.send_signal(signal.SIGTERM)
        assert daemon.wait() == 0, daemon.log()[-3000:]
    # Five hourly runs were missed: they coalesced into one.
    assert [run.status for run in job_runs(db_url, "hourly")] == ["ok", "ok"]


def test_a_run_missed_beyond_the_misfire_grace_is_skipped(kyran, tmp_path, db_url):
    config = daemon_config(tmp_path / "kyran.toml", db_url, daemon=(
        'misfire_grace = 60\n[daemon.jobs.hourly]\nschedule = "1h"\n'
        'call = "tests.daemon.sample_jobs:succeeds"\n'))
    assert kyran("run", "--once", config=config).returncode == 0
    # The latest run missed (on the hourly grid) is 30 minutes late: beyond the grace.
    move_next_run(db_url, "hourly", datetime.now(timezone.utc) - timedelta(hours=5, minutes=30))
    daemon = Daemon(config)
    try:
        in_20_minutes = (datetime.now(timezone.utc) + timedelta(minutes=20)).isoformat()
        wait_until(lambda: jobs(kyran, config)["hourly"]["next_run"] > in_20_minutes, 60,
                   "the missed run to be skipped to the next one")
    finally:
        daemon.process.send_signal(signal.SIGTERM)
        assert daemon.wait() == 0, daemon.log()[-3000:]
    assert len(job_runs(db_url, "hourly")) == 1


def test_jobs_follow_the_configuration_at_each_start(kyran, tmp_path, db_url):
    job = '[daemon.jobs.{}]\nschedule = "{}"\ncall = "tests.daemon.sample_jobs:succeeds"\n'
    config = daemon_config(tmp_path / "kyran.toml", db_url,
                           daemon=job.format("kept", "1h") + job.format("dropped", "1h")
                           + job.format("changed", "1h"))
    assert kyran("run", "--once", config=config).returncode == 0
    before = jobs(kyran, config)
    assert {"kept", "dropped", "changed"} <= set(before)

    daemon_config(tmp_path / "kyran.toml", db_url,
                  daemon=job.format("kept", "1h") + job.format("changed", "2h")
                  + job.format("added", "1h"))
    result = kyran("run", "--once", config=config)
    assert result.returncode == 0, result.stderr[-3000:]
    after = jobs(kyran, config)
    assert "dropped" not in after
    assert after["kept"]["next_run"] == before["kept"]["next_run"]  # a restart keeps it
    assert after["changed"]["schedule"] == "2h"
    assert after["changed"]["next_run"] > before["changed"]["next_run"]
    runs = [run.job_id for run in job_runs(db_url)]
    assert sorted(runs) == ["added", "changed", "dropped", "kept"]  # only the new one ran again
