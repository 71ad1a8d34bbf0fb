"""Evidence packages built for the review app: one build at a time in a worker thread, so a
request never waits for Chromium's screenshots and two leads' builds never compete for the
cores.

A page's build is a `Job` the lead who started it follows on a "building…" page (it reloads
itself with a meta refresh: no script) until it is done or failed; an API call awaits its job.
Jobs live in this process's memory (the review app runs as one process), the finished ones for
a day; the package itself is recorded in the store by the builder (evidence/build.py).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from crawler.defang import one_line
from evidence.build import BuildError, BuildResult, build_package
from evidence.collect import Selection, SelectionError

LOG = logging.getLogger("kyran.review.export")
KEEP_SECONDS = 24 * 3600
MAX_JOBS = 200


def extras_for(config, plain: bool):
    """The report part's hooks (templates, report, PDF, screenshots, WACZ, timestamp) when they
    are installed and `plain` is not asked; None: the builder's plain report and texts."""
    if plain:
        return None
    try:
        from evidence.extras import Extras
    except ImportError:
        return None
    return Extras(config)


@dataclass
class Job:
    id: str
    user_id: int
    recipient: str
    count: int
    started: float = field(default_factory=time.monotonic)
    future: Future | None = None
    notes: list[str] = field(default_factory=list)  # what the extras left out, and why

    @property
    def state(self) -> str:
        """building, done or failed."""
        if self.future is None or not self.future.done():
            return "building"
        return "failed" if self.future.exception() is not None else "done"

    @property
    def result(self) -> BuildResult | None:
        return self.future.result() if self.state == "done" else None

    @property
    def error(self) -> str | None:
        if self.state != "failed":
            return None
        exc = self.future.exception()
        if isinstance(exc, (BuildError, SelectionError)):
            return one_line(str(exc))
        return "the package could not be built: internal error; the log says more"


class ExportJobs:
    """The worker thread and the jobs it ran or runs."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kyran-export")
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def start(self, store, config, user, ids: list[int] | None, recipient: str, *,
              selection: Selection | None = None, plain: bool = False) -> Job:
        """Queue the build of a package of `ids` (or `selection`) for `recipient`, exported by
        `user` (a lead: the builder checks it again)."""
        chosen = selection or Selection(ids=tuple(ids or ()))
        extras = extras_for(config, plain)
        job = Job(secrets.token_urlsafe(18), user.id, recipient, len(chosen.ids),
                  notes=getattr(extras, "notes", []))
        username = user.username

        def build() -> BuildResult:
            try:
                return build_package(store, config, chosen, recipient, username,
                                     extras=extras)
            except Exception as exc:
                if not isinstance(exc, (BuildError, SelectionError)):  # not the user's doing
                    LOG.exception("export %s failed", job.id)
                raise

        with self._lock:
            self._forget_old()
            self._jobs[job.id] = job
            job.future = self._pool.submit(build)
        return job

    def get(self, job_id: str, user_id: int) -> Job | None:
        """The job `job_id` if `user_id` started it."""
        with self._lock:
            job = self._jobs.get(job_id)
        return job if job is not None and job.user_id == user_id else None

    def _forget_old(self) -> None:
        now = time.monotonic()
        for key, job in list(self._jobs.items()):
            if job.state != "building" and now - job.started > KEEP_SECONDS:
                del self._jobs[key]
        finished = [k for k, j in self._jobs.items() if j.state != "building"]
        for key in finished[:max(0, len(self._jobs) - MAX_JOBS)]:
            del self._jobs[key]

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def jobs_of(app) -> ExportJobs:
    """The app's ExportJobs, made on first use (call from the event loop's thread: routes that
    use it are `async`, so two requests never make two)."""
    jobs = getattr(app.state, "export_jobs", None)
    if jobs is None:
        jobs = app.state.export_jobs = ExportJobs()
    return jobs
