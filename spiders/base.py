"""What every Kyran spider shares: kyran.toml applied to its Scrapy settings, and telling the
progress display that a channel or target is done."""

from __future__ import annotations

import scrapy

from crawler.config import load_config
from crawler.crawl import apply_config


class KyranSpider(scrapy.Spider):
    @classmethod
    def update_settings(cls, settings) -> None:
        # Read kyran.toml at "project" priority: the spider's custom_settings (applied next, by
        # super()) and Scrapy's -s command-line values still override it.
        apply_config(settings, load_config(settings.get("KYRAN_CONFIG")))
        super().update_settings(settings)

    def finished(self, key: str, status: str) -> None:
        """A channel or target is done (`status`: complete, incomplete, no preview, failed …):
        its progress line is shown now."""
        from crawler.progress import TARGET_FINISHED

        self.crawler.signals.send_catch_log(TARGET_FINISHED, key=key, status=status)


def describe_failure(failure) -> str:
    """One readable line for a failed request: the HTTP status, or the error Scrapy gave."""
    from scrapy.spidermiddlewares.httperror import HttpError

    if failure.check(HttpError):
        return f"HTTP {failure.value.response.status}"
    return f"{failure.type.__name__}: {failure.getErrorMessage()}"
