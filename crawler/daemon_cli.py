"""`kyran run` (the collector daemon, in the foreground, logging to stderr; `--once` runs what
is due and exits) and `kyran jobs` (each job: schedule, last run, failures in a row, next run).

Exit status of `kyran run`: 0 stopped on SIGTERM/SIGINT, or with --once every job succeeded;
1 a job failed (--once), or another daemon already runs on this store; 2 configuration error."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from datetime import datetime, timezone

import click
from sqlalchemy import inspect, select, text

from crawler.defang import json_line, one_line
from crawler.store.models_ops import JobRun

log = logging.getLogger("kyran.daemon")


def setup_logging(config):
    """Text or JSON lines on stderr (`daemon.log_format`), with every secret the configuration
    holds or points to masked."""
    from crawler.daemon.logs import setup_logging as route_logs

    masker = route_logs(config.daemon.log_level, config.daemon.log_format)
    if config.telegram.api_hash:
        masker.add(config.telegram.api_hash)
    if config.daemon.log_level != "DEBUG":
        for noisy in ("apscheduler", "alembic", "telethon"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    return masker


async def _serve(daemon, once: bool) -> bool:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, _stopper(stop, sig))
    if once:
        return await daemon.once(stop)
    await daemon.serve(stop)
    return True


def _stopper(stop: asyncio.Event, sig: signal.Signals):
    def handler() -> None:
        log.info("%s received: stopping", sig.name)
        stop.set()
    return handler


def run_daemon(config, config_path: str | None, store, once: bool, masker=None) -> bool:
    """The daemon until stopped (or, with `once`, until the due jobs ran); the store's lock is
    held throughout. DaemonAlreadyRunning when another daemon holds it."""
    from crawler.daemon.builtin import make_services
    from crawler.daemon.core import Daemon
    from crawler.daemon.lock import DaemonAlreadyRunning, DaemonLock

    lock = DaemonLock(config.database_url, store.engine)
    lock.acquire()
    try:
        services = make_services(config, store)
        for service in services.values():  # the alerter's token and password
            for secret in (service.secrets() if hasattr(service, "secrets") else []):
                if masker is not None:
                    masker.add(secret)
        daemon = Daemon(config, config_path, store, services, lock)
        ok = asyncio.run(_serve(daemon, once))
        if daemon.lost_lock:
            raise DaemonAlreadyRunning(daemon.lost_lock)
        return ok
    finally:
        lock.release()


def _config_path(given: str | None) -> str | None:
    from crawler.config import find_config_file

    found = find_config_file(given)
    return str(found.absolute()) if found is not None else None


def _when(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def _next_runs(session) -> dict[str, datetime | None]:
    from crawler.daemon.core import JOBS_TABLE

    if not inspect(session.connection()).has_table(JOBS_TABLE):
        return {}
    rows = session.execute(text(f"SELECT id, next_run_time FROM {JOBS_TABLE}")).all()
    return {job_id: (datetime.fromtimestamp(when, timezone.utc) if when is not None else None)
            for job_id, when in rows}


def job_records(config, session) -> list[dict]:
    """One record per job configured, per service seen and per job still in the job store."""
    from crawler.daemon.jobspec import job_specs

    specs = {spec.id: spec for spec in job_specs(config)}
    scheduled = _next_runs(session)
    services = session.scalars(select(JobRun.job_id).where(JobRun.job_id.like("service:%"))
                               .distinct()).all()
    records = []
    for job_id in [*specs, *sorted(set(services)), *sorted(set(scheduled) - set(specs))]:
        spec = specs.get(job_id)
        runs = session.scalars(select(JobRun).where(JobRun.job_id == job_id).order_by(
            JobRun.started_at.desc(), JobRun.id.desc()).limit(64)).all()
        last = runs[0] if runs else None
        finished = [run for run in runs if run.status != "running"]
        failures = 0
        for run in finished:
            if run.status == "ok":
                break
            failures += run.status != "interrupted"  # the daemon stopped: no failure
        last_ok = next((run for run in finished if run.status == "ok"), None)
        duration = ((last.finished_at - last.started_at).total_seconds()
                    if last is not None and last.finished_at is not None else None)
        schedule = spec.schedule if spec else ("service" if job_id.startswith("service:")
                                               else "(no longer configured)")
        records.append({
            "job": job_id, "kind": spec.kind if spec else ("service" if job_id in services
                                                            else None),
            "schedule": schedule,
            "last_start": _when(last.started_at) if last else None,
            "last_result": last.status if last else None,
            "last_duration": round(duration, 1) if duration is not None else None,
            "last_summary": last.summary if last else None,
            "last_exit_code": last.exit_code if last else None,
            "last_success": _when(last_ok.finished_at) if last_ok else None,
            "consecutive_failures": failures,
            "next_run": _when(scheduled.get(job_id)),
        })
    return records


def _print_table(records: list[dict]) -> None:
    columns = [("job", "JOB"), ("schedule", "SCHEDULE"), ("last_start", "LAST START"),
               ("last_result", "RESULT"), ("last_duration", "SECONDS"),
               ("consecutive_failures", "FAILURES"), ("next_run", "NEXT RUN"),
               ("last_summary", "SUMMARY")]
    cells = [[one_line("" if r[key] is None else str(r[key])) for key, _ in columns]
             for r in records]
    widths = [max(len(title), *(len(row[i]) for row in cells)) if cells else len(title)
              for i, (_, title) in enumerate(columns)]
    widths[-1] = min(widths[-1], 100)
    click.echo("  ".join(title.ljust(w) for (_, title), w in zip(columns, widths, strict=True))
               .rstrip())
    for row in cells:
        click.echo("  ".join(v[:w].ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def register(cli: click.Group, pass_context) -> None:
    @cli.command("run")
    @click.option("--once", is_flag=True, help="Run every due job once (on a fresh store, "
                  "every job), wait for them and exit: 0 when all succeeded, 1 otherwise.")
    @pass_context
    def run_command(ctx, once: bool) -> None:
        """Run the collector daemon in the foreground: crawls, retention and liveness on their
        schedules, long-lived services beside them. SIGTERM or SIGINT drains and exits 0.

        One daemon per store: a second one on the same database is refused."""
        from crawler.daemon.lock import DaemonAlreadyRunning

        config = ctx.config
        masker = setup_logging(config)
        store = ctx.store()
        try:
            ok = run_daemon(config, _config_path(ctx.config_path), store, once, masker)
        except DaemonAlreadyRunning as exc:
            click.echo(f"kyran: {exc}", err=True)
            sys.exit(1)
        finally:
            store.dispose()
        sys.exit(0 if ok else 1)

    @cli.command("jobs")
    @click.option("--json", "as_json", is_flag=True, help="JSON Lines instead of a table.")
    @pass_context
    def jobs_command(ctx, as_json: bool) -> None:
        """List the daemon's jobs: schedule, last run (start, result, duration, summary),
        failures in a row and next run."""
        with ctx.store(read_only=True).reader() as session:
            records = job_records(ctx.config, session)
        if as_json:
            for record in records:
                click.echo(json_line(record))
            return
        _print_table(records)
