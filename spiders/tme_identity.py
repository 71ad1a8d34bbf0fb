"""Whose page is this? A t.me/s page belongs to the channel that was requested, and only when the
page agrees: its header's username, every post's ``data-post`` name and every post's
``data-view`` channel id must tell one story (and the id must be the one the channel's earlier
pages of this visit showed). No single field a page author controls decides whose evidence the
page is; a page that contradicts itself or the request is a conflict, kept for a person to look
at and never applied.

A consistent page whose channel id the store knows under another name is a rename only if that
name no longer shows the channel (``still_shows``): the spider asks the former name's page first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from crawler.store.db import open_store
from crawler.store.models import Source
from crawler.usernames import is_username
from spiders.tme_parser import PreviewPage


@dataclass(slots=True)
class PageEvidence:
    """What a page claims about whose it is, and the contradiction found (None: consistent)."""

    names: list[str] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)
    conflict: str | None = None

    @property
    def channel_id(self) -> int | None:
        return self.ids[0] if len(self.ids) == 1 else None


def _shown(value: str) -> str:
    return ascii(value[:64])


def check_page(page: PreviewPage, requested: str, known_id: int | None = None) -> PageEvidence:
    """The page's identity evidence against the requested name (and the channel id its earlier
    pages showed, if any)."""
    requested = requested.lower()
    header = (page.claimed_username or page.username or requested).lower()
    post_names = [post.source_key.lower() for post in page.posts]
    names = list(dict.fromkeys([header, *post_names]))
    ids = list(dict.fromkeys(post.source_numeric_id for post in page.posts
                             if post.source_numeric_id is not None))
    evidence = PageEvidence(names=names, ids=ids)
    if header != requested:
        evidence.conflict = f"its header names {_shown(header)}, not {requested}"
    elif others := [name for name in post_names if name != requested]:
        evidence.conflict = (f"{len(others)} of its {len(post_names)} posts name "
                             f"{_shown(others[0])}, not {requested}")
    elif len(ids) > 1:
        evidence.conflict = f"its posts carry {len(ids)} different channel ids"
    elif known_id is not None and ids and ids[0] != known_id:
        evidence.conflict = (f"its posts carry channel id {ids[0]}, where this visit's first "
                             f"page showed {known_id}")
    return evidence


def stored_names_by_id(database_url: str, limits: dict | None = None) -> dict[int, str]:
    """The current username of every stored Telegram channel with a known numeric id (only
    names that pass the username check: they become part of a URL)."""
    store = open_store(database_url, limits=limits)
    try:
        with store.reader() as session:
            rows = session.execute(select(Source.external_id, Source.handle).where(
                Source.platform == "telegram", Source.external_id.is_not(None),
                Source.handle.is_not(None))).all()
    finally:
        store.dispose()
    return {int(key): handle for key, handle in rows if key.isdigit() and is_username(handle)}


def still_shows(page: PreviewPage, former: str, channel_id: int) -> bool:
    """Does the former name's own page still show the channel (consistently, under that name)?
    Then a page elsewhere claiming its id is not a rename but a forgery."""
    evidence = check_page(page, former)
    return evidence.conflict is None and evidence.channel_id == channel_id
