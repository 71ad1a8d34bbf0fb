"""Items that the spiders (and later the Telegram monitor) hand to the processing chain.

They are plain dataclasses, which Scrapy accepts as items: typed, cheap to build, and free of any
Scrapy or store dependency so the parser and the pipelines can be tested on their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(slots=True)
class CaptureRef:
    """Where the raw bytes behind an item are kept: one WARC record (or one MTProto JSON record)."""

    kind: str  # "warc" or "mtproto-json"
    path: str  # relative to the capture directory
    offset: int
    length: int
    sha256: str  # of the stored record bytes, as written
    url: str
    fetched_at: datetime
    status: int | None = None
    tool_version: str = ""


@dataclass(slots=True)
class ChannelItem:
    """A Telegram channel as its public preview (or MTProto) shows it."""

    username: str  # the name that was requested / is current
    platform: str = "telegram"
    numeric_id: int | None = None  # positive channel id; survives renames
    title: str | None = None
    description: str | None = None
    subscribers: int | None = None
    verified: bool = False
    photo_url: str | None = None
    # active | no_preview (redirect to t.me/NAME) | empty (no posts: private or deleted) | gone
    # | unknown (the page was not a channel page at all: junk or an error page)
    status: str = "active"
    capture: CaptureRef | None = None


@dataclass(slots=True)
class PostItem:
    """One captured unit: a Telegram message, or a listing/post on a web site."""

    source_key: str  # channel username, or site target name
    external_id: str  # message id, or a stable id for a web page/listing
    url: str
    platform: str = "telegram"
    source_numeric_id: int | None = None
    posted_at: datetime | None = None
    edited: bool = False
    text: str = ""
    views: int | None = None
    forwarded_from: str | None = None  # channel username or display name
    forwarded_from_url: str | None = None  # t.me/NAME/ID of the original post when shown
    reply_to: str | None = None  # external id of the post replied to
    media_kind: str | None = None  # photo | video | document | voice | poll | sticker | …
    media_url: str | None = None
    links: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    title: str | None = None
    author: str | None = None
    price: str | None = None
    capture: CaptureRef | None = None


@dataclass(slots=True)
class CrawlCheckpoint:
    """Emitted after the last page of a channel has been read: every post from `cursor` back to
    where this visit stopped is stored, so the next visit may stop at `cursor`."""

    source_key: str
    cursor: int
    platform: str = "telegram"
    reset: bool = False  # replace the stored cursor (found absurd), instead of only raising it


@dataclass(slots=True)
class IdentityConflict:
    """A page whose evidence contradicts the channel it was fetched for (a header or a post
    claiming another name, posts carrying different channel ids): nothing of it is applied; it is
    kept for a person to look at, with the capture that shows it."""

    requested: str  # the username that was requested (/s/NAME)
    reason: str  # one line: what contradicts what
    url: str
    claimed_names: list[str] = field(default_factory=list)  # header and posts' data-post names
    claimed_ids: list[int] = field(default_factory=list)  # posts' data-view channel ids
    platform: str = "telegram"
    capture: CaptureRef | None = None


@dataclass(slots=True)
class PostBatch:
    """The posts of one page, handed to the pipelines as one item: Scrapy spends more CPU per
    item than the parser spends per post, so twenty items a page would cost more than the page."""

    posts: list[PostItem]
