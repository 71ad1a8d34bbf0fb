"""The processing chain in a child process, so a crawl parses on one core and stores and scores
on the other (Python runs one thread at a time: threads would not help).

The crawl hands batches over a bounded queue, in order; when the chain falls behind, handing
over waits, which slows the crawl to the chain's pace instead of piling up memory. The child
reports its counters after every batch. If the child dies, the crawl is told at its next hand
over and stops with the reason; the posts it had not stored are fetched again next run (their
crawl checkpoint was not committed either). A child whose crawl died exits within a second,
leaving uncommitted work to the next run.

Every wait is bounded: a child that takes no batch, and says nothing, for `timeout` seconds (a
store that stopped answering) is stopped, and the crawl is told why. A child that fails reports
one line (its traceback only at DEBUG).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import sys
import threading
import time
from collections import Counter

log = logging.getLogger(__name__)
STOP = "stop"


class ChainWorkerDied(RuntimeError):
    """The chain's process is gone; what it had not stored will be fetched again."""


def _child(config_path: str | None, actor: str, scoring: bool, inbox, outbox,
           parent: int, log_level: str) -> None:
    logging.basicConfig(level=log_level, format="%(asctime)s [%(name)s] %(levelname)s: "
                        "%(message)s")
    from crawler.crawl import quiet_noise

    quiet_noise(log_level)  # before importing Alembic, which reports its plugins on import
    from crawler.config import load_config
    from crawler.store.db import open_store
    from pipelines.chain import ProcessingChain

    threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True).start()
    try:
        config = load_config(config_path)
        store = open_store(config.database_url, limits=config.store.limits())
        chain = ProcessingChain(store, config, actor, scoring=scoring)
        if scoring:
            chain.detectors.get()
        outbox.put(("stats", chain.report()))
        while True:
            try:
                kind, items = inbox.get(timeout=1.0)
            except queue.Empty:
                continue
            if kind == STOP:
                chain.store.dispose()
                outbox.put(("done", {**chain.report(),
                                     "worker/cpu_s": round(time.process_time(), 2)}))
                return
            chain.process(items)
            outbox.put(("stats", {**chain.report(),
                                  "worker/cpu_s": round(time.process_time(), 2)}))
    except Exception as exc:
        log.debug("the chain process failed", exc_info=True)
        lines = str(exc).strip().splitlines()
        outbox.put(("failed", f"{type(exc).__name__}: {lines[0] if lines else ''}".strip()))
        sys.exit(1)  # the parent says why, in one line


def _exit_when_orphaned(parent: int) -> None:
    """The crawl is gone (killed, perhaps half way through handing a batch over, which would
    leave a read waiting forever): stop at once. What was not committed is fetched again."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(3)


class ChainWorker:
    def __init__(self, config_path: str | None, actor: str, scoring: bool = True,
                 depth: int = 8, log_level: str = "INFO", timeout: float = 300.0) -> None:
        context = multiprocessing.get_context("spawn")  # no fork of a running reactor
        self.inbox = context.Queue(maxsize=depth)
        self.outbox = context.Queue()
        self.process = context.Process(
            target=_child, name="kyran-chain", daemon=True,
            args=(config_path, actor, scoring, self.inbox, self.outbox, os.getpid(), log_level))
        self.timeout = timeout  # seconds of silence from the child before it counts as stuck
        self.stats: Counter[str] = Counter()
        self.failure: str | None = None
        self.waited = 0.0  # seconds the crawl spent handing batches over (waiting when full)
        self._heard = time.monotonic()  # when the child last said something

    def start(self) -> None:
        """Start the child; it gets ready (imports, lexicons) while the crawl's first pages
        download, and reports a failure at the next hand-over."""
        self.process.start()
        self._heard = time.monotonic()

    def submit(self, items: list) -> None:
        started = time.monotonic()
        self._put(("batch", items))
        self.waited += time.monotonic() - started

    def close(self) -> None:
        """Let the chain finish what it was given, then stop it (bounded: a child that goes
        silent for `timeout` seconds is stopped)."""
        if self.process.is_alive():
            self._put((STOP, None))
            self._wait_for("done")
        self.process.join(timeout=10)

    def _put(self, message) -> None:
        """Hand a message over, waiting while the queue is full, but never longer than the
        child stays silent for `timeout` seconds."""
        waiting = time.monotonic()
        while True:
            self._drain()
            try:
                self.inbox.put(message, timeout=1.0)
                return
            except queue.Full:
                self._check_silence(waiting)

    def _check_silence(self, waiting: float) -> None:
        """Give up on a child silent for `timeout` seconds while the crawl waits for it (since
        `waiting`: a child that had nothing to do before is not silent)."""
        silent = time.monotonic() - max(self._heard, waiting)
        if silent >= self.timeout:
            self._abandon()
            self.process.kill()
            self.process.join(timeout=10)
            raise ChainWorkerDied(
                f"the store took no batch for {silent:.0f} s (store.write_timeout is "
                f"{self.timeout:g} s): is the database answering? Posts not yet stored will be "
                "fetched again on the next run")

    def _drain(self) -> None:
        while True:
            try:
                kind, payload = self.outbox.get_nowait()
            except queue.Empty:
                break
            self._receive(kind, payload)
        if not self.process.is_alive():
            self._died()

    def _receive(self, kind: str, payload) -> None:
        self._heard = time.monotonic()
        if kind in ("stats", "done"):
            self.stats = Counter(payload)
            self.stats["worker/handover_s"] = round(self.waited, 2)
        elif kind == "failed":
            self.failure = payload

    def _wait_for(self, wanted: str) -> None:
        waiting = time.monotonic()
        while True:
            try:
                kind, payload = self.outbox.get(timeout=1.0)
            except queue.Empty:
                if not self.process.is_alive():
                    self._died()
                self._check_silence(waiting)
                continue
            self._receive(kind, payload)
            if kind == wanted:
                return
            if kind == "failed":
                self._died()

    def _abandon(self) -> None:
        """Batches the child will never read must not hold this process at exit (the queue's
        feeder thread would wait for room in the pipe for ever)."""
        self.inbox.cancel_join_thread()

    def _died(self):
        self._abandon()
        self.process.join(timeout=5)  # its last words may still be on the way
        try:
            while True:
                self._receive(*self.outbox.get(timeout=0.5))
        except queue.Empty:
            pass
        reason = self.failure or f"exit code {self.process.exitcode}"
        raise ChainWorkerDied(f"the chain process stopped ({reason}); posts not yet stored "
                              "will be fetched again on the next run")
