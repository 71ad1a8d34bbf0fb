"""Typed configuration of the daemon (`kyran run`): its schedules and limits (`[daemon]`), the
health endpoint, liveness checks (`[liveness]`), retention (`[retention]`) and the alerts pushed
for new high-priority candidates (`[alerts]`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from crawler.config_base import Section, check_schedule, parse_interval


class DaemonJob(Section):
    """A job of your own beside the built-in ones: a `kyran` command run in its own process, or
    an async callable `(config, store, services) -> dict` run in the daemon."""

    schedule: str = Field(description="30m, 6h, 1d, or cron: MIN HOUR DAY MONTH WEEKDAY (UTC).")
    command: list[str] | None = Field(
        None, description='Arguments of `kyran`, e.g. ["crawl", "telegram", "somechannel"].')
    call: str | None = Field(
        None, description="module:function of an async callable (config, store, services).")
    time_limit: str | None = Field(None, description="Overrides daemon.crawl_time_limit.")

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        return check_schedule(value)

    @field_validator("time_limit")
    @classmethod
    def _interval(cls, value: str | None) -> str | None:
        if value is not None:
            parse_interval(value)
        return value

    @field_validator("call")
    @classmethod
    def _dotted(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[\w.]+:\w+", value):
            raise ValueError("expected module:function, e.g. mypackage.jobs:check")
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> DaemonJob:
        if (self.command is None) == (self.call is None):
            raise ValueError("set exactly one of command and call")
        return self


class DaemonConfig(Section):
    preview_schedule: str = Field(
        "1h", description="When the watchlist's previews (t.me/s) are crawled: 30m, 6h, 1d, or "
        "cron: MIN HOUR DAY MONTH WEEKDAY (UTC).")
    jitter: int = Field(
        120, ge=0, le=86400, description="Seconds added at random to each scheduled start.")
    crawl_time_limit: str = Field(
        "2h", description="A crawl still running after this is killed and reported.")
    misfire_grace: int = Field(
        3600, ge=1, le=7 * 86400, description="Seconds late a run may start (after a restart or "
        "a clock jump) before it is skipped to the next one; runs missed meanwhile are "
        "coalesced into one.")
    shutdown_grace: int = Field(
        30, ge=1, le=3600, description="On SIGTERM, seconds running steps get to finish.")
    retry_base: int = Field(
        60, ge=1, le=86400, description="A failed job is retried after this many seconds, "
        "doubling each time it fails again …")
    retry_max: str = Field("6h", description="… up to this.")
    health_listen: str | None = Field(
        "127.0.0.1:9464", description="HOST:PORT of /healthz and /metrics (\"\": none).")
    log_format: Literal["text", "json"] = Field(
        "text", description="text, or json: one JSON object per line.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO")
    kill_grace: int = Field(
        10, ge=1, le=600, description="Seconds a job's process gets after SIGTERM (at its time "
        "limit or on shutdown) before SIGKILL.")
    disable: list[str] = Field(
        default_factory=list, description="Ids of built-in jobs not to run (see `kyran jobs`), "
        'e.g. ["crawl:telegram-preview"] when the MTProto monitor covers the watchlist.')
    jobs: dict[str, DaemonJob] = Field(
        default_factory=dict, description="[daemon.jobs.NAME]: jobs of your own (job id NAME).")
    services: dict[str, str] = Field(
        default_factory=dict, description="Long-lived services of your own: NAME = "
        '"module:factory", factory(config, store) returning an object with async run(stop).')

    @field_validator("preview_schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        return check_schedule(value)

    @field_validator("crawl_time_limit", "retry_max")
    @classmethod
    def _interval(cls, value: str) -> str:
        parse_interval(value)
        return value

    @field_validator("health_listen")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            return None  # "" switches the endpoint off (TOML has no null)
        if value is not None and not re.fullmatch(r"(\[[0-9a-fA-F:]+\]|[^\s:]+):\d{1,5}", value):
            raise ValueError("expected HOST:PORT, e.g. 127.0.0.1:9464")
        return value


class LivenessConfig(Section):
    schedule: str = Field(
        "6h", description="When reported and confirmed subjects are checked for being gone.")
    timeout: int = Field(30, ge=1, le=600, description="Seconds one check may take.")

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        return check_schedule(value)


class RetentionConfig(Section):
    schedule: str = Field("1d", description="When retention runs.")
    unscored_captures_after: str = Field(
        "90d", description="Raw captures of posts that never scored (no category, no candidate) "
        "are dropped after this. Evidence and anything under review is never dropped.")

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        return check_schedule(value)

    @field_validator("unscored_captures_after")
    @classmethod
    def _interval(cls, value: str) -> str:
        parse_interval(value)
        return value


class SmtpAlerts(Section):
    host: str = Field(min_length=1)
    port: int = Field(587, ge=1, le=65535)
    starttls: bool = Field(True, description="Upgrade the connection with STARTTLS.")
    ssl: bool = Field(False, description="Connect with TLS from the start (port 465).")
    username: str | None = None
    password_file: Path | None = Field(None, description="File (mode 0600) holding the password.")
    sender: str = Field(min_length=3, description="From: address.")
    recipients: list[str] = Field(min_length=1, description="To: addresses.")


class TelegramBotAlerts(Section):
    token_file: Path = Field(description="File (mode 0600) holding the Bot API token.")
    chat_id: int = Field(description="The private chat or group the bot writes to.")
    api_url: str = Field("https://api.telegram.org", description="Bot API server.")


class AlertsConfig(Section):
    min_priority: int = Field(
        80, ge=0, le=100, description="A new candidate at or above this priority is pushed.")
    max_per_hour: int = Field(
        20, ge=1, le=10000, description="Alerts per channel per hour at most; more are summed "
        "up in the next one.")
    check_interval: int = Field(
        15, ge=1, le=3600, description="Seconds between looks for new candidates.")
    webhook_url: str | None = Field(None, description="POSTed a JSON document per alert.")
    smtp: SmtpAlerts | None = None
    telegram_bot: TelegramBotAlerts | None = None
    review_url: str | None = Field(
        None, description="Base URL of the review app, for links in alerts.")

    @field_validator("webhook_url", "review_url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if url is not None and not re.match(r"^https?://[^/\s]+", url):
            raise ValueError("expected an http:// or https:// URL")
        return url
