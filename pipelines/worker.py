"""The processing chain in a child process, so a crawl parses on one core and stores and scores
on the other (Python runs one thread at a time: threads would not help).

The crawl hands batches over a bounded queue, in order; when the chain falls behind, handing
over waits, which slows the crawl to the chain's pace instead of piling up memory. The child
reports its counters after every batch. If the child dies, the crawl is told at its next hand
over and stops with the reason; the posts it had not stored are fetched again next run (their
crawl checkpoint was not committed either). A child whose crawl died exits within a second,
leaving uncommitted work to the next run.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import threading
import time
import traceback
from collections import Counter

log = logging.getLogger(__name__)
STOP = "stop"


class ChainWorkerDied(RuntimeError):
    """The chain's process is gone; what it had not stored will be fetched again."""


def _child(config_path: str | None, actor: str, scoring: bool, inbox, outbox,
           parent: int, log_level: str) -> None:
    logging.basicConfig(level=log_level, format="%(asctime)s [%(name)s] %(levelname)s: "
                        "%(message)s")
    from crawler.config import load_config
    from crawler.store.db import open_store
    from pipelines.chain import ProcessingChain

    threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True).start()
    try:
        config = load_config(config_path)
        chain = ProcessingChain(open_store(config.database_url), config, actor, scoring=scoring)
        if scoring:
            chain.detectors.get()
        while True:
            try:
                kind, items = inbox.get(timeout=1.0)
            except queue.Empty:
                continue
            if kind == STOP:
                chain.store.dispose()
                outbox.put(("done", {**chain.stats,
                                     "worker/cpu_s": round(time.process_time(), 2)}))
                return
            chain.process(items)
            outbox.put(("stats", {**chain.stats, "worker/cpu_s": round(time.process_time(), 2)}))
    except BaseException:
        outbox.put(("failed", traceback.format_exc()))
        raise


def _exit_when_orphaned(parent: int) -> None:
    """The crawl is gone (killed, perhaps half way through handing a batch over, which would
    leave a read waiting forever): stop at once. What was not committed is fetched again."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(3)


class ChainWorker:
    def __init__(self, config_path: str | None, actor: str, scoring: bool = True,
                 depth: int = 8, log_level: str = "INFO") -> None:
        context = multiprocessing.get_context("spawn")  # no fork of a running reactor
        self.inbox = context.Queue(maxsize=depth)
        self.outbox = context.Queue()
        self.process = context.Process(
            target=_child, name="kyran-chain", daemon=True,
            args=(config_path, actor, scoring, self.inbox, self.outbox, os.getpid(), log_level))
        self.stats: Counter[str] = Counter()
        self.failure: str | None = None
        self.waited = 0.0  # seconds the crawl spent handing batches over (waiting when full)

    def start(self) -> None:
        """Start the child; it gets ready (imports, lexicons) while the crawl's first pages
        download, and reports a failure at the next hand-over."""
        self.process.start()

    def submit(self, items: list) -> None:
        started = time.monotonic()
        while True:
            self._drain()
            try:
                self.inbox.put(("batch", items), timeout=1.0)
                break
            except queue.Full:
                continue
        self.waited += time.monotonic() - started

    def close(self, timeout: float = 600.0) -> None:
        """Let the chain finish what it was given, then stop it."""
        if self.process.is_alive():
            self.inbox.put((STOP, None))
            self._wait_for("done", timeout)
        self.process.join(timeout=10)

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
        if kind in ("stats", "done"):
            self.stats = Counter(payload)
            self.stats["worker/handover_s"] = round(self.waited, 2)
        elif kind == "failed":
            self.failure = payload

    def _wait_for(self, wanted: str, timeout: float) -> None:
        waited = 0.0
        while waited < timeout:
            try:
                kind, payload = self.outbox.get(timeout=1.0)
            except queue.Empty:
                waited += 1.0
                if not self.process.is_alive():
                    self._died()
                continue
            self._receive(kind, payload)
            if kind == wanted:
                return
            if kind == "failed":
                self._died()
        raise ChainWorkerDied(f"the chain process did not answer {wanted!r} in {timeout:.0f} s")

    def _died(self):
        reason = (self.failure or "").strip().splitlines()[-1:] or [
            f"exit code {self.process.exitcode}"]
        raise ChainWorkerDied(f"the chain process stopped ({reason[0]}); posts not yet stored "
                              "will be fetched again on the next run")
