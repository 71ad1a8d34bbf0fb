"""Typed configuration: one TOML file (`kyran.toml`) plus `KYRAN_*` environment overrides.

Every key is validated on load by pydantic models that forbid unknown keys. A wrong key, type or
value raises `ConfigError` whose message is one line naming the file (or variable), the key and
what is expected, e.g. ``kyran.toml: crawl.retry_times: expected an integer (got 'many')``.

Environment overrides use ``KYRAN_<SECTION>__<KEY>`` (double underscore between levels), e.g.
``KYRAN_STORE__URL=postgresql+psycopg://127.0.0.1/test``. Values are read as TOML literals when
they parse as such (``3``, ``true``, ``["a", "b"]``) and as plain strings otherwise.
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator

from crawler.config_base import Section, check_schedule
from crawler.config_daemon import AlertsConfig, DaemonConfig, LivenessConfig, RetentionConfig
from crawler.config_evidence import EvidenceConfig
from crawler.config_review import ReviewConfig
from crawler.config_telegram import TelegramConfig
from crawler.usernames import UsernameError, parse_username
from detection.config import CURRENT_MODEL, DetectionConfig

ENV_PREFIX = "KYRAN_"
DEFAULT_FILE = "kyran.toml"


class ConfigError(Exception):
    """A configuration file or override is invalid; the message says where and what is expected."""


class StoreConfig(Section):
    url: str = Field(
        "sqlite:///var/kyran.sqlite",
        description="SQLAlchemy URL of the store. SQLite paths are relative to the config's "
        "directory; for PostgreSQL use postgresql+psycopg://HOST:PORT/DB.",
    )
    captures_dir: Path = Field(
        Path("var/captures"), description="Where raw captures (WARC files) are written."
    )
    connect_timeout: int = Field(
        10, ge=1, le=600, description="PostgreSQL: seconds to wait for a connection.")
    statement_timeout: int = Field(
        300, ge=1, le=86400, description="PostgreSQL: seconds a statement may run (server side).")
    idle_timeout: int = Field(
        300, ge=1, le=86400, description="PostgreSQL: seconds a transaction may sit idle before "
        "the server ends it (frees the locks of a client that vanished).")
    network_timeout: int = Field(
        60, ge=5, le=3600, description="PostgreSQL: seconds without an answer from the network "
        "(TCP keepalives, tcp_user_timeout) before the connection counts as dead.")
    write_timeout: int = Field(
        300, ge=1, le=86400, description="Seconds a crawl waits for the store to take a batch of "
        "posts before it stops, saying the store does not answer.")

    def limits(self) -> dict:
        """The bounds of waits on the store, for `crawler.store.db.make_engine`."""
        return {"connect_timeout": self.connect_timeout,
                "statement_timeout": self.statement_timeout,
                "idle_timeout": self.idle_timeout, "network_timeout": self.network_timeout}

    @field_validator("url")
    @classmethod
    def _known_backend(cls, url: str) -> str:
        if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", url):
            raise ValueError("expected a sqlite:/// or postgresql+psycopg:// URL")
        return url


class CrawlConfig(Section):
    user_agent: str = Field(
        "KyranBot/0.1 (+public-interest monitoring of drug advertising; no purchases)",
        description="User-Agent header sent with every request.",
    )
    concurrent_requests: int = Field(8, ge=1, le=256, description="Scrapy CONCURRENT_REQUESTS.")
    concurrent_requests_per_domain: int = Field(
        2, ge=1, le=64, description="At most this many requests in flight per domain."
    )
    download_delay: float = Field(
        1.0, ge=0, le=3600, description="Seconds between requests to a domain.")
    autothrottle: bool = Field(True, description="Adapt the delay to the server's latency.")
    autothrottle_target_concurrency: float = Field(1.0, gt=0, le=256)
    download_timeout: int = Field(
        60, ge=1, le=3600, description="Seconds before a request is abandoned.")
    download_maxsize: int = Field(
        10 * 1024 * 1024, ge=1024, le=1024**3,
        description="Largest response (after decompression) in bytes."
    )
    retry_times: int = Field(3, ge=0, le=20, description="Retries of 5xx and connection errors.")
    obey_robots: bool = Field(True, description="Obey robots.txt (a site target may override).")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "WARNING", description="What the log shows: WARNING shows problems only (a terminal "
        "also gets one progress line per channel or target); Scrapy's start-up report and stats "
        "dump show at DEBUG only.")


class TelegramPreviewConfig(Section):
    base_url: str = Field(
        "https://t.me", description="Where the public preview lives; tests point it elsewhere."
    )
    channels: list[str] = Field(
        default_factory=list, description="Seed channel usernames, added to the watchlist."
    )
    first_visit_max_pages: int = Field(
        10, ge=1, le=100000,
        description="Pages (20 posts each) to read back on a channel's first visit."
    )
    first_visit_since: date | None = Field(
        None, description="On a first visit, stop paging back at posts older than this date."
    )
    max_pages: int = Field(
        200, ge=1, le=100000,
        description="Hard cap of pages per channel per crawl, even when incremental."
    )

    @field_validator("channels")
    @classmethod
    def _usernames(cls, channels: list[str]) -> list[str]:
        usernames = []
        for number, raw in enumerate(channels):
            try:
                usernames.append(parse_username(raw))
            except UsernameError as exc:
                raise ValueError(f"[{number}]: {exc}") from None
        return usernames

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not re.match(r"^https?://[^/\s]+", url):
            raise ValueError("expected an http:// or https:// URL")
        return url.rstrip("/")


class SiteTarget(Section):
    """One marketplace, forum or classifieds site: a configuration of the `site` spider.

    Selectors are CSS (parsel syntax, ``::text`` and ``::attr(x)`` allowed) unless they start
    with ``xpath:``.
    """

    start_urls: list[str] = Field(min_length=1)
    allowed_domains: list[str] = Field(default_factory=list)
    follow: list[str] = Field(
        default_factory=list, description="Selectors of links to follow (categories, threads)."
    )
    next_page: str | None = Field(None, description="Selector of the 'next page' link.")
    post_url_pattern: str | None = Field(
        None, description="Regex: only pages whose URL matches are parsed for posts."
    )
    item: str | None = Field(
        None, description="Selector of each post/listing on a page; unset = the page is one post."
    )
    text: str = Field("xpath://body", description="Selector of the post's text, within an item.")
    title: str | None = None
    author: str | None = None
    date: str | None = None
    price: str | None = None
    item_id: str | None = Field(
        None, description="Selector of a stable id within an item; default: URL (+ position)."
    )
    max_depth: int = Field(3, ge=0, le=100)
    max_pages: int = Field(500, ge=1, le=10_000_000)
    proxy: str | None = Field(
        None, description="http://HOST:PORT (Privoxy/Tor) or socks5h://HOST:PORT for this target."
    )
    obey_robots: bool | None = Field(None, description="Overrides crawl.obey_robots.")
    download_delay: float | None = Field(None, ge=0, le=3600)
    schedule: str = Field("6h", description="How often the daemon crawls it: 30m, 6h, 1d, or "
                          "cron: MIN HOUR DAY MONTH WEEKDAY (UTC).")

    @field_validator("proxy")
    @classmethod
    def _proxy_scheme(cls, proxy: str | None) -> str | None:
        if proxy is not None and not re.match(r"^(https?|socks5h?)://[^/\s]+:\d+/?$", proxy):
            raise ValueError("expected http://HOST:PORT or socks5h://HOST:PORT")
        return proxy

    @field_validator("follow", "next_page", "item", "text", "title", "author", "date", "price",
                     "item_id")
    @classmethod
    def _valid_selectors(cls, value: str | list[str] | None) -> str | list[str] | None:
        for selector in [value] if isinstance(value, str) else value or []:
            check_selector(selector)
        return value

    @field_validator("post_url_pattern")
    @classmethod
    def _valid_regex(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return pattern

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        return check_schedule(value)


class QueueConfig(Section):
    reopen_margin: float = Field(
        0.25, ge=0, le=1,
        description="A dismissed candidate reopens only when new evidence scores this much "
        "higher than the score it was dismissed at.")
    entity_min_sources: int = Field(
        2, ge=2, le=1000,
        description="A bot, wallet or other indicator seen in flagged posts of this "
        "many sources becomes a candidate of its own (one shop behind many channels).")
    spot_check_rate: int = Field(
        500, ge=0, le=1_000_000,
        description="One in this many posts the detector did not flag is sampled into the "
        "spot-check queue, so analysts measure what detection misses (recall) in production; "
        "0 turns sampling off.")


class DiscoveryConfig(Section):
    enabled: bool = Field(True, description="Add channels and bots named in scored posts to "
                          "the watchlist.")
    min_score: float = Field(
        0.3, ge=0, le=1, description="Only posts scoring at least this feed discovery.")
    max_depth: int = Field(
        2, ge=0, le=100, description="How far from the seeds discovery may go (a seed is depth 0).")
    max_new_per_run: int = Field(
        200, ge=0, le=1_000_000, description="At most this many new watchlist entries per crawl.")


class KyranConfig(Section):
    store: StoreConfig = Field(default_factory=StoreConfig)
    detection: DetectionConfig = Field(default_factory=DetectionConfig)
    queue: QueueConfig = Field(default_factory=QueueConfig)
    discovery: DiscoveryConfig = Field(default_factory=DiscoveryConfig)
    crawl: CrawlConfig = Field(default_factory=CrawlConfig)
    telegram_preview: TelegramPreviewConfig = Field(default_factory=TelegramPreviewConfig)
    sites: dict[str, SiteTarget] = Field(default_factory=dict)
    telegram: TelegramConfig = Field(default_factory=TelegramConfig)
    daemon: DaemonConfig = Field(default_factory=DaemonConfig)
    liveness: LivenessConfig = Field(default_factory=LivenessConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    review: ReviewConfig = Field(default_factory=ReviewConfig)
    evidence: EvidenceConfig = Field(default_factory=EvidenceConfig)
    home: Path = Field(
        Path("."), description="Directory relative paths are resolved against (set on load)."
    )

    def resolve(self, path: Path) -> Path:
        return path if path.is_absolute() else (self.home / path)

    @property
    def database_url(self) -> str:
        """The store URL with a relative SQLite path made absolute against `home`."""
        url = self.store.url
        match = re.match(r"^(sqlite(\+\w+)?:///)(?!/)(.+)$", url)
        if match and match.group(3) != ":memory:":
            return match.group(1) + str(self.resolve(Path(match.group(3))).absolute())
        return url

    @property
    def captures_path(self) -> Path:
        return self.resolve(self.store.captures_dir).absolute()


def check_selector(selector: str) -> None:
    """Raise ValueError unless `selector` is a valid CSS selector (parsel's ``::text`` and
    ``::attr(x)`` allowed) or, after ``xpath:``, a valid XPath expression."""
    from parsel import Selector

    probe = Selector(text="<html><body><p>x</p></body></html>")
    try:
        if selector.startswith("xpath:"):
            probe.xpath(selector[len("xpath:"):])
        else:
            probe.css(selector)
    except Exception as exc:  # cssselect and lxml raise their own error classes
        kind = "XPath" if selector.startswith("xpath:") else "CSS selector"
        raise ValueError(f"not a valid {kind}: {selector!r} ({exc})") from None


def _env_value(raw: str) -> Any:
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _apply_env(data: dict[str, Any], environ: dict[str, str]) -> dict[str, str]:
    """Merge KYRAN_A__B=value into data; returns dotted key -> variable name for messages."""
    origins: dict[str, str] = {}
    for name, raw in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        path = [part.lower() for part in name[len(ENV_PREFIX) :].split("__")]
        node = data
        for depth, part in enumerate(path[:-1], 1):
            if part not in node:  # a table the variable made: its errors are the variable's
                origins.setdefault(".".join(path[:depth]), name)
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"environment {name}: {'.'.join(path)}: {part} is not a table")
            node = child
        node[path[-1]] = _env_value(raw)
        origins[".".join(path)] = name
    return origins


def _describe(error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key (check the spelling against kyran.example.toml)"
    if kind == "missing":
        return "required key is missing"
    message = error["msg"]
    message = message.removeprefix("Value error, ")
    got = error.get("input")
    if not isinstance(got, (dict, list)):
        message += f" (got {_without_secrets(repr(got))})"
    return message[0].lower() + message[1:]


def _without_secrets(text: str) -> str:
    """A value as it may be shown: passwords in URLs (user:secret@host) masked."""
    return re.sub(r"(//[^/:@\s]*:)[^@\s]*@", r"\1***@", text)


def _format_error(exc: ValidationError, where: str, origins: dict[str, str]) -> str:
    first = exc.errors()[0]
    key = ".".join(str(part) for part in first["loc"])
    for dotted, variable in sorted(origins.items()):  # the longest (most precise) match wins
        if key == dotted or key.startswith(dotted + "."):
            where = f"environment {variable}"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {key}: {_describe(first)}{more}"


def find_config_file(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The file to read: the explicit path, $KYRAN_CONFIG, or ./kyran.toml when present."""
    if explicit:
        return Path(explicit)
    if os.environ.get("KYRAN_CONFIG"):
        return Path(os.environ["KYRAN_CONFIG"])
    default = Path(DEFAULT_FILE)
    return default if default.exists() else None


def load_config(
    path: str | os.PathLike[str] | None = None, environ: dict[str, str] | None = None
) -> KyranConfig:
    """Read, merge and validate the configuration; raise ConfigError with one clear line."""
    environ = dict(os.environ if environ is None else environ)
    file = find_config_file(path)
    data: dict[str, Any] = {}
    where = "defaults"
    if file is not None:
        where = str(file)
        try:
            with open(file, "rb") as handle:
                data = tomllib.load(handle)
        except FileNotFoundError:
            raise ConfigError(f"{file}: no such file (copy kyran.example.toml to start)") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: not valid TOML: {exc}") from None
        if "home" in data:
            raise ConfigError(f"{file}: home: unknown key (it is the config file's directory)")
    origins = _apply_env(data, environ)
    home = (file.parent if file is not None else Path(".")).absolute()
    data["home"] = home
    detection = data.setdefault("detection", {})
    if isinstance(detection, dict):  # its paths are checked on validation: resolve them first
        detection.setdefault("current_model", str(CURRENT_MODEL))
        for key in ("lexicon_dir", "model_path", "current_model"):
            if isinstance(detection.get(key), str) and not Path(detection[key]).is_absolute():
                detection[key] = str(home / detection[key])
    try:
        return KyranConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_error(exc, where, origins)) from None
