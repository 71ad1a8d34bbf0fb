"""Typed configuration of the analysts' review app (`[review]` in kyran.toml): where it listens,
its signing key, claims, the policies decisions apply and the reasons a dismissal gives, and the
lock-out of repeated failed logins."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, field_validator

from crawler.config_base import IDENTIFIER, Section

DEFAULT_POLICIES = {
    "drug-sale": "Sale or advertising of narcotic drugs or psychotropic substances",
    "minor-recruitment": "Recruitment of minors into drug distribution (couriers, stash-makers)",
    "courier-recruitment": "Recruitment of couriers or stash-makers for drug distribution",
    "drug-propaganda": "Propaganda of drug use",
}
DEFAULT_REASONS = {
    "news-or-prevention": "News, research or prevention material",
    "legitimate-job": "A legitimate job offer",
    "legitimate-goods": "Legitimate goods or services",
    "not-enough-evidence": "Not enough evidence",
    "duplicate": "Duplicate of another candidate",
    "gone": "The subject is already gone",
}


class ReviewConfig(Section):
    listen: str = Field("127.0.0.1:8080", description="HOST:PORT `kyran serve` listens on.")
    secret_key_file: Path = Field(
        Path("var/review-secret.key"), description="Key that signs session cookies and CSRF "
        "tokens (mode 0600; made on first start when missing).")
    secure_cookies: bool = Field(
        False, description="Mark cookies Secure: set true behind HTTPS (a reverse proxy).")
    session_hours: int = Field(
        12, ge=1, le=24 * 30, description="Hours a login lasts without activity.")
    claim_minutes: int = Field(
        10, ge=1, le=24 * 60, description="A candidate taken and left alone this long returns "
        "to the queue.")
    login_attempts: int = Field(
        5, ge=1, le=100, description="Failed logins in a row before the account is locked …")
    lockout_minutes: int = Field(15, ge=1, le=24 * 60, description="… for this long.")
    policies: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_POLICIES),
        description="The policies a confirmation applies: id = description.")
    dismiss_reasons: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_REASONS),
        description="The reasons a dismissal gives (they feed detection's training data).")
    page_size: int = Field(50, ge=5, le=500, description="Candidates per queue page.")

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        if not re.fullmatch(r"(\[[0-9a-fA-F:]+\]|[^\s:]+):\d{1,5}", value):
            raise ValueError("expected HOST:PORT, e.g. 127.0.0.1:8080")
        return value

    @field_validator("policies", "dismiss_reasons")
    @classmethod
    def _ids(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError("at least one entry is needed")
        for key in value:
            if not IDENTIFIER.fullmatch(key):
                raise ValueError(f"{key!r}: ids are lower-case letters, digits, - and _")
        return value
