"""Typed configuration of the Telegram monitor (`[telegram]` in kyran.toml): the API
credentials, the accounts and how each connects, and the limits that keep an account clear of
Telegram's flood waits."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, field_validator, model_validator

from crawler.config_base import Section, parse_interval

# Telegram lets one account join at most 500 channels; the cap stays below it.
TELEGRAM_JOIN_LIMIT = 500


class TelegramProxy(Section):
    """How one account reaches Telegram: a SOCKS5/HTTP proxy, or an MTProto proxy."""

    url: str | None = Field(
        None, description="socks5://[USER:PASS@]HOST:PORT or http://HOST:PORT.")
    mtproxy: str | None = Field(
        None, description="An MTProto proxy as HOST:PORT:SECRET (the secret in hex).")

    @field_validator("url")
    @classmethod
    def _proxy_url(cls, url: str | None) -> str | None:
        if url is not None and not re.match(r"^(socks5h?|socks4|https?)://([^@/\s]+@)?[^/\s:]+:\d+/?$",
                                            url):
            raise ValueError("expected socks5://HOST:PORT or http://HOST:PORT")
        return url

    @field_validator("mtproxy")
    @classmethod
    def _mtproxy(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[^\s:]+:\d{1,5}:[0-9a-fA-F]{32,}", value):
            raise ValueError("expected HOST:PORT:SECRET with the secret in hex")
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> TelegramProxy:
        if self.url and self.mtproxy:
            raise ValueError("set url or mtproxy, not both")
        return self


class TelegramAccount(Section):
    """One Telegram account the monitor reads with (signed in by `kyran telegram login`)."""

    session_file: Path | None = Field(
        None, description="StringSession file (mode 0600). Default: "
        "var/telegram/NAME.session beside the config.")
    phone: str | None = Field(None, description="Phone number, asked for at login when unset.")
    enabled: bool = Field(True, description="A disabled account is neither connected nor "
                          "given channels.")
    proxy: TelegramProxy = Field(default_factory=TelegramProxy)


class TelegramServer(Section):
    """Another MTProto server than Telegram's production one (its test servers, or a compatible
    server)."""

    dc_id: int = Field(ge=1, le=1000)
    address: str = Field(min_length=1)
    port: int = Field(443, ge=1, le=65535)
    rsa_key_file: Path | None = Field(
        None, description="PEM file of the server's RSA public key (unset: Telethon's own keys).")


class TelegramConfig(Section):
    api_id: int | None = Field(None, ge=1, le=2**31 - 1, description="From my.telegram.org.")
    api_hash: str | None = Field(
        None, description="From my.telegram.org; better set by KYRAN_TELEGRAM__API_HASH.")
    accounts: dict[str, TelegramAccount] = Field(default_factory=dict)
    join: bool = Field(
        False, description="Join watched public channels to get their posts live (needs no "
        "invitation); channels not joined are polled.")
    max_joined_per_account: int = Field(
        200, ge=0, le=TELEGRAM_JOIN_LIMIT - 20,
        description="Channels one account joins at most (Telegram's limit is 500).")
    poll_interval: str = Field(
        "15m", description="How often each channel that is not joined is polled.")
    history_per_minute: float = Field(
        10, gt=0, le=600, description="History requests one account makes per minute at most "
        "(token bucket; Telethon's docs estimate about 20 per minute before flood waits).")
    resolve_per_hour: float = Field(
        20, gt=0, le=3600, description="Usernames one account resolves per hour at most (only "
        "channels never seen are resolved; fast resolving earns day-long flood waits).")
    flood_wait_jitter: float = Field(
        5, ge=0, le=3600, description="Seconds added at random to every flood wait.")
    metadata_refresh: str = Field(
        "12h", description="How often title, about, subscribers and pinned post are refreshed.")
    backfill_max_messages: int = Field(
        2000, ge=1, le=1_000_000,
        description="Messages read back per channel after a gap or on a first visit at most.")
    server: TelegramServer | None = Field(None, description="Another MTProto server.")

    @field_validator("poll_interval", "metadata_refresh")
    @classmethod
    def _interval(cls, value: str) -> str:
        parse_interval(value)
        return value

    @field_validator("accounts")
    @classmethod
    def _account_names(cls, accounts: dict[str, TelegramAccount]) -> dict[str, TelegramAccount]:
        for name in accounts:
            if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
                raise ValueError(f"account name {name!r}: letters, digits, _ and - only")
        return accounts

    def session_path(self, home: Path, name: str) -> Path:
        """Where account `name` keeps its session."""
        account = self.accounts.get(name)
        path = account.session_file if account and account.session_file else Path(
            "var/telegram") / f"{name}.session"
        return path if path.is_absolute() else home / path
