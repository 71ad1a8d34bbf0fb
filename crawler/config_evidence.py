"""Typed configuration of evidence packages and exchange (`[evidence]` in kyran.toml): who the
organisation is (named in every package and request), the legal basis its letters cite, the
signing key and the partners' trusted keys, the request templates, an optional RFC 3161
timestamp authority, screenshots, and when a subject still up is listed for re-reporting."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, field_validator

from crawler.config_base import IDENTIFIER, Section

RECIPIENTS = ("telegram", "regulator", "generic")
LANGUAGES = ("ru", "kk", "en")


class EvidenceConfig(Section):
    organisation: str = Field(
        "Kyran user", min_length=1, max_length=128,
        description="The organisation named as the notifier in packages and requests.")
    organisation_id: str = Field(
        "local", description="Short id of this organisation in exchanges (a partner trusts its "
        "key under this id): lower-case letters, digits, - and _.")
    contact_email: str = Field(
        "", max_length=256, description="Contact address for the notifier fields of a request.")
    contact_name: str = Field(
        "", max_length=128, description="Contact person or role (may be a function, e.g. "
        "'duty analyst'); analysts' names are never put in exported material.")
    legal_basis: str = Field(
        "", max_length=4000, description="The legal basis the regulator letter cites (articles "
        "of the law the organisation relies on).")
    signing_key_file: Path = Field(
        Path("var/keys/signing.key"), description="Ed25519 private key that signs packages "
        "(`kyran keys generate`; mode 0600).")
    trusted_keys_dir: Path = Field(
        Path("var/keys/trusted"), description="Partners' public keys, one per organisation id "
        "(`kyran keys trust ORG KEYFILE`).")
    out_dir: Path = Field(Path("var/packages"), description="Where `kyran export` writes packages.")
    templates_dir: Path | None = Field(
        None, description="Directory of the organisation's own request templates; a template "
        "missing there falls back to the bundled one.")
    languages: list[str] = Field(
        default_factory=lambda: ["ru", "kk", "en"],
        description="Languages the request texts are rendered in (ru, kk, en).")
    timestamp_url: str = Field(
        "", description="RFC 3161 timestamp authority URL; empty: packages carry no timestamp.")
    timestamp_chain_file: Path | None = Field(
        None, description="PEM file with the timestamp authority's certificate chain, stored "
        "in each package so the timestamp can be verified offline.")
    screenshots: bool = Field(
        True, description="Render screenshots and report.pdf of stored captures with headless "
        "Chromium when it is installed (never a live fetch).")
    chromium: Path = Field(Path("/usr/bin/chromium"), description="The Chromium executable.")
    rereport_after_days: int = Field(
        7, ge=1, le=3650, description="A reported subject still up after this many days is "
        "listed for re-reporting.")
    max_upload_mb: int = Field(
        1024, ge=1, le=65536, description="The largest package a partner may push to "
        "`POST /api/packages` of the review app, in MiB.")
    max_batch: int = Field(
        10_000, ge=1, le=1_000_000, description="At most this many candidates in one package.")

    @field_validator("organisation_id")
    @classmethod
    def _org_id(cls, value: str) -> str:
        if not IDENTIFIER.fullmatch(value):
            raise ValueError("expected lower-case letters, digits, - and _ (e.g. 'volunteers')")
        return value

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in LANGUAGES]
        if unknown or not value:
            raise ValueError(f"languages must be some of {', '.join(LANGUAGES)}")
        return value

    @field_validator("timestamp_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if value and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("expected an http(s) URL of a timestamp authority, or empty")
        return value
