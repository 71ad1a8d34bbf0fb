"""One line per channel or site target as it finishes (name, pages, posts, status), shown when
stdout is a terminal; under cron or systemd the crawl prints only its summary and errors.

A spider middleware: it counts pages and, as a callback yields them, posts per channel
(`request.meta["channel"]`) or per site target; a spider tells it when one is done by sending
`TARGET_FINISHED` (see `spiders.base.KyranSpider.finished`). What was never finished is shown
when the crawl closes.
`KYRAN_PROGRESS` is "auto" (a terminal), True or False.
"""

from __future__ import annotations

import sys
from collections import Counter
from urllib.parse import urlsplit

import click
from scrapy import signals

from crawler.defang import safe
from crawler.items import PostBatch, PostItem

TARGET_FINISHED = object()  # signal: spider, key, status


def progress_key(spider, request) -> str | None:
    return request.meta.get("channel") or getattr(spider, "target_name", None)


class Progress:
    def __init__(self, crawler, show: bool) -> None:
        self.crawler = crawler
        self.show = show
        self.pages: Counter[str] = Counter()
        self.posts: Counter[str] = Counter()
        self.open: dict[str, None] = {}  # keys seen and not finished, in order

    @classmethod
    def from_crawler(cls, crawler):
        setting = crawler.settings.get("KYRAN_PROGRESS", "auto")
        show = sys.stdout.isatty() if setting == "auto" else crawler.settings.getbool(
            "KYRAN_PROGRESS")
        extension = cls(crawler, show)
        crawler.signals.connect(extension.response_received, signal=signals.response_received)
        crawler.signals.connect(extension.finished, signal=TARGET_FINISHED)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def response_received(self, response, request, spider=None) -> None:
        if urlsplit(response.url).path == "/robots.txt":
            return
        key = progress_key(self.crawler.spider, request)
        if key is not None:
            self.pages[key] += 1
            self.open.setdefault(key, None)
        self.crawler.stats.inc_value("kyran/pages")

    def process_spider_output(self, response, result, spider=None):
        for item in result:
            self._count(response, item)
            yield item

    async def process_spider_output_async(self, response, result, spider=None):
        async for item in result:
            self._count(response, item)
            yield item

    def _count(self, response, item) -> None:
        if isinstance(item, (PostBatch, PostItem)):
            key = progress_key(self.crawler.spider, response.request or response)
            if key is not None:
                self.posts[key] += len(item.posts) if isinstance(item, PostBatch) else 1

    def finished(self, key: str, status: str, spider=None) -> None:
        self.open.pop(key, None)
        self._line(key, status)

    def spider_closed(self, spider=None, reason: str = "finished") -> None:
        status = "done" if reason == "finished" else f"stopped ({reason})"
        for key in list(self.open):
            self.finished(key, status)

    def _line(self, key: str, status: str) -> None:
        if self.show:
            click.echo(f"{safe(key):<32} {self.pages[key]:>5} pages {self.posts[key]:>7} posts"
                       f"  {status}")
