"""Running spiders: Scrapy settings derived from kyran.toml, a check that a crawl can store what
it reads before it fetches anything, and an in-process crawl runner.

`apply_config` is also called by every Kyran spider's `update_settings`, so `scrapy crawl` from
the repository root and `kyran crawl` read the same configuration (`-s` on Scrapy's command line
still wins, as in any Scrapy project).
"""

from __future__ import annotations

import logging
import tempfile
from typing import Any

from scrapy.settings import Settings

from crawler.config import KyranConfig, load_config

# Scrapy's start-up report (versions, settings, middleware lists), its periodic and closing
# stats and the engine's open/close lines: shown at log level DEBUG only.
# Alembic's migration chatter too.
NOISE = ("scrapy.utils.log", "scrapy.crawler", "scrapy.middleware", "scrapy.addons",
         "scrapy.extensions.telnet", "scrapy.extensions.logstats", "scrapy.statscollectors",
         "scrapy.core.engine", "alembic.runtime.migration", "alembic.runtime.plugins")


class _BelowWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


class _WithoutTraceback(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info, record.exc_text = None, None
        return True


# A robots.txt that cannot be fetched (a host that does not resolve) is a network error, told
# in one line: its traceback shows at DEBUG only.
ONE_LINE = ("scrapy.downloadermiddlewares.robotstxt",)


def quiet_noise(log_level: str | None) -> None:
    """Drop the start-up noise unless the log level is DEBUG. A filter on each logger, not its
    level: Scrapy's logging set-up resets the levels of loggers that already exist."""
    for names, kind in ((NOISE, _BelowWarning), (ONE_LINE, _WithoutTraceback)):
        for name in names:
            logger = logging.getLogger(name)
            for old in [f for f in logger.filters if isinstance(f, kind)]:
                logger.removeFilter(old)
            if log_level != "DEBUG":
                logger.addFilter(kind())


class CrawlNotStarted(Exception):
    """The crawl could not store what it would read; nothing was fetched. One line: why."""


def preflight(config: KyranConfig, scoring: bool = True) -> None:
    """Check, before fetching anything, that the store opens and takes writes, that captures
    can be written, and that the lexicons can score (or their last good copy can)."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    from crawler.store.db import open_store

    quiet_noise(config.crawl.log_level)
    try:
        store = open_store(config.database_url, limits=config.store.limits())
        try:
            with store.engine.connect() as conn:  # a write, undone: is the store writable?
                transaction = conn.begin()
                conn.execute(text("UPDATE alembic_version SET version_num = version_num"))
                transaction.rollback()
        finally:
            store.dispose()
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        raise CrawlNotStarted(f"the store cannot be written ({type(exc).__name__}: "
                              f"{reason[0] if reason else ''})") from None
    folder = config.captures_path
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise CrawlNotStarted(f"captures cannot be written to {folder} ({exc.strerror or exc})"
                              ) from None
    if scoring:
        _check_lexicons(config)


def _check_lexicons(config: KyranConfig) -> None:
    from detection.lexicon import LexiconError
    from pipelines.scoring import DetectorHolder, last_good_lexicons  # not the whole chain

    holder = DetectorHolder(config.detection, last_good_lexicons(config), report=False)
    try:
        holder.get()  # falling back to the last good copy is the chain's to report
    except LexiconError as exc:
        raise CrawlNotStarted(f"lexicons cannot be used and there is no good copy to fall back "
                              f"to: {exc}") from None


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

    settings = crawl_settings(config_path, overrides)
    quiet_noise(settings.get("LOG_LEVEL"))
    process = CrawlerProcess(settings)
    process.crawl(spider, **spider_args)
    (crawler,) = process.crawlers
    process.start()
    return dict(crawler.stats.get_stats())
