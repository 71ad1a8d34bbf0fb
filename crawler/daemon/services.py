"""Long-lived services beside the scheduler (the Telegram monitor, the alerter …): each is an
object with `async run(stop: asyncio.Event)`, run until the daemon stops, restarted with backoff
when it crashes or ends by itself. Every start is a job_run row `service:NAME` (running, then ok
when it stopped on request, failed with the error when it crashed)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

from crawler.daemon.runs import Result, backoff, finish_run, retrying, start_run
from crawler.defang import one_line
from crawler.store.db import Store

log = logging.getLogger("kyran.daemon")
STEADY = 60.0  # a service that ran this long before crashing starts its backoff afresh


@dataclass
class ServiceState:
    status: str = "starting"  # starting | running | backoff | stopped
    starts: int = 0
    failures: int = 0  # in a row
    last_error: str | None = None
    retry_at: float | None = None  # loop time
    history: list[str] = field(default_factory=list)


class Supervisor:
    """Runs `services` (name -> object with `run(stop)`) until `stop` is set."""

    def __init__(self, store: Store, services: dict[str, object], retry_base: int,
                 retry_max: int, steady: float = STEADY) -> None:
        self.store = store
        self.services = services
        self.retry_base, self.retry_max, self.steady = retry_base, retry_max, steady
        self.state = {name: ServiceState() for name in services}

    async def run(self, stop: asyncio.Event, grace: float) -> None:
        """Until `stop` is set; then each service gets `grace` seconds to return."""
        tasks = [asyncio.create_task(self._keep(name, service, stop), name=f"service:{name}")
                 for name, service in self.services.items()]
        if not tasks:
            return
        await stop.wait()
        done, pending = await asyncio.wait(tasks, timeout=grace)
        for task in pending:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _keep(self, name: str, service, stop: asyncio.Event) -> None:
        state = self.state[name]
        job_id = f"service:{name}"
        while not stop.is_set():
            run_id = await retrying(f"recording {job_id}", lambda: start_run(self.store, job_id))
            state.status, state.starts = "running", state.starts + 1
            started = time.monotonic()
            try:
                await service.run(stop)
            except asyncio.CancelledError:
                await self._record(run_id, Result("interrupted", f"{job_id} cancelled at "
                                                  "shutdown after its grace period"))
                state.status = "stopped"
                raise
            except Exception as exc:  # a crash: recorded, restarted with backoff
                error = one_line(f"{type(exc).__name__}: {exc}")
                log.warning("service %s crashed: %s", name, error, exc_info=log.isEnabledFor(
                    logging.DEBUG))
                result = Result("failed", f"{job_id} crashed: {error}")
            else:
                if stop.is_set():
                    await self._record(run_id, Result("ok", f"{job_id} stopped"))
                    state.status = "stopped"
                    return
                result = Result("failed", f"{job_id} ended by itself")
            await self._record(run_id, result)
            if time.monotonic() - started >= self.steady:
                state.failures = 0
            state.failures += 1
            state.last_error = result.summary
            delay = backoff(state.failures, self.retry_base, self.retry_max)
            state.status = "backoff"
            state.retry_at = asyncio.get_running_loop().time() + delay
            log.warning("%s; restarting in %d s", result.summary, delay)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
        state.status = "stopped"

    async def _record(self, run_id: int, result: Result) -> None:
        await retrying("recording a service's end",
                       lambda: finish_run(self.store, run_id, result))


async def run_once(store: Store, name: str, service) -> Result:
    """A service's `run_once()` (for `kyran run --once`), recorded as a run of service:NAME."""
    job_id = f"service:{name}"
    run_id = await retrying(f"recording {job_id}", lambda: start_run(store, job_id))
    try:
        outcome = await service.run_once()
    except Exception as exc:  # recorded; the other jobs go on
        result = Result("failed", one_line(f"{job_id} failed: {type(exc).__name__}: {exc}"))
    else:
        failed = isinstance(outcome, dict) and (outcome.get("ok") is False or outcome.get("error"))
        result = Result("failed" if failed else "ok", f"{job_id} {'failed' if failed else 'ok'}"
                        + (f": {one_line(str(outcome))}" if outcome else ""))
    await retrying(f"recording {job_id}", lambda: finish_run(store, run_id, result))
    return result
