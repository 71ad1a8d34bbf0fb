"""Scrapy item pipeline that stores channels, posts, their captures and crawl checkpoints.

A thin adapter around `crawler.store.ingest`. Posts are written in batches (one transaction per
batch, flushed at `KYRAN_STORE_BATCH` items, after `KYRAN_STORE_BATCH_SECONDS`, at a channel,
checkpoint or the end of the crawl), which is several times faster than a transaction per post.
Order is kept: a crawl checkpoint is committed only after the posts before it, so a crawl killed
with a batch unwritten leaves the cursor behind those posts and the next run fetches them again.
If a batch fails, it is redone one item at a time: one bad item is logged with what it was and
skipped, the rest are stored.
"""

from __future__ import annotations

import logging
import time

from crawler.config import load_config
from crawler.items import ChannelItem, CrawlCheckpoint, PostItem
from crawler.store.db import open_store
from crawler.store.ingest import (
    find_source,
    mark_seen,
    record_capture,
    upsert_channel,
    upsert_post,
    upsert_posts,
    watch,
)

log = logging.getLogger(__name__)


class StorePipeline:
    def __init__(self, crawler, store, batch_size: int, batch_seconds: float) -> None:
        self.crawler = crawler
        self.store = store
        self.stats = crawler.stats
        self.batch_size = batch_size
        self.batch_seconds = batch_seconds
        self.pending: list[PostItem | CrawlCheckpoint] = []
        self.pending_since = 0.0

    @classmethod
    def from_crawler(cls, crawler):
        config = load_config(crawler.settings.get("KYRAN_CONFIG"))
        return cls(crawler, open_store(config.database_url),
                   crawler.settings.getint("KYRAN_STORE_BATCH", 200),
                   crawler.settings.getfloat("KYRAN_STORE_BATCH_SECONDS", 2.0))

    @property
    def actor(self) -> str:
        return f"component:{self.crawler.spider.name}"

    def close_spider(self, spider=None) -> None:
        self.flush()
        self.store.dispose()

    def process_item(self, item, spider=None):
        if isinstance(item, ChannelItem):
            self.flush()
            self._guarded(self._store_channel, item)
        elif isinstance(item, (PostItem, CrawlCheckpoint)):
            if not self.pending:
                self.pending_since = time.monotonic()
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
            with self.store.session() as session:
                self._store_batch(session, batch)
        except Exception as exc:
            log.warning("a batch of %d items failed (%s); storing them one by one",
                        len(batch), exc)
            self.stats.inc_value("kyran/store/batch_retries")
            for item in batch:
                self._guarded(self._store_one, item)

    def _guarded(self, store_item, item) -> None:
        try:
            with self.store.session() as session:
                store_item(session, item)
        except Exception:
            log.exception("could not store %s %s; skipped", type(item).__name__,
                          getattr(item, "url", None) or getattr(item, "source_key", "") or
                          getattr(item, "username", ""))
            self.stats.inc_value("kyran/store/errors")

    def _store_channel(self, session, item: ChannelItem) -> None:
        record_capture(session, item.capture)
        upsert_channel(session, item, self.actor)
        self.stats.inc_value(f"kyran/channels/{item.status}")

    def _source(self, session, item: PostItem):
        source = find_source(session, item.platform, item.source_key)
        if source is None:
            source = watch(session, item.platform, item.source_key, actor=self.actor,
                           kind="site" if item.platform == "web" else "channel")
        if item.platform == "web":
            mark_seen(session, source, self.actor)
        return source

    def _store_batch(self, session, batch) -> None:
        captures: dict = {}
        groups: dict[tuple[str, str], list] = {}
        for item in batch:
            if isinstance(item, PostItem):
                ref = item.capture
                key = (ref.path, ref.offset) if ref is not None else None
                if key not in captures:
                    captures[key] = record_capture(session, ref)
                groups.setdefault((item.platform, item.source_key), []).append(
                    (item, captures[key]))
        for entries in groups.values():
            source = self._source(session, entries[0][0])
            for _, change in upsert_posts(session, source, entries):
                self.stats.inc_value(f"kyran/posts/{change}")
        for item in batch:
            if isinstance(item, CrawlCheckpoint):
                self._store_checkpoint(session, item)

    def _store_one(self, session, item) -> None:
        if isinstance(item, CrawlCheckpoint):
            self._store_checkpoint(session, item)
            return
        source = self._source(session, item)
        _, change = upsert_post(session, source, item, record_capture(session, item.capture))
        self.stats.inc_value(f"kyran/posts/{change}")

    @staticmethod
    def _store_checkpoint(session, item: CrawlCheckpoint) -> None:
        source = find_source(session, item.platform, item.source_key)
        if source is not None:
            source.crawl_cursor = max(item.cursor, source.crawl_cursor or 0)
