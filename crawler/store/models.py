"""SQLAlchemy 2 models of the store: sources, posts and their history, raw captures, indicators
(entities), verdicts, candidates, the append-only event log, and users.

The schema itself is owned by the Alembic migrations in `crawler/store/migrations`; a test checks
that the models and the migrations agree.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError(f"naive datetime {value!r}: the store keeps UTC-aware times")
            value = value.astimezone(timezone.utc)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict: JSON, list: JSON}


class Source(Base):
    """A watched thing: a Telegram channel, group or bot, or a web site target."""

    __tablename__ = "source"
    __table_args__ = (
        UniqueConstraint("platform", "external_id"),
        UniqueConstraint("platform", "handle"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))  # telegram | web
    kind: Mapped[str] = mapped_column(String(16), default="channel")  # channel|group|bot|site
    external_id: Mapped[str | None] = mapped_column(String(128))  # numeric channel id, site name
    handle: Mapped[str | None] = mapped_column(String(255))  # current username (lower case)
    title: Mapped[str | None] = mapped_column(Text)
    about: Mapped[str | None] = mapped_column(Text)
    subscribers: Mapped[int | None] = mapped_column(BigInteger)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    # unknown (never fetched) | active | no_preview | empty (private or deleted) | gone | blocked
    status: Mapped[str] = mapped_column(String(16), default="unknown")
    watched: Mapped[bool] = mapped_column(Boolean, default=True)
    watch_priority: Mapped[int] = mapped_column(Integer, default=50)
    discovered_via: Mapped[str] = mapped_column(String(16), default="seed")  # seed|forward|…
    discovery_depth: Mapped[int] = mapped_column(Integer, default=0)
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime | None]
    last_crawled: Mapped[datetime | None]
    discovered_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("source.id", ondelete="SET NULL"))  # the source whose post named it
    # Newest post id up to which every post (back to the visit's depth) is stored; a crawl that
    # is killed before it finishes a channel leaves it as it was, so the next visit redoes it.
    crawl_cursor: Mapped[int | None] = mapped_column(BigInteger)
    # When Kyran first noticed the source private, deleted, banned or renamed away (reset when
    # it is seen again), and how: private | deleted | banned | username_free | restricted …
    gone_at: Mapped[datetime | None]
    gone_how: Mapped[str | None] = mapped_column(String(32))
    restriction: Mapped[str | None] = mapped_column(Text)  # Telegram's restriction reasons
    linked_chat_id: Mapped[int | None] = mapped_column(BigInteger)  # discussion group
    pinned_message_id: Mapped[int | None] = mapped_column(BigInteger)
    metadata_refreshed_at: Mapped[datetime | None]
    region: Mapped[str | None] = mapped_column(String(64))  # city or region it serves, if known
    watch_reason: Mapped[str | None] = mapped_column(Text)  # why it was added by hand

    posts: Mapped[list[Post]] = relationship(back_populates="source")


class Capture(Base):
    """Raw evidence: one WARC record (file + offset) or one MTProto message as JSON."""

    __tablename__ = "capture"
    __table_args__ = (UniqueConstraint("path", "offset"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # warc | mtproto-json
    path: Mapped[str] = mapped_column(String(512))  # relative to the capture directory
    offset: Mapped[int] = mapped_column(BigInteger)
    length: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(Text)
    status: Mapped[int | None]
    fetched_at: Mapped[datetime]
    tool_version: Mapped[str] = mapped_column(String(64), default="")


class Post(Base):
    """One captured unit: a Telegram message, or a listing or post on a web site."""

    __tablename__ = "post"
    __table_args__ = (
        UniqueConstraint("source_id", "external_id"),
        Index("ix_post_posted_at", "posted_at"),
        Index("ix_post_content_hash", "content_hash"),
        Index("ix_post_cluster_id", "cluster_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(255))
    url: Mapped[str] = mapped_column(Text)
    posted_at: Mapped[datetime | None]
    edited: Mapped[bool] = mapped_column(Boolean, default=False)  # the page shows "edited"
    edited_at: Mapped[datetime | None]  # when Kyran first noticed a change of text
    text: Mapped[str] = mapped_column(Text, default="")
    title: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    price: Mapped[str | None] = mapped_column(String(255))
    views: Mapped[int | None] = mapped_column(BigInteger)
    forwarded_from: Mapped[str | None] = mapped_column(String(255))
    forwarded_from_url: Mapped[str | None] = mapped_column(Text)
    reply_to: Mapped[str | None] = mapped_column(String(255))
    media_kind: Mapped[str | None] = mapped_column(String(32))
    media_url: Mapped[str | None] = mapped_column(Text)
    links: Mapped[list] = mapped_column(default=list)
    mentions: Mapped[list] = mapped_column(default=list)
    content_hash: Mapped[str] = mapped_column(String(64))
    cluster_id: Mapped[int | None] = mapped_column(Integer)
    capture_id: Mapped[int | None] = mapped_column(ForeignKey("capture.id", ondelete="SET NULL"))
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)

    source: Mapped[Source] = relationship(back_populates="posts")
    capture: Mapped[Capture | None] = relationship()
    revisions: Mapped[list[PostRevision]] = relationship(
        back_populates="post", order_by="PostRevision.id"
    )


class PostCapture(Base):
    """Every capture that showed a post, so a post whose newest capture is damaged still reaches
    an older one (and the other way round). `Post.capture_id` is the newest of them."""

    __tablename__ = "post_capture"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("post.id", ondelete="CASCADE"), primary_key=True)
    capture_id: Mapped[int] = mapped_column(
        ForeignKey("capture.id", ondelete="CASCADE"), primary_key=True, index=True)


class PostRevision(Base):
    """An earlier text of an edited post, kept with the capture that showed it."""

    __tablename__ = "post_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    capture_id: Mapped[int | None] = mapped_column(ForeignKey("capture.id", ondelete="SET NULL"))
    seen_until: Mapped[datetime] = mapped_column(default=utcnow)

    post: Mapped[Post] = relationship(back_populates="revisions")


class Entity(Base):
    """An indicator (handle, bot, link, domain, onion, wallet, phone): one row however many
    posts carry it."""

    __tablename__ = "entity"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(512))
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)


class PostEntity(Base):
    __tablename__ = "post_entity"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("post.id", ondelete="CASCADE"), primary_key=True
    )
    entity_id: Mapped[int] = mapped_column(
        ForeignKey("entity.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Verdict(Base):
    """The detection result for a post (or a source): category, score, explained rule hits."""

    __tablename__ = "verdict"
    __table_args__ = (UniqueConstraint("subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(16))  # post | source
    subject_id: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(16))  # sale | recruitment | none
    score: Mapped[float] = mapped_column(Float)
    hits: Mapped[list] = mapped_column(default=list)  # rules fired, with matched words, spans
    indicators: Mapped[list] = mapped_column(default=list)  # with spans, for highlighting
    scores: Mapped[dict] = mapped_column(default=dict)  # per category
    # Where the learned model decided: its strongest features in words, with their weights
    # ([{"feature": "n-gram «клад»", "weight": 0.8}, …]); NULL (scored before 0009) is none.
    contributions: Mapped[list | None] = mapped_column(default=list)
    model_version: Mapped[str] = mapped_column(String(64))
    scored_at: Mapped[datetime] = mapped_column(default=utcnow)


class ClusterHead(Base):
    """The first post of a near-duplicate cluster, with its MinHash signature."""

    __tablename__ = "cluster_head"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("post.id", ondelete="CASCADE"), primary_key=True)
    signature: Mapped[bytes] = mapped_column(LargeBinary)


class ClusterBand(Base):
    """One LSH band of a cluster head: posts sharing a band with a head are compared to it."""

    __tablename__ = "cluster_band"

    # hash first: lookups are by hash (which already mixes in the band number)
    hash: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    band: Mapped[int] = mapped_column(Integer, primary_key=True)
    head_post_id: Mapped[int] = mapped_column(
        ForeignKey("cluster_head.post_id", ondelete="CASCADE"), primary_key=True)


class Candidate(Base):
    """What an analyst reviews. Its subject is a source, a post or an entity."""

    __tablename__ = "candidate"
    __table_args__ = (
        UniqueConstraint("subject_type", "subject_id"),
        Index("ix_candidate_queue", "status", "priority"),
        Index("ix_candidate_status_created", "status", "created_at"),
        Index("ix_candidate_assigned", "assigned_to"),
        Index("ix_candidate_status_decided", "status", "decided_at"),
        Index("ix_candidate_category_score", "category", "score"),
        Index("ix_candidate_status_claimed", "status", "claimed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(16))  # source | post | entity
    subject_id: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(16))
    # open | in_review | confirmed | dismissed | escalated | reported | taken_down
    status: Mapped[str] = mapped_column(String(16), default="open")
    decision: Mapped[str | None] = mapped_column(String(16))  # sale | recruitment when confirmed
    priority: Mapped[int] = mapped_column(Integer, default=0)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    reasons: Mapped[list] = mapped_column(default=list)
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    claimed_at: Mapped[datetime | None]
    # The decision: the policy it applies (from the configured list), a dismissal's reason (from
    # the configured list; feeds training data), who decided and when.
    policy: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(64))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    last_evidence_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Imported from a partner's evidence package: the sending organisation, the package id and
    # the sender's decision (confirmed sale / recruitment); NULL for our own findings.
    origin_org: Mapped[str | None] = mapped_column(String(128))
    origin_package: Mapped[str | None] = mapped_column(String(64))
    origin_decision: Mapped[str | None] = mapped_column(String(16))
    # A low-scoring post sampled into the spot-check queue (recall measured in production).
    sampled: Mapped[bool] = mapped_column(default=False, server_default=false())


class Event(Base):
    """Append-only audit log: who (person or component) did what to which subject, and when."""

    __tablename__ = "event"
    __table_args__ = (Index("ix_event_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(128))  # "user:NAME" or "component:NAME"
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[dict] = mapped_column(default=dict)


class User(Base):
    """An analyst account. Roles: analyst, lead, admin."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="analyst")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # What exported material and other analysts see: may be a pseudonym, never required to be
    # a real name.
    display_name: Mapped[str | None] = mapped_column(String(128))
    locale: Mapped[str] = mapped_column(String(8), default="ru")  # ru | en | kk
    blur_media: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    last_login: Mapped[datetime | None]


# The daemon's and the monitor's tables live beside these, on the same metadata.
from crawler.store import models_ops  # noqa: E402,F401
