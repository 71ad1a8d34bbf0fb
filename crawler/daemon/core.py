"""The daemon: APScheduler 3 (AsyncIOScheduler) with its jobs persisted in the store's database
(table apscheduler_jobs), each run recorded in job_run, failures retried with backoff by moving
the job's next run time, long-lived services beside it, and a drain on SIGTERM.

APScheduler keeps only a reference to the module-level `run_job` and the job's id; the running
daemon (one per process, `Daemon.active()`) resolves the id to its JobSpec."""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import datetime, timedelta, timezone

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from crawler.config import KyranConfig
from crawler.config_base import parse_interval
from crawler.daemon import runs
from crawler.daemon.execute import kyran_argv, run_call, run_command
from crawler.daemon.jobspec import JobSpec, job_specs, make_trigger
from crawler.daemon.runs import Result, retrying
from crawler.daemon.services import Supervisor, run_once
from crawler.store.db import Store

log = logging.getLogger("kyran.daemon")
JOBS_TABLE = "apscheduler_jobs"
LOCK_CHECK = 5.0  # seconds between checks that the store's lock is still held


async def run_job(job_id: str) -> None:
    """What APScheduler runs (a module-level callable, stored by reference)."""
    daemon = Daemon.active()
    try:
        await daemon.execute(job_id)
    except asyncio.CancelledError:
        if not daemon.stopping:
            raise
        # Cancelled by the drain, and recorded as interrupted: not an error of the job.


class Daemon:
    _active: Daemon | None = None

    def __init__(self, config: KyranConfig, config_path: str | None, store: Store,
                 services: dict[str, object] | None = None, lock=None) -> None:
        self.config = config
        self.lock = lock  # a DaemonLock to keep verifying (PostgreSQL), or None
        self.config_path = config_path
        self.store = store
        self.services = dict(services or {})
        self.specs = {spec.id: spec for spec in job_specs(config)}
        daemon = config.daemon
        self.retry_base, self.retry_max = daemon.retry_base, parse_interval(daemon.retry_max)
        self.running: dict[str, asyncio.Task] = {}
        self.stopping = False
        self.lost_lock: str | None = None
        self.supervisor: Supervisor | None = None
        self.once_mode = False
        # On SQLite, a plain (deferred) BEGIN: APScheduler reads due jobs at every wake-up and
        # must not queue behind a crawl's write transaction for it (its writes are single
        # statements, which wait for the lock as usual). Runs only in the daemon's loop.
        job_engine = store.engine.execution_options(kyran_read_only=True)
        self.scheduler = AsyncIOScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=job_engine, tablename=JOBS_TABLE)},
            job_defaults={"coalesce": True, "max_instances": 1,
                          "misfire_grace_time": daemon.misfire_grace},
            timezone=timezone.utc, jobstore_retry_interval=min(10, daemon.retry_base))

    @classmethod
    def active(cls) -> Daemon:
        if cls._active is None:
            raise RuntimeError("no kyran daemon runs in this process")
        return cls._active

    # -- start -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Close runs a killed daemon left open, start the scheduler paused, and bring its jobs
        in line with the configuration."""
        Daemon._active = self
        closed, alive = await retrying("closing stale runs", lambda: runs.close_stale(self.store))
        for job_id in closed:
            log.warning("%s: its last run was interrupted (the daemon stopped); closed", job_id)
        for job_id in alive:
            log.warning("%s: a run from before the restart still runs; it is not started again "
                        "until that ends", job_id)
        self.scheduler.start(paused=True)
        await retrying("synchronising jobs", self.sync_jobs)
        for job_id in closed:  # the interrupted run is owed: due at once
            await retrying("moving the next run", lambda job_id=job_id: self._move(
                job_id, datetime.now(timezone.utc)))

    def sync_jobs(self) -> None:
        """Jobs no longer configured are removed; a job whose schedule or command changed is
        replaced; an unchanged one keeps its next run time (a restart neither loses nor doubles
        a run); a new one is due at once."""
        jitter = self.config.daemon.jitter
        for job in self.scheduler.get_jobs():
            if job.id not in self.specs:
                log.info("%s: no longer configured, removed", job.id)
                job.remove()
        for spec in self.specs.values():
            existing = self.scheduler.get_job(spec.id)
            options = {"coalesce": True, "max_instances": 1,
                       "misfire_grace_time": self.config.daemon.misfire_grace}
            if existing is not None and existing.name == spec.signature(jitter):
                existing.modify(**options)
                continue
            extra = {} if existing is not None else {"next_run_time": datetime.now(timezone.utc)}
            self.scheduler.add_job(run_job, make_trigger(spec.schedule, jitter), args=[spec.id],
                                   id=spec.id, name=spec.signature(jitter),
                                   replace_existing=True, **options, **extra)

    # -- one run ---------------------------------------------------------------------------

    async def execute(self, job_id: str) -> Result | None:
        """Run the job once and record it; None when it was not started (stopping, or a run of
        it is still going, here or left over from before a restart)."""
        spec = self.specs.get(job_id)
        if spec is None or self.stopping:
            return None
        if job_id in self.running:
            log.warning("%s: still running, this start is skipped", job_id)
            return None
        self.running[job_id] = asyncio.current_task()
        try:
            _, alive = await retrying("checking earlier runs",
                                      lambda: runs.close_stale(self.store, job_id))
            if alive:
                log.warning("%s: a run from before the restart still runs; skipped", job_id)
                return None
            return await self._run(spec)
        finally:
            del self.running[job_id]

    async def _run(self, spec: JobSpec) -> Result:
        pid = os.getpid() if spec.command is None else None
        run_id = await retrying(f"recording the start of {spec.id}",
                                lambda: runs.start_run(self.store, spec.id, pid))
        log.info("%s: started", spec.id)
        try:
            result = await self._work(spec, run_id)
        except asyncio.CancelledError:
            result = Result("interrupted", f"{spec.id} interrupted: the daemon stopped and its "
                            f"grace of {self.config.daemon.shutdown_grace} s ran out")
            await self._finish(spec, run_id, result)
            raise
        except Exception as exc:  # the runner itself failed: the run must not stay "running"
            log.exception("%s: could not be run", spec.id)
            result = Result("failed", f"{spec.id} could not be run: {type(exc).__name__}: {exc}")
        await self._finish(spec, run_id, result)
        return result

    async def _work(self, spec: JobSpec, run_id: int) -> Result:
        if spec.command is not None:
            async def on_start(pid: int) -> None:
                await retrying("recording a pid", lambda: runs.set_pid(self.store, run_id, pid))

            argv = kyran_argv(self.config_path, spec.command)
            return await run_command(spec.id, argv, spec.time_limit,
                                     self.config.daemon.kill_grace, on_start)
        return await run_call(spec.id, spec.call, spec.time_limit, self.config, self.store,
                              self.services)

    async def _finish(self, spec: JobSpec, run_id: int, result: Result) -> None:
        await retrying(f"recording the end of {spec.id}",
                       lambda: runs.finish_run(self.store, run_id, result))
        if result.status == "ok":
            log.info("%s: ok: %s", spec.id, result.summary)
            if self.once_mode:
                await retrying("moving the next run", lambda: self._next_regular(spec.id))
            return
        if result.status == "interrupted":  # owed: due at the next start
            log.warning("%s", result.summary)
            await retrying("moving the next run", lambda: self._move(
                spec.id, datetime.now(timezone.utc)))
            return
        failures = await retrying("counting failures",
                                  lambda: runs.consecutive_failures(self.store, spec.id))
        delay = runs.backoff(failures, self.retry_base, self.retry_max)
        log.warning("%s: %s (%d in a row): %s; retrying in %d s", spec.id, result.status,
                    failures, result.summary, delay)
        when = datetime.now(timezone.utc) + timedelta(seconds=delay)
        await retrying("moving the next run", lambda: self._move(spec.id, when))

    def _move(self, job_id: str, when: datetime) -> None:
        if self.scheduler.get_job(job_id) is not None:
            self.scheduler.modify_job(job_id, next_run_time=when)

    def _next_regular(self, job_id: str) -> None:
        job = self.scheduler.get_job(job_id)
        if job is not None:
            now = datetime.now(timezone.utc)
            job.modify(next_run_time=job.trigger.get_next_fire_time(None, now))

    # -- the two ways to run ---------------------------------------------------------------

    async def serve(self, stop: asyncio.Event) -> None:
        """Run jobs on their schedules and the services until `stop` is set; then drain."""
        await self.start()
        # `self.supervisor.state`: each service's status, starts, failures (for health checks).
        self.supervisor = Supervisor(self.store, self.services, self.retry_base, self.retry_max)
        services = asyncio.create_task(self.supervisor.run(stop,
                                                           self.config.daemon.shutdown_grace))
        self.scheduler.resume()
        log.info("daemon started: %d jobs, %d services (pid %d)", len(self.specs),
                 len(self.services), os.getpid())
        watchdog = asyncio.create_task(self._keep_lock(stop))
        await stop.wait()
        watchdog.cancel()
        log.info("stopping: no new runs; %d running get %d s to finish", len(self.running),
                 self.config.daemon.shutdown_grace)
        await self.drain()
        await services
        log.info("daemon stopped")

    async def _keep_lock(self, stop: asyncio.Event, every: float = LOCK_CHECK) -> None:
        """Verify the store's lock now and then: re-take it after a network loss freed it, stop
        the daemon if another one took it meanwhile."""
        from crawler.daemon.lock import DaemonAlreadyRunning

        if self.lock is None:
            return
        state = "held"
        while not stop.is_set():
            await asyncio.sleep(every)
            try:
                now = await asyncio.to_thread(self.lock.verify)
            except DaemonAlreadyRunning as exc:
                self.lost_lock = str(exc)
                log.error("the store's lock was lost and %s: stopping", exc)
                stop.set()
                return
            if now == "retaken":
                log.info("the store's lock is held again (its connection had been lost)")
            elif now == "unreachable" and state != now:
                log.warning("the store's lock cannot be verified (the database does not "
                            "answer); trying again every %.0f s", every)
            state = now

    async def drain(self) -> None:
        self.stopping = True
        self.scheduler.pause()
        tasks = list(self.running.values())
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=self.config.daemon.shutdown_grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        self.scheduler.shutdown(wait=False)
        Daemon._active = None

    async def once(self, stop: asyncio.Event) -> bool:
        """Run every due job (on a fresh store: every job) and the services' `run_once`, wait
        for them (or `stop`, then drain); True when all ran and succeeded."""
        self.once_mode = True
        await self.start()
        now = datetime.now(timezone.utc)
        due = [job.id for job in self.scheduler.get_jobs()
               if job.next_run_time is not None and job.next_run_time <= now]
        log.info("running %d due jobs once: %s", len(due), ", ".join(due) or "none")
        work = [self.execute(job_id) for job_id in due]
        work += [run_once(self.store, name, service) for name, service in self.services.items()
                 if hasattr(service, "run_once")]
        everything = asyncio.ensure_future(asyncio.gather(*work))
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait([everything, stopped], return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        await self.drain()
        results = await asyncio.gather(everything, return_exceptions=True)
        results = results[0] if isinstance(results[0], list) else [None]
        return all(result is not None and result.status == "ok" for result in results)
