"""The Scrapy door into the processing chain: an item pipeline that hands items over in batches.

Items are buffered in order and passed on when `KYRAN_STORE_BATCH` have gathered,
`KYRAN_STORE_BATCH_SECONDS` have passed since the first, at a crawl checkpoint, and at the end
of the crawl. By default the chain runs in a child process (`pipelines.worker`), so parsing and
storing use both cores; `KYRAN_CHAIN_PROCESS = False` runs it in the crawl's own process. A crawl
killed with a batch unwritten loses nothing for good: its checkpoint was not committed either, so
the next run fetches those posts again. `KYRAN_SCORING = False` stores without scoring (the
benchmark's baseline). When the chain fails (store unavailable, lexicons unusable, a stuck
store: see `store.write_timeout`) the crawl stops with `finish_reason: chain_failed` and one
line saying why.
"""

from __future__ import annotations

import time

from scrapy.utils.defer import deferred_from_coro

from crawler.config import load_config
from crawler.items import (
    ChannelItem,
    CrawlCheckpoint,
    IdentityConflict,
    PostBatch,
    PostItem,
)
from pipelines.worker import ChainWorker, ChainWorkerDied


class InProcessChain:
    """The chain in the crawl's own process, with the worker's interface."""

    def __init__(self, config_path, actor: str, scoring: bool) -> None:
        from crawler.store.db import open_store
        from pipelines.chain import ProcessingChain

        config = load_config(config_path)
        self.chain = ProcessingChain(
            open_store(config.database_url, limits=config.store.limits()), config, actor,
            scoring=scoring)

    @property
    def stats(self):
        return self.chain.report()

    def start(self) -> None:
        self.failed: ChainWorkerDied | None = None
        if self.chain.steps:
            try:  # load lexicons now: a broken file is reported at the first hand-over
                self._guard(self.chain.detectors.get)
            except ChainWorkerDied as exc:
                self.failed = exc

    def submit(self, items: list) -> None:
        if self.failed is not None:
            raise self.failed
        self._guard(self.chain.process, items)

    def _guard(self, work, *args) -> None:
        from detection.lexicon import LexiconError
        from pipelines.chain import StoreUnavailable

        try:
            work(*args)
        except (StoreUnavailable, LexiconError) as exc:
            raise ChainWorkerDied(f"storing stopped ({type(exc).__name__}: {exc}); posts not "
                                  "yet stored will be fetched again on the next run") from None

    def close(self) -> None:
        self.chain.store.dispose()


class ChainPipeline:
    def __init__(self, crawler, chain, batch_size: int, batch_seconds: float):
        self.crawler = crawler
        self.chain = chain
        self.batch_size = batch_size
        self.batch_seconds = batch_seconds
        self.pending: list = []
        self.pending_since = 0.0
        self.broken = False

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        config_path = settings.get("KYRAN_CONFIG")
        actor = f"component:{crawler.spidercls.name}"
        scoring = settings.getbool("KYRAN_SCORING", True)
        if settings.getbool("KYRAN_CHAIN_PROCESS", True):
            chain = ChainWorker(config_path, actor, scoring,
                                log_level=settings.get("LOG_LEVEL") or "INFO",
                                timeout=load_config(config_path).store.write_timeout)
        else:
            chain = InProcessChain(config_path, actor, scoring)
        return cls(crawler, chain, settings.getint("KYRAN_STORE_BATCH", 200),
                   settings.getfloat("KYRAN_STORE_BATCH_SECONDS", 2.0))

    def open_spider(self, spider=None) -> None:
        self.chain.start()

    def process_item(self, item, spider=None):
        if isinstance(item, (PostBatch, PostItem)):  # seen, stored or not (the summary's "of")
            self.crawler.stats.inc_value(
                "kyran/posts_seen", len(item.posts) if isinstance(item, PostBatch) else 1)
        if self.broken:
            return item
        if isinstance(item, (ChannelItem, PostItem, PostBatch, CrawlCheckpoint,
                             IdentityConflict)):
            if not self.pending:
                self.pending_since = time.monotonic()
            if isinstance(item, PostBatch):
                self.pending.extend(item.posts)
            else:
                self.pending.append(item)
            if (isinstance(item, CrawlCheckpoint) or len(self.pending) >= self.batch_size
                    or time.monotonic() - self.pending_since >= self.batch_seconds):
                self.flush()
        return item

    def flush(self) -> None:
        batch, self.pending = self.pending, []
        if not batch:
            return
        try:
            self.chain.submit(batch)
        except ChainWorkerDied as exc:
            self._stop(str(exc))
            return
        for key, value in self.chain.stats.items():
            self.crawler.stats.set_value(f"kyran/{key}", value)

    def _stop(self, reason: str) -> None:
        if self.broken:
            return
        self.broken = True
        self.crawler.stats.set_value("kyran/chain_failure", reason)
        self.crawler.spider.logger.error("storing stopped: %s", reason)
        deferred_from_coro(self.crawler.engine.close_spider_async(reason="chain_failed"))

    def close_spider(self, spider=None) -> None:
        if not self.broken:
            self.flush()
        try:
            self.chain.close()
        except ChainWorkerDied as exc:
            if not self.broken:
                self.broken = True
                self.crawler.stats.set_value("kyran/chain_failure", str(exc))
                self.crawler.spider.logger.error("storing stopped: %s", exc)
        for key, value in self.chain.stats.items():
            self.crawler.stats.set_value(f"kyran/{key}", value)
