"""What every Kyran spider shares: kyran.toml applied to its Scrapy settings."""

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
