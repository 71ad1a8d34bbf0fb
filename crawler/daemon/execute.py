"""Running one job: a `kyran` command in its own process group, killed (SIGTERM, then SIGKILL)
at its time limit, judged by its exit status and last summary line; or an async callable in the
daemon's loop under the same limit."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import importlib
import logging
import os
import re
import signal
import sys
from collections import deque
from collections.abc import Awaitable, Callable

from crawler.daemon.runs import Result
from crawler.defang import one_line

log = logging.getLogger("kyran.daemon")
PR_SET_PDEATHSIG = 1


def kyran_argv(config_path: str | None, args: tuple[str, ...]) -> list[str]:
    argv = [sys.executable, "-m", "crawler"]
    if config_path:
        argv += ["--config", config_path]
    return argv + list(args)


@functools.cache
def _prctl():
    """libc's prctl, looked up in the daemon (never between fork and exec, where dlopen could
    wait for a lock another thread held); None off Linux."""
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def _child_setup():
    """What the child runs before exec: SIGTERM when the daemon dies, even by SIGKILL."""
    prctl = _prctl()
    if prctl is None:
        return None
    return lambda: prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def stored_count(summary: str) -> int | None:
    match = re.search(r"(\d+) posts stored", summary)
    return int(match.group(1)) if match else None


async def _read(stream: asyncio.StreamReader, keep: deque, job_id: str) -> None:
    """Every line the job writes, to its end (a pipe left unread would stall the job)."""
    while True:
        try:
            line = await stream.readline()
        except (asyncio.LimitOverrunError, ValueError):  # a line over 64 KiB: its next piece
            line = await stream.read(65536)
        if not line:
            return
        text = one_line(line.decode("utf-8", "replace")).strip()[:2000]
        if text:
            keep.append(text)
            log.debug("%s: %s", job_id, text)


async def _stop_group(process: asyncio.subprocess.Process, grace: float) -> None:
    """SIGTERM to the job's process group, SIGKILL after `grace` seconds."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 30)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            await asyncio.wait_for(asyncio.shield(process.wait()), wait)
            break
        except asyncio.TimeoutError:
            continue
    with contextlib.suppress(ProcessLookupError):  # whatever of the group outlived its leader
        os.killpg(process.pid, signal.SIGKILL)


async def run_command(job_id: str, argv: list[str], limit: int, kill_grace: int,
                      on_start: Callable[[int], Awaitable[None]] | None = None) -> Result:
    """Run `argv` until it exits or `limit` seconds pass. Cancelling the call stops the
    process the same way (SIGTERM, SIGKILL) before the cancellation goes on."""
    process = await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, start_new_session=True, preexec_fn=_child_setup())
    out: deque[str] = deque(maxlen=20)
    err: deque[str] = deque(maxlen=20)
    readers = asyncio.gather(_read(process.stdout, out, job_id), _read(process.stderr, err, job_id))
    try:
        if on_start is not None:
            await on_start(process.pid)
        await asyncio.wait_for(asyncio.shield(process.wait()), limit)
    except asyncio.TimeoutError:
        await _stop_group(process, kill_grace)
        last = _last_line(out, err)
        return Result("timeout", f"{job_id} killed at its time limit of {limit} s"
                      + (f"; last output: {last}" if last else ""), process.returncode)
    except asyncio.CancelledError:
        await _stop_group(process, kill_grace)
        raise
    finally:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(readers), 5)
        readers.cancel()
    code = process.returncode
    summary = _last_line(out, err, prefer_out=code == 0) or f"{job_id} exited with status {code}"
    stored = stored_count(summary)
    if code == 0 and stored == 0:  # a crawl that ran and stored nothing is not a success
        return Result("failed", f"{job_id} stored nothing: {summary}", code, stored)
    if code == 0:
        return Result("ok", summary, code, stored)
    reason = f"exit status {code}" if code > 0 else f"killed by signal {-code}"
    return Result("failed", summary if summary.startswith(("crawl ", "kyran:"))
                  else f"{job_id} failed ({reason}): {summary}", code, stored)


def _last_line(out: deque, err: deque, prefer_out: bool = False) -> str:
    """The summary: a crawl's summary line (stdout when it went well, stderr when not), else
    the last line the job wrote."""
    for lines in ((out, err) if prefer_out else (err, out)):
        for line in reversed(lines):
            if line.startswith(("crawl ", "kyran:")):
                return line
    for lines in ((out, err) if prefer_out else (err, out)):
        if lines:
            return lines[-1]
    return ""


def load_call(dotted: str) -> Callable:
    """The callable named `module:function`; ImportError/AttributeError say which."""
    module_name, _, name = dotted.partition(":")
    return getattr(importlib.import_module(module_name), name)


async def run_call(job_id: str, dotted: str, limit: int, config, store, services) -> Result:
    """Await `dotted(config, store, services)` for `limit` seconds at most. It returns a dict;
    "ok": false or an "error" makes the run failed, "summary" and "stored" are recorded."""
    try:
        function = load_call(dotted)
    except (ImportError, AttributeError) as exc:
        return Result("failed", f"{job_id}: cannot load {dotted}: {exc}")
    try:
        outcome = await asyncio.wait_for(function(config, store, services), limit)
    except asyncio.TimeoutError:
        return Result("timeout", f"{job_id} stopped at its time limit of {limit} s")
    except Exception as exc:  # the job's own failure, recorded and retried: the daemon goes on
        log.debug("%s raised", job_id, exc_info=True)
        return Result("failed", one_line(f"{job_id} failed: {type(exc).__name__}: {exc}"))
    outcome = outcome if isinstance(outcome, dict) else {}
    failed = outcome.get("ok") is False or bool(outcome.get("error"))
    summary = outcome.get("summary") or outcome.get("error") or (
        f"{job_id} {'failed' if failed else 'ok'}: "
        + ", ".join(f"{key} {value}" for key, value in sorted(outcome.items())))
    stored = outcome.get("stored")
    return Result("failed" if failed else "ok", one_line(str(summary)),
                  stored=stored if isinstance(stored, int) else None)
