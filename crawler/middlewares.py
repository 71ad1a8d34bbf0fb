"""Scrapy downloader middlewares of Kyran.

- `CaptureMiddleware` writes every response, exactly as received, to the WARC capture store and
  puts the capture reference into `response.meta["kyran_capture"]` for the items built from it.
  When a capture cannot be written (disk full, folder gone) the crawl stops, said in one line: a
  post is never stored without its evidence, and the next run fetches the rest again.
- `ProxyRouteMiddleware` sends every request of a spider that has a `proxy` (a site target's
  HTTP or SOCKS proxy) through it, robots.txt requests included.
"""

from __future__ import annotations

import logging

from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.defer import deferred_from_coro

from crawler.config import load_config
from crawler.store.captures import CaptureWriter

CAPTURE_META = "kyran_capture"
log = logging.getLogger(__name__)


class CaptureMiddleware:
    def __init__(self, writer: CaptureWriter, stats, crawler=None) -> None:
        self.writer = writer
        self.stats = stats
        self.crawler = crawler
        self.failure: str | None = None

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("KYRAN_CAPTURE_ENABLED", True):
            raise NotConfigured("captures disabled by KYRAN_CAPTURE_ENABLED")
        config = load_config(crawler.settings.get("KYRAN_CONFIG"))
        writer = CaptureWriter(config.captures_path,
                               fsync=crawler.settings.getbool("KYRAN_CAPTURE_FSYNC", True),
                               prefix=crawler.spidercls.name)
        middleware = cls(writer, crawler.stats, crawler)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def process_response(self, request, response, spider=None):
        if request.meta.get("dont_obey_robotstxt") and response.url.endswith("/robots.txt"):
            return response
        headers = [
            (key.decode("latin-1"), value.decode("latin-1"))
            for key, values in response.headers.items()
            for value in values
        ]
        ip = str(response.ip_address) if response.ip_address is not None else None
        if self.failure is not None:
            raise IgnoreRequest(f"not kept: {self.failure}")
        try:
            ref = self.writer.write_response(
                response.url, response.status, headers, response.body,
                protocol=response.protocol or "HTTP/1.1", ip_address=ip,
            )
        except OSError as exc:
            self._stop(f"captures cannot be written to {self.writer.root} ({exc})")
            raise IgnoreRequest(f"not kept: {self.failure}") from None
        request.meta[CAPTURE_META] = ref
        self.stats.inc_value("kyran/captures/count")
        self.stats.inc_value("kyran/captures/bytes", ref.length)
        return response

    def _stop(self, reason: str) -> None:
        self.failure = reason
        self.stats.set_value("kyran/captures/failure", reason)
        log.error("%s: stopping the crawl", reason)
        if self.crawler is not None and self.crawler.engine is not None:
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="capture_failed"))

    def spider_closed(self, spider=None) -> None:
        try:
            self.writer.close()
        except OSError as exc:
            if self.failure is None:
                log.error("the last capture file could not be closed: %s", exc)
                self.stats.set_value("kyran/captures/failure", str(exc))


class ProxyRouteMiddleware:
    """Route a spider's requests through `spider.proxy` unless a request names its own."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request, spider=None):
        proxy = getattr(self.crawler.spider, "proxy", None)
        if proxy and "proxy" not in request.meta:
            request.meta["proxy"] = proxy
        return None
