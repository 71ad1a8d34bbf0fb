"""Long-lived services beside the scheduler: a service that crashes is restarted with backoff,
each start and its end recorded (service:NAME in job_run); SIGTERM stops it cleanly; --once does
not start a service that has no run_once."""

import signal

from tests.conftest import wait_until
from tests.daemon.daemon_helpers import Daemon, daemon_config, finished, job_runs

SERVICE = 'services = { flaky = "tests.daemon.sample_jobs:make_flaky" }\n'


def test_a_crashing_service_is_restarted_with_backoff(kyran, tmp_path, db_url):
    config = daemon_config(tmp_path / "kyran.toml", db_url, daemon=SERVICE)
    daemon = Daemon(config)
    try:
        wait_until(lambda: len(finished(db_url, "service:flaky")) >= 2
                   and len(job_runs(db_url, "service:flaky")) >= 3, 60,
                   "two crashes and a third start")
        assert daemon.alive()
        crashed = finished(db_url, "service:flaky")
        assert [run.summary for run in crashed] == [
            "service:flaky crashed: ConnectionError: start 1 lost its connection",
            "service:flaky crashed: ConnectionError: start 2 lost its connection"]
        third = job_runs(db_url, "service:flaky")[2]
        assert third.status == "running"
        # Restarted after 1 s, then 2 s.
        assert (job_runs(db_url, "service:flaky")[1].started_at
                - crashed[0].finished_at).total_seconds() >= 1
        assert (third.started_at - crashed[1].finished_at).total_seconds() >= 2
        assert "service:flaky" in kyran("jobs", config=config).stdout
    finally:
        daemon.process.send_signal(signal.SIGTERM)
        assert daemon.wait() == 0, daemon.log()[-3000:]
    last = job_runs(db_url, "service:flaky")[-1]
    assert (last.status, last.summary) == ("ok", "service:flaky stopped")
    assert "Traceback" not in daemon.log()


def test_once_does_not_start_a_service_without_run_once(kyran, tmp_path, db_url):
    config = daemon_config(tmp_path / "kyran.toml", db_url, daemon=SERVICE)
    result = kyran("run", "--once", config=config)
    assert result.returncode == 0, result.stderr[-3000:]
    assert not (tmp_path / "service-starts").exists()
    assert job_runs(db_url, "service:flaky") == []


def test_once_runs_a_service_that_offers_run_once(kyran, tmp_path, db_url):
    config = daemon_config(tmp_path / "kyran.toml", db_url,
                           daemon='services = { poller = "tests.daemon.sample_jobs:make_once" }\n')
    result = kyran("run", "--once", config=config)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "service-ran-once").exists() and not (tmp_path / "service-ran").exists()
    (run,) = job_runs(db_url, "service:poller")
    assert (run.status, run.summary) == ("ok", "service:poller ok: {'polled': 2}")


def test_a_service_that_cannot_be_made_is_one_line(kyran, tmp_path, db_url):
    config = daemon_config(tmp_path / "kyran.toml", db_url,
                           daemon='services = { nope = "tests.daemon.sample_jobs:nosuch" }\n')
    result = kyran("run", "--once", config=config)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "kyran: configuration error: daemon.services.nope: cannot make "
        "tests.daemon.sample_jobs:nosuch: module 'tests.daemon.sample_jobs' has no attribute "
        "'nosuch'"]
