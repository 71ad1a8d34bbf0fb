"""Scrapy item pipeline that stores channels, posts, their captures and crawl checkpoints.

A thin adapter: the work is done by `crawler.store.ingest`. One bad item is logged with what it
was and skipped; the crawl goes on.
"""

from __future__ import annotations

import logging

from crawler.config import load_config
from crawler.items import ChannelItem, CrawlCheckpoint, PostItem
from crawler.store.db import open_store
from crawler.store.ingest import (
    find_source,
    mark_seen,
    record_capture,
    upsert_channel,
    upsert_post,
    watch,
)

log = logging.getLogger(__name__)


class StorePipeline:
    def __init__(self, crawler, store) -> None:
        self.crawler = crawler
        self.store = store
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler):
        config = load_config(crawler.settings.get("KYRAN_CONFIG"))
        return cls(crawler, open_store(config.database_url))

    @property
    def actor(self) -> str:
        return f"component:{self.crawler.spider.name}"

    def close_spider(self, spider=None) -> None:
        self.store.dispose()

    def process_item(self, item, spider=None):
        try:
            with self.store.session() as session:
                if isinstance(item, ChannelItem):
                    record_capture(session, item.capture)
                    upsert_channel(session, item, self.actor)
                    self.stats.inc_value(f"kyran/channels/{item.status}")
                elif isinstance(item, PostItem):
                    source = find_source(session, item.platform, item.source_key)
                    if source is None:
                        source = watch(session, item.platform, item.source_key, actor=self.actor,
                                       kind="site" if item.platform == "web" else "channel")
                    if item.platform == "web":
                        mark_seen(session, source, self.actor)
                    capture = record_capture(session, item.capture)
                    _, change = upsert_post(session, source, item, capture)
                    self.stats.inc_value(f"kyran/posts/{change}")
                elif isinstance(item, CrawlCheckpoint):
                    source = find_source(session, item.platform, item.source_key)
                    if source is not None:
                        source.crawl_cursor = max(item.cursor, source.crawl_cursor or 0)
        except Exception:
            log.exception("could not store %s %s; skipped", type(item).__name__,
                          getattr(item, "url", getattr(item, "username", "")))
            self.stats.inc_value("kyran/store/errors")
        return item
