"""Scrapy settings of the Kyran project (`scrapy.cfg` points here).

These are the defaults for `scrapy crawl` from the repository root; `kyran crawl` overlays the
values of kyran.toml on them (see `crawler.crawl.scrapy_settings`).
"""

BOT_NAME = "kyran"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

USER_AGENT = "KyranBot/0.1 (+public-interest monitoring of drug advertising; no purchases)"
ROBOTSTXT_OBEY = True

CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 60
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
RETRY_TIMES = 3
REDIRECT_MAX_TIMES = 10
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# Scrapy 2.19+ remote control runs code sent over HTTP: never on a crawler of hostile sites.
REMOTE_CONTROL_ENABLED = False

DOWNLOADER_MIDDLEWARES = {
    # Sits next to the network (after decompression in the chain) so the capture holds the
    # bytes exactly as the server sent them.
    "crawler.middlewares.CaptureMiddleware": 950,
    "crawler.middlewares.ProxyRouteMiddleware": 740,
}
DOWNLOAD_HANDLERS = {
    "http": "crawler.socks.SocksAwareDownloadHandler",
    "https": "crawler.socks.SocksAwareDownloadHandler",
}
SPIDER_MIDDLEWARES = {
    "crawler.progress.Progress": 990,  # next to the spider: sees its items as they come
}
# A host name that does not resolve fails at once: retrying a DNS failure only delays the
# error (Scrapy's default list, without CannotResolveHostError).
RETRY_EXCEPTIONS = [
    "scrapy.exceptions.DownloadConnectionRefusedError",
    "scrapy.exceptions.DownloadFailedError",
    "scrapy.exceptions.DownloadTimeoutError",
    "scrapy.exceptions.ResponseDataLossError",
    "twisted.internet.error.ConnectionDone",
    "twisted.internet.error.ConnectError",
    "twisted.internet.error.ConnectionLost",
    OSError,
    "scrapy.core.downloader.handlers.http11.TunnelError",
]
DNS_TIMEOUT = 15
# One line per channel or target on a terminal ("auto"), or always (True), or never (False).
KYRAN_PROGRESS = "auto"

ITEM_PIPELINES = {
    "pipelines.scrapy_adapter.ChainPipeline": 500,
}

# kyran.toml to read (None: $KYRAN_CONFIG, then ./kyran.toml, then the defaults).
KYRAN_CONFIG = None

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"  # `scrapy crawl`; `kyran crawl` uses crawl.log_level
