"""Models of what keeps Kyran running: Telegram accounts and the channels each can reach
(numeric id + access hash, so a restart never re-resolves a username), the daemon's job runs,
liveness of reported subjects, alerts sent, and evidence packages exported or imported."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crawler.store.models import Base, utcnow


class TelegramAccountState(Base):
    """One monitor account's health: active, paused (flood wait) or stopped (session revoked)."""

    __tablename__ = "telegram_account"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default="active")  # active|paused|stopped
    paused_until: Mapped[datetime | None]
    stop_reason: Mapped[str | None] = mapped_column(Text)
    last_success: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
    flood_waits: Mapped[int] = mapped_column(Integer, default=0)
    flood_wait_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class TelegramPeer(Base):
    """How one account reaches one channel: access hashes are per account. The channel's
    numeric id is its source's external_id."""

    __tablename__ = "telegram_peer"
    __table_args__ = (Index("ix_telegram_peer_due", "account", "last_polled"),)

    source_id: Mapped[int] = mapped_column(
        ForeignKey("source.id", ondelete="CASCADE"), primary_key=True)
    account: Mapped[str] = mapped_column(
        ForeignKey("telegram_account.name", ondelete="CASCADE"), primary_key=True)
    access_hash: Mapped[int] = mapped_column(BigInteger)
    joined: Mapped[bool] = mapped_column(Boolean, default=False)
    resolved_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_polled: Mapped[datetime | None]


class JobRun(Base):
    """One run of one daemon job: when, how it ended, and why (from the crawl's exit status and
    summary line)."""

    __tablename__ = "job_run"
    __table_args__ = (Index("ix_job_run_job", "job_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    # running | ok | failed | timeout | interrupted
    status: Mapped[str] = mapped_column(String(16), default="running")
    exit_code: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str | None] = mapped_column(Text)
    stored: Mapped[int | None] = mapped_column(Integer)  # posts stored, when the job says
    pid: Mapped[int | None] = mapped_column(Integer)


class SubjectLiveness(Base):
    """Whether a reported or confirmed subject (a channel, a bot, a site) is still up: when it
    was first seen gone and how, and when it came back. Each change is also an event."""

    __tablename__ = "subject_liveness"
    __table_args__ = (UniqueConstraint("subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(16))  # source | entity
    subject_id: Mapped[int] = mapped_column(Integer)
    target: Mapped[str] = mapped_column(Text)  # what is checked: a URL, @bot, a domain
    state: Mapped[str] = mapped_column(String(16), default="unknown")  # up | gone | unknown
    how: Mapped[str | None] = mapped_column(String(32))  # 404 | redirect | banned | deleted | dns
    first_gone_at: Mapped[datetime | None]
    back_at: Mapped[datetime | None]
    last_checked_at: Mapped[datetime | None]
    detail: Mapped[str | None] = mapped_column(Text)
    checks: Mapped[int] = mapped_column(Integer, default=0)


class AlertSent(Base):
    """An alert about a candidate pushed to one channel (webhook, email, telegram): a candidate
    is announced once per channel."""

    __tablename__ = "alert_sent"
    __table_args__ = (UniqueConstraint("candidate_id", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))  # sent | failed | held (over the rate)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=1)


class ApiToken(Base):
    """A revocable token of a machine client, acting as its user (with the user's role). Only
    the SHA-256 of the token is kept."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class EvidencePackage(Base):
    """An evidence package this store exported (direction ``out``, with its recipient profile) or
    imported from a partner (direction ``in``, with the sending organisation)."""

    __tablename__ = "evidence_package"
    __table_args__ = (UniqueConstraint("package_id", "direction"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(8))  # out | in
    recipient: Mapped[str | None] = mapped_column(String(32))  # telegram | regulator | generic
    organisation: Mapped[str | None] = mapped_column(String(128))  # the sender, for imports
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(128))
    file_name: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(BigInteger)
    subjects: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    posts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    key_fingerprint: Mapped[str | None] = mapped_column(String(128))
