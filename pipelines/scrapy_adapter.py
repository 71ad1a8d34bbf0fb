"""The Scrapy door into the processing chain: an item pipeline that hands items over in batches.

Items are buffered in order and passed to `pipelines.chain.ProcessingChain` when
`KYRAN_STORE_BATCH` have gathered, `KYRAN_STORE_BATCH_SECONDS` have passed since the first, at a
crawl checkpoint, and at the end of the crawl. A crawl killed with a batch unwritten loses nothing
for good: its checkpoint was not committed either, so the next run fetches those posts again.
`KYRAN_SCORING = False` stores without scoring (the benchmark's baseline).
"""

from __future__ import annotations

import time

from crawler.config import load_config
from crawler.items import ChannelItem, CrawlCheckpoint, PostItem
from crawler.store.db import open_store
from pipelines.chain import ProcessingChain


class ChainPipeline:
    def __init__(self, crawler, chain: ProcessingChain, batch_size: int, batch_seconds: float):
        self.crawler = crawler
        self.chain = chain
        self.batch_size = batch_size
        self.batch_seconds = batch_seconds
        self.pending: list = []
        self.pending_since = 0.0

    @classmethod
    def from_crawler(cls, crawler):
        config = load_config(crawler.settings.get("KYRAN_CONFIG"))
        chain = ProcessingChain(open_store(config.database_url), config,
                                actor=f"component:{crawler.spidercls.name}",
                                scoring=crawler.settings.getbool("KYRAN_SCORING", True))
        return cls(crawler, chain, crawler.settings.getint("KYRAN_STORE_BATCH", 200),
                   crawler.settings.getfloat("KYRAN_STORE_BATCH_SECONDS", 2.0))

    def open_spider(self, spider=None) -> None:
        if self.chain.steps:
            self.chain.detectors.get()  # load lexicons now: a broken file is reported at once

    def process_item(self, item, spider=None):
        if isinstance(item, (ChannelItem, PostItem, CrawlCheckpoint)):
            if not self.pending:
                self.pending_since = time.monotonic()
            self.pending.append(item)
            if (isinstance(item, CrawlCheckpoint) or len(self.pending) >= self.batch_size
                    or time.monotonic() - self.pending_since >= self.batch_seconds):
                self.flush()
        return item

    def flush(self) -> None:
        batch, self.pending = self.pending, []
        self.chain.process(batch)
        for key, value in self.chain.stats.items():
            self.crawler.stats.set_value(f"kyran/{key}", value)

    def close_spider(self, spider=None) -> None:
        self.flush()
        self.chain.store.dispose()
