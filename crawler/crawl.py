"""Running spiders: Scrapy settings derived from kyran.toml, and an in-process crawl runner.

`apply_config` is also called by every Kyran spider's `update_settings`, so `scrapy crawl` from
the repository root and `kyran crawl` read the same configuration (`-s` on Scrapy's command line
still wins, as in any Scrapy project).
"""

from __future__ import annotations

from typing import Any

from scrapy.settings import Settings

from crawler.config import KyranConfig, load_config


def apply_config(settings: Settings, config: KyranConfig, priority: str = "project") -> None:
    crawl = config.crawl
    settings.setdict(
        {
            "USER_AGENT": crawl.user_agent,
            "CONCURRENT_REQUESTS": crawl.concurrent_requests,
            "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrent_requests_per_domain,
            "DOWNLOAD_DELAY": crawl.download_delay,
            "AUTOTHROTTLE_ENABLED": crawl.autothrottle,
            "AUTOTHROTTLE_TARGET_CONCURRENCY": crawl.autothrottle_target_concurrency,
            "DOWNLOAD_TIMEOUT": crawl.download_timeout,
            "DOWNLOAD_MAXSIZE": crawl.download_maxsize,
            "DOWNLOAD_WARNSIZE": min(crawl.download_maxsize, 4 * 1024 * 1024),
            "RETRY_TIMES": crawl.retry_times,
            "ROBOTSTXT_OBEY": crawl.obey_robots,
            "LOG_LEVEL": crawl.log_level,
        },
        priority=priority,
    )


def crawl_settings(config_path: str | None, overrides: dict[str, Any] | None = None) -> Settings:
    """The project's Scrapy settings with kyran.toml applied, then `overrides` on top. (The spider
    applies kyran.toml again, which is what `scrapy crawl` relies on; applying it here too lets
    the process-wide log handler see the configured level from the start.)"""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("KYRAN_CONFIG", config_path, priority="project")
    apply_config(settings, load_config(config_path))
    settings.setdict(overrides or {}, priority="cmdline")
    return settings


def run_spider(spider: str, config_path: str | None, overrides: dict[str, Any] | None = None,
               **spider_args: Any) -> dict[str, Any]:
    """Run one spider to completion in this process and return its stats.

    Twisted's reactor cannot be restarted: call this once per process (the CLI does; the daemon
    runs each crawl in a subprocess)."""
    from scrapy.crawler import CrawlerProcess

    process = CrawlerProcess(crawl_settings(config_path, overrides))
    process.crawl(spider, **spider_args)
    (crawler,) = process.crawlers
    process.start()
    return dict(crawler.stats.get_stats())
