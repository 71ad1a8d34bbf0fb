"""Scrapy downloader middlewares of Kyran.

- `CaptureMiddleware` writes every response, exactly as received, to the WARC capture store and
  puts the capture reference into `response.meta["kyran_capture"]` for the items built from it.
- `ProxyRouteMiddleware` sends every request of a spider that has a `proxy` (a site target's
  HTTP or SOCKS proxy) through it, robots.txt requests included.
"""

from __future__ import annotations

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.config import load_config
from crawler.store.captures import CaptureWriter

CAPTURE_META = "kyran_capture"


class CaptureMiddleware:
    def __init__(self, writer: CaptureWriter, stats) -> None:
        self.writer = writer
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("KYRAN_CAPTURE_ENABLED", True):
            raise NotConfigured("captures disabled by KYRAN_CAPTURE_ENABLED")
        config = load_config(crawler.settings.get("KYRAN_CONFIG"))
        writer = CaptureWriter(config.captures_path,
                               fsync=crawler.settings.getbool("KYRAN_CAPTURE_FSYNC", True),
                               prefix=crawler.spidercls.name)
        middleware = cls(writer, crawler.stats)
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
        ref = self.writer.write_response(
            response.url, response.status, headers, response.body,
            protocol=response.protocol or "HTTP/1.1", ip_address=ip,
        )
        request.meta[CAPTURE_META] = ref
        self.stats.inc_value("kyran/captures/count")
        self.stats.inc_value("kyran/captures/bytes", ref.length)
        return response

    def spider_closed(self, spider=None) -> None:
        self.writer.close()


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
