"""`kyran status`: per job and per Telegram account, from the store opened read-only, on SQLite
and PostgreSQL; APScheduler's job table is read when it exists and tolerated when it does not;
nothing secret and no raw control character is ever printed."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone

from tests.conftest import write_config
from tests.daemon.ops_helpers import add_account, add_peer, add_run, add_source

API_HASH = "0123456789abcdef0123456789abcdef"


def status_config(tmp_path, db_url):
    return write_config(tmp_path / "kyran.toml", db_url, (
        f'\n[telegram]\napi_id = 12345\napi_hash = "{API_HASH}"\npoll_interval = "15m"\n'
        '[telegram.accounts.main]\n[telegram.accounts.spare]\n'))


def fill(store, now):
    with store.session() as session:
        add_run(session, "crawl-site-market", "ok", now - timedelta(hours=3))
        add_run(session, "crawl-site-market", "failed", now - timedelta(hours=2))
        add_run(session, "crawl-site-market", "timeout", now - timedelta(hours=1),
                summary="site market: 0 posts \x1b[31mhttps://evil.example/x\x1b[0m")
        add_run(session, "preview", "ok", now - timedelta(minutes=5))
        add_run(session, "preview", "running", now)
        add_run(session, "service:alerts", "running", now)
        add_account(session, "main", state="paused", paused_until=now + timedelta(minutes=7),
                    flood_waits=3, flood_wait_seconds=900, last_success=now,
                    last_error="A wait of 420 seconds is required", last_error_at=now)
        add_account(session, "old", state="stopped",
                    stop_reason="session revoked (AuthKeyUnregisteredError): log in again")
        fresh = add_source(session, "fresh")
        stale = add_source(session, "stale")
        never = add_source(session, "never")
        live = add_source(session, "live")
        add_peer(session, fresh, "main", last_polled=now - timedelta(minutes=10))
        add_peer(session, stale, "main", last_polled=now - timedelta(minutes=31))
        add_peer(session, never, "main", resolved_at=now - timedelta(hours=2))
        add_peer(session, live, "main", joined=True, last_polled=now - timedelta(days=2))


def schedule(store, at: datetime) -> None:
    """APScheduler itself writes its job table, as the daemon's scheduler would."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(jobstores={"default": SQLAlchemyJobStore(
        engine=store.engine)}, timezone="UTC")
    scheduler.start(paused=True)
    scheduler.add_job(os.getpid, "interval", hours=1, id="preview", next_run_time=at)
    scheduler.add_job(os.getpid, "interval", hours=6, id="retention", next_run_time=at)
    scheduler.shutdown(wait=False)


def test_status_reports_jobs_and_accounts(tmp_path, db_url, store, kyran):
    now = datetime.now(timezone.utc)
    fill(store, now)
    config = status_config(tmp_path, db_url)
    result = kyran("status", "--json", config=config)
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["daemon"] in ("running", "not running", "unknown")
    jobs = {job["job"]: job for job in status["jobs"]}
    market = jobs["crawl-site-market"]
    assert market["consecutive_failures"] == 2
    assert market["last_error_status"] == "timeout"
    assert market["last_success"] == (now - timedelta(hours=3, seconds=-10)).isoformat(
        timespec="seconds")  # when that run finished
    assert market["next_run"] is None and not market["scheduled"]
    assert jobs["preview"]["running"] == 1 and jobs["preview"]["consecutive_failures"] == 0
    accounts = {a["account"]: a for a in status["accounts"]}
    main = accounts["main"]
    assert (main["state"], main["flood_waits"], main["flood_wait_seconds"]) == ("paused", 3, 900)
    assert (main["channels"], main["joined"], main["overdue"]) == (4, 1, 2)
    assert accounts["spare"]["state"] == "never started" and accounts["spare"]["channels"] == 0
    assert accounts["old"]["state"] == "stopped" and not accounts["old"]["configured"]
    assert API_HASH not in result.stdout + result.stderr

    text = kyran("status", config=config)
    assert text.returncode == 0, text.stderr
    out = text.stdout
    assert "failing: 2 runs in a row" in out
    assert "service:alerts\n    service, running; last ended well never" in out
    assert "main: paused until" in out and "overdue 2" in out
    assert "old: stopped: session revoked" in out
    assert "\x1b" not in out and "evil.example" not in out and "evil[.]example/x" in out
    assert API_HASH not in out + text.stderr


def test_status_reads_the_next_run_from_apschedulers_table(tmp_path, db_url, store, kyran):
    at = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    schedule(store, at)
    result = kyran("status", "--json", config=status_config(tmp_path, db_url))
    assert result.returncode == 0, result.stderr
    jobs = {job["job"]: job for job in json.loads(result.stdout)["jobs"]}
    assert jobs["preview"]["next_run"] == "2030-01-02T03:04:05+00:00"
    assert jobs["retention"]["scheduled"] and jobs["retention"]["last_success"] is None
    assert "next run 2030-01-02T03:04:05" in kyran(
        "status", config=status_config(tmp_path, db_url)).stdout


def test_status_of_a_fresh_store(tmp_path, db_url, store, kyran):
    result = kyran("status", config=write_config(tmp_path / "kyran.toml", db_url))
    assert result.returncode == 0, result.stderr
    assert "(no job has run yet)" in result.stdout and "(none configured)" in result.stdout


def test_status_without_a_store_is_one_line(tmp_path, kyran):
    config = write_config(tmp_path / "kyran.toml", f"sqlite:///{tmp_path}/missing.sqlite")
    result = kyran("status", config=config)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "no store at" in result.stderr
    assert not (tmp_path / "missing.sqlite").exists()


def test_daemon_state_sees_a_daemons_lock(store, db_url):
    """`kyran status` asks the daemon's own lock (flock beside SQLite, an advisory lock on
    PostgreSQL) whether a daemon holds the store."""
    from crawler.daemon.lock import DaemonLock
    from crawler.status_cli import daemon_state

    assert daemon_state(db_url, store.engine) == "not running"
    lock = DaemonLock(db_url, store.engine)
    lock.acquire()
    try:
        assert daemon_state(db_url, store.engine) == "running"
    finally:
        lock.release()
    assert daemon_state(db_url, store.engine) == "not running"
