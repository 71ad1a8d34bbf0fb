"""The processing chain: every post that enters Kyran, from a spider or the Telegram monitor,
goes through the same steps in a fixed order.

    store ► score (normalise, extract, rules) ► entities ► cluster ► queue ► discover

Items come in batches. A batch is one transaction through every step, so a post is never kept
without its verdict and candidate, and a crawl checkpoint is committed only with the posts before
it. If a batch fails, it is redone one item at a time, each step in a savepoint (retried once,
which settles a race with another writer on a unique key): a step that fails for one post is
logged with the post and the step, the post's later steps are skipped, what was done is kept,
and the other posts go on. An error of the store itself (connection lost, read-only file, a table
gone) is not a post's fault and would fail every post alike: it raises `StoreUnavailable` at once
(one line, not one traceback per post); the batch is rolled back and its checkpoint not
committed, so the next run fetches those posts again.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError

from crawler.config import KyranConfig
from crawler.items import ChannelItem, CrawlCheckpoint, IdentityConflict, PostItem
from crawler.store.db import Store
from pipelines.clustering import ClusterStep
from pipelines.discovery import DiscoveryStep
from pipelines.entities import EntityStep
from pipelines.queue import QueueStep
from pipelines.scoring import DetectorHolder, ScoreStep, last_good_lexicons
from pipelines.storing import StoreStep
from pipelines.work import PostWork

log = logging.getLogger(__name__)


ATTEMPTS = 5


def _transient(exc: OperationalError) -> bool:
    """A deadlock or serialization failure (PostgreSQL aborts one of the writers involved)."""
    return getattr(exc.orig, "sqlstate", None) in ("40P01", "40001")


class StoreUnavailable(RuntimeError):
    """The store failed as a whole (not because of one post): the chain cannot go on."""


def _store_failure(exc: BaseException) -> StoreUnavailable | None:
    """A database error that is not one post's fault (a constraint or a value is)."""
    if not isinstance(exc, DBAPIError) or isinstance(exc, (IntegrityError, DataError)):
        return None
    if isinstance(exc, OperationalError) and _transient(exc):
        return None
    reason = str(exc.orig or exc).strip().splitlines()
    return StoreUnavailable(f"the store failed: {type(exc.orig or exc).__name__}: "
                            f"{reason[0][:300] if reason else 'no reason given'}")


def _raise_if_store_failed(exc: BaseException) -> None:
    failure = _store_failure(exc)
    if failure is not None:
        raise failure from exc


class ProcessingChain:
    def __init__(self, store: Store, config: KyranConfig, actor: str, *, scoring: bool = True,
                 detectors: DetectorHolder | None = None) -> None:
        self.store = store
        self.actor = actor
        self.detectors = detectors or DetectorHolder(config.detection,
                                                     last_good_lexicons(config))
        self.storing = StoreStep(actor)
        self.steps = [ScoreStep(self.detectors), EntityStep(), ClusterStep(),
                      QueueStep(self.detectors, config.queue, actor),
                      DiscoveryStep(config.discovery, actor)] if scoring else []
        self.stats: Counter[str] = Counter()
        # Posts that could not be stored, per source, since its last checkpoint (batches split a
        # channel's posts, so this outlives a batch): their checkpoint must not be committed.
        self.unstored: Counter[tuple[str, str]] = Counter()

    def process(self, items: list) -> None:
        """Process items in order; channels first of all, as their posts need the source."""
        batch: list = []
        for item in items:
            if isinstance(item, (ChannelItem, IdentityConflict)):
                self._batch(batch)
                batch = []
                self._channel(item)
            else:
                batch.append(item)
        self._batch(batch)

    def _channel(self, item: ChannelItem | IdentityConflict) -> None:
        quarantined = isinstance(item, IdentityConflict)
        try:
            with self.store.session() as session:
                if quarantined:
                    self.storing.quarantine(session, item)
                else:
                    self.storing.channel(session, item)
            self.stats["channels/quarantined" if quarantined else f"channels/{item.status}"] += 1
        except Exception as exc:
            _raise_if_store_failed(exc)
            log.exception("could not store channel %s; skipped",
                          item.requested if quarantined else item.username)
            self.stats["errors/store"] += 1

    def _batch(self, items: list) -> None:
        if not items:
            return
        posts = [item for item in items if isinstance(item, PostItem)]
        try:
            with self.store.session() as session:
                works = self.storing.posts(session, posts)
                self._note_refused()
                for step in self.steps:
                    step.run(session, works)
                for item in items:
                    if isinstance(item, CrawlCheckpoint) and self._may_advance(item):
                        self.storing.checkpoint(session, item)
        except Exception as exc:
            _raise_if_store_failed(exc)
            log.warning("a batch of %d items failed (%s: %s); redoing it item by item",
                        len(items), type(exc).__name__, str(exc).splitlines()[0][:200])
            self.stats["batch_retries"] += 1
            for item in items:
                if isinstance(item, CrawlCheckpoint):
                    self._checkpoint(item)
                elif not self._one(item):
                    self.unstored[(item.platform, item.source_key)] += 1
            return
        self._count(works)

    def _note_refused(self) -> None:
        """Posts the store step refused (they claimed another channel) count as not stored: the
        crawl cursor of their channel must not pass them."""
        self.unstored.update(self.storing.refused)
        self.storing.refused.clear()

    def _may_advance(self, item: CrawlCheckpoint) -> bool:
        missing = self.unstored.pop((item.platform, item.source_key), 0)
        if missing:
            # Advancing the cursor past posts that are not stored would lose them for good:
            # leave it, and the next run fetches them again.
            log.warning("crawl cursor of %s not advanced: %d posts before it were not stored",
                        item.source_key, missing)
        return not missing

    def _checkpoint(self, item: CrawlCheckpoint) -> None:
        if self._may_advance(item):
            with self.store.session() as session:
                self._guarded(session, "checkpoint", item, self.storing.checkpoint, item)

    def _one(self, item) -> bool:
        """One item in its own transaction; False when it could not be stored at all. A
        transaction the database aborted to break a deadlock with another writer is redone."""
        label = f"{item.platform}:{item.source_key}/{item.external_id}"
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return self._one_attempt(item, label)
            except OperationalError as exc:
                _raise_if_store_failed(exc)
                if attempt == ATTEMPTS:
                    log.exception("could not store %s; skipped", label)
                    self.stats["errors/store"] += 1
                    return False
                log.info("%s: %s; redoing it", label, type(exc.orig).__name__)
                self.stats["deadlock_retries"] += 1
                # Writers that collided once would collide again in step: wait a random while.
                time.sleep(random.uniform(0.02, 0.1) * attempt)
        return False

    def _one_attempt(self, item, label: str) -> bool:
        with self.store.session() as session:
            works: list[PostWork] = []

            def store(session):
                works[:] = self.storing.posts(session, [item])
                self._note_refused()
                session.flush()

            if not self._guarded(session, "store", label, store):
                return False
            for step in self.steps:
                if not self._guarded(session, step.name, label, step.run, works):
                    break
        self._count(works)
        return True

    def _guarded(self, session, step: str, label, run, *args) -> bool:
        for attempt in (1, 2):
            try:
                with session.begin_nested():
                    run(session, *args)
                return True
            except IntegrityError:
                if attempt == 2:
                    log.exception("step %s failed twice on a unique key for %s; skipped",
                                  step, label)
            except OperationalError as exc:
                if _transient(exc):
                    raise  # the whole transaction was aborted: _one redoes it
                _raise_if_store_failed(exc)
            except Exception as exc:
                _raise_if_store_failed(exc)
                log.exception("step %s failed for %s; its later steps are skipped", step, label)
                break
        self.stats[f"errors/{step}"] += 1
        return False

    def report(self) -> dict:
        """The counters, and why scoring does not use the configured lexicons, if it does not."""
        problem = self.detectors.problem if self.steps else None
        return {**self.stats, **({"lexicons/problem": problem} if problem else {})}

    def _count(self, works: list[PostWork]) -> None:
        for work in works:
            self.stats[f"posts/{work.change}"] += 1
            if work.verdict is not None:
                self.stats[f"verdicts/{work.verdict.category}"] += 1
