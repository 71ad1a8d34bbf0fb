"""`kyran status [--json]`: how the daemon is doing, read from the store (opened read-only), and
whether a daemon holds the store's lock.

Per job (from `job_run`, and `apscheduler_jobs` for the next run when the daemon has created
it): last success, last error, consecutive failures, runs in progress, next run. Per Telegram
account (configured or seen in `telegram_account`): state, paused until, stop reason, last
success and error, flood waits, channels watched (its `telegram_peer` rows) and overdue: channels
polled (not joined) whose last poll is older than twice `telegram.poll_interval`.

Nothing secret is read: no session, token nor password. Error texts and summaries may quote
scraped names, so they are shown safe and on one line; JSON escapes control characters.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import click
from sqlalchemy import func, inspect, or_, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from crawler.config_base import parse_interval
from crawler.defang import json_line, one_line
from crawler.store.models_ops import JobRun, TelegramAccountState, TelegramPeer

FAILED = ("failed", "timeout", "interrupted")
SCHEDULER_TABLE = "apscheduler_jobs"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def next_runs(session: Session) -> dict[str, datetime | None]:
    """Each scheduled job's next run from APScheduler's job table; {} while it does not exist
    (no daemon has started on this store yet)."""
    bind = session.get_bind()
    if not inspect(bind).has_table(SCHEDULER_TABLE):
        return {}
    rows = session.execute(text(f"SELECT id, next_run_time FROM {SCHEDULER_TABLE}")).all()
    return {job: (datetime.fromtimestamp(at, timezone.utc) if at is not None else None)
            for job, at in rows}


def job_status(session: Session) -> list[dict]:
    scheduled = next_runs(session)
    jobs = sorted(set(session.scalars(select(JobRun.job_id).distinct())) | set(scheduled))
    records = []
    for job in jobs:
        runs = select(JobRun).where(JobRun.job_id == job)
        last_ok = session.scalars(runs.where(JobRun.status == "ok")
                                  .order_by(JobRun.started_at.desc()).limit(1)).first()
        last_error = session.scalars(runs.where(JobRun.status.in_(FAILED))
                                     .order_by(JobRun.started_at.desc()).limit(1)).first()
        failures = select(func.count()).select_from(JobRun).where(
            JobRun.job_id == job, JobRun.status.in_(FAILED))
        if last_ok is not None:
            failures = failures.where(JobRun.started_at > last_ok.started_at)
        running = session.scalar(select(func.count()).select_from(JobRun).where(
            JobRun.job_id == job, JobRun.status == "running"))
        records.append({
            "job": job,
            "last_success": _iso(last_ok.finished_at or last_ok.started_at) if last_ok else None,
            "last_error": _iso(last_error.finished_at or last_error.started_at)
            if last_error else None,
            "last_error_status": last_error.status if last_error else None,
            "last_error_summary": last_error.summary if last_error else None,
            "consecutive_failures": session.scalar(failures) or 0,
            "running": running or 0,
            "scheduled": job in scheduled,
            "next_run": _iso(scheduled.get(job)),
        })
    return records


def account_status(session: Session, configured: list[str], poll_interval: int,
                   now: datetime) -> list[dict]:
    states = {a.name: a for a in session.scalars(select(TelegramAccountState))}
    overdue_before = now - timedelta(seconds=2 * poll_interval)
    records = []
    for name in sorted(set(configured) | set(states)):
        state = states.get(name)
        watched = session.scalar(select(func.count()).select_from(TelegramPeer)
                                 .where(TelegramPeer.account == name)) or 0
        overdue = session.scalar(select(func.count()).select_from(TelegramPeer).where(
            TelegramPeer.account == name, TelegramPeer.joined.is_(False),
            or_(TelegramPeer.last_polled < overdue_before,
                TelegramPeer.last_polled.is_(None)
                & (TelegramPeer.resolved_at < overdue_before)))) or 0
        joined = session.scalar(select(func.count()).select_from(TelegramPeer).where(
            TelegramPeer.account == name, TelegramPeer.joined.is_(True))) or 0
        records.append({
            "account": name,
            "configured": name in configured,
            "state": state.state if state else "never started",
            "paused_until": _iso(state.paused_until) if state else None,
            "stop_reason": state.stop_reason if state else None,
            "last_success": _iso(state.last_success) if state else None,
            "last_error": state.last_error if state else None,
            "last_error_at": _iso(state.last_error_at) if state else None,
            "flood_waits": state.flood_waits if state else 0,
            "flood_wait_seconds": state.flood_wait_seconds if state else 0,
            "channels": watched, "joined": joined, "overdue": overdue,
        })
    return records


def daemon_state(url: str, engine) -> str:
    """running | not running | unknown: whether a daemon holds this store's lock, asked of the
    daemon core's lock (crawler.daemon.lock.held_elsewhere, a non-blocking try)."""
    from crawler.daemon.lock import held_elsewhere

    try:
        return "running" if held_elsewhere(url, engine) else "not running"
    except (OSError, SQLAlchemyError):  # e.g. a store on a read-only disk: no lock file there
        return "unknown"


def collect_status(session: Session, configured_accounts: list[str], poll_interval: int,
                   now: datetime | None = None) -> dict:
    """Everything `kyran status` shows, as one JSON-ready dict."""
    now = now or datetime.now(timezone.utc)
    return {"at": _iso(now), "jobs": job_status(session),
            "accounts": account_status(session, configured_accounts, poll_interval, now)}


def _text(status: dict) -> list[str]:
    lines = [f"DAEMON {status.get('daemon', 'unknown')}", "JOBS"]
    if not status["jobs"]:
        lines.append("  (no job has run yet)")
    for job in status["jobs"]:
        lines.append(f"  {one_line(job['job'])}")
        if job["job"].startswith("service:"):  # a long-lived service, not a scheduled job
            lines.append("    service, " + ("running" if job["running"] else "not running")
                         + f"; last ended well {job['last_success'] or 'never'}")
        else:
            lines.append(f"    last success {job['last_success'] or 'never'}; next run "
                         f"{job['next_run'] or ('not scheduled' if not job['scheduled'] else '-')}"
                         + (f"; running now ({job['running']})" if job["running"] else ""))
        if job["last_error"]:
            lines.append(f"    last error {job['last_error']} ({job['last_error_status']}): "
                         f"{one_line(job['last_error_summary'] or '')[:200]}")
        if job["consecutive_failures"]:
            lines.append(f"    failing: {job['consecutive_failures']} runs in a row")
    lines.append("TELEGRAM ACCOUNTS")
    if not status["accounts"]:
        lines.append("  (none configured)")
    for a in status["accounts"]:
        state = a["state"]
        if a["paused_until"]:
            state += f" until {a['paused_until']}"
        if a["stop_reason"]:
            state += f": {one_line(a['stop_reason'])[:200]}"
        if not a["configured"]:
            state += " (no longer in the configuration)"
        lines.append(f"  {a['account']}: {state}")
        lines.append(f"    channels {a['channels']} ({a['joined']} joined), overdue "
                     f"{a['overdue']}; flood waits {a['flood_waits']} "
                     f"({a['flood_wait_seconds']} s); last success {a['last_success'] or 'never'}")
        if a["last_error"]:
            lines.append(f"    last error {a['last_error_at'] or ''}: "
                         f"{one_line(a['last_error'])[:200]}")
    return lines


def register(cli: click.Group, pass_context) -> None:
    @cli.command("status")
    @click.option("--json", "as_json", is_flag=True, help="One JSON document instead of text.")
    @pass_context
    def status_command(ctx, as_json):
        """How the daemon is doing: each job's last success, last error, failures in a row and
        next run; each Telegram account's state, flood waits, channels watched and overdue."""
        config = ctx.config
        interval = parse_interval(config.telegram.poll_interval)
        store = ctx.store(read_only=True)
        with store.reader() as session:
            status = collect_status(session, list(config.telegram.accounts), interval)
        status = {"daemon": daemon_state(config.database_url, store.engine), **status}
        if as_json:
            click.echo(json_line(status))
            return
        for line in _text(status):
            click.echo(line)
