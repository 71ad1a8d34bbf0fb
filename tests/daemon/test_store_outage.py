"""The database briefly locked (SQLite) or unreachable (PostgreSQL behind a TCP proxy that the
test cuts): a job that ends meanwhile has its result recorded once the database is back (retried
with backoff, nothing lost), the daemon stays up, and it holds its lock again afterwards."""

import signal
from urllib.parse import urlsplit

from sqlalchemy import create_engine, text

from crawler.fixtures.tcp_proxy import TcpProxy
from tests.conftest import POSTGRES, postgres_schema, run_kyran, wait_until
from tests.daemon.daemon_helpers import Daemon, daemon_config, job_runs

JOB = ('[daemon.jobs.finishing]\nschedule = "1h"\n'
       'call = "tests.daemon.sample_jobs:waits_for_release"\n')


def status(db_url: str) -> str | None:
    runs = job_runs(db_url, "finishing")
    return runs[-1].status if runs else None


def test_a_result_is_recorded_once_a_locked_sqlite_store_is_free(tmp_path):
    db_url = f"sqlite:///{tmp_path}/kyran.sqlite"
    config = daemon_config(tmp_path / "kyran.toml", db_url, daemon=JOB)
    daemon = Daemon(config)
    blocker = create_engine(db_url)
    try:
        wait_until(lambda: status(db_url) == "running", 60, "the job to run")
        with blocker.connect() as conn:
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock, as a long crawl batch
            (tmp_path / "release").touch()
            wait_until(lambda: (tmp_path / "finished").exists(), 30, "the job to finish")
            assert status(db_url) == "running"  # its end waits for the lock
            conn.exec_driver_sql("ROLLBACK")
        wait_until(lambda: status(db_url) == "ok", 60, "the result to be recorded")
        assert daemon.alive()
    finally:
        blocker.dispose()
        daemon.process.send_signal(signal.SIGTERM)
        assert daemon.wait() == 0, daemon.log()[-3000:]


def test_a_result_is_recorded_once_postgresql_is_back(tmp_path):
    upstream = urlsplit(POSTGRES.replace("postgresql+psycopg", "http"))
    with postgres_schema() as schema, TcpProxy((upstream.hostname, upstream.port)) as proxy:
        host, port = proxy.address
        db_url = (f"postgresql+psycopg://{host}:{port}{upstream.path}"
                  f"?options=-csearch_path%3D{schema}")
        direct = f"{POSTGRES}?options=-csearch_path%3D{schema}"
        config = daemon_config(tmp_path / "kyran.toml", db_url, daemon=JOB)
        daemon = Daemon(config)
        try:
            wait_until(lambda: status(direct) == "running", 60, "the job to run")
            proxy.cut()
            (tmp_path / "release").touch()
            wait_until(lambda: "database error while recording the end of finishing"
                       in daemon.log(), 30, "the daemon to meet the outage")
            assert status(direct) == "running"
            proxy.forward()
            wait_until(lambda: status(direct) == "ok", 60, "the result to be recorded")
            wait_until(lambda: "the store's lock is held again" in daemon.log(), 30,
                       "the lock to be taken again")
            second = run_kyran("run", "--once", config=config)
            assert second.returncode == 1 and "another kyran daemon" in second.stderr
            assert daemon.alive()
            (run,) = job_runs(direct, "finishing")
            assert (run.summary, run.stored) == ("released", 1)
        finally:
            daemon.process.send_signal(signal.SIGTERM)
            assert daemon.wait() == 0, daemon.log()[-3000:]
    with create_engine(POSTGRES).connect() as conn:  # the schema is gone, the server is fine
        assert conn.execute(text("SELECT 1")).scalar() == 1
