"""Chain step *store*: channels, posts and captures into the store, crawl checkpoints advanced.

A batch of posts is written with one lookup per source (`crawler.store.ingest.upsert_posts`); the
capture behind a page is indexed once for all its posts.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from crawler.items import ChannelItem, CrawlCheckpoint, IdentityConflict, PostItem
from crawler.store.ingest import (
    find_source,
    mark_seen,
    quarantine_page,
    record_capture,
    upsert_channel,
    upsert_posts,
    watch,
)
from crawler.store.models import Source
from pipelines.work import PostWork


class StoreStep:
    name = "store"

    def __init__(self, actor: str) -> None:
        self.actor = actor

    def channel(self, session: Session, item: ChannelItem) -> Source:
        record_capture(session, item.capture)
        return upsert_channel(session, item, self.actor)

    def quarantine(self, session: Session, item: IdentityConflict) -> None:
        quarantine_page(session, item, self.actor)

    def source(self, session: Session, item: PostItem) -> Source:
        source = find_source(session, item.platform, item.source_key)
        if source is None:
            source = watch(session, item.platform, item.source_key, actor=self.actor,
                           kind="site" if item.platform == "web" else "channel")
        if item.platform == "web":
            mark_seen(session, source, self.actor)
        return source

    def posts(self, session: Session, items: list[PostItem]) -> list[PostWork]:
        captures: dict = {}
        groups: dict[tuple[str, str], list] = {}
        for item in items:
            ref = item.capture
            key = (ref.path, ref.offset) if ref is not None else None
            if key not in captures:
                captures[key] = record_capture(session, ref)
            groups.setdefault((item.platform, item.source_key), []).append(
                (item, captures[key]))
        works = []
        for entries in groups.values():
            source = self.source(session, entries[0][0])
            for (item, _), (post, change) in zip(entries, upsert_posts(session, source, entries),
                                                  strict=True):
                works.append(PostWork(post=post, source=source, item=item, change=change))
        return works

    @staticmethod
    def checkpoint(session: Session, item: CrawlCheckpoint) -> None:
        source = find_source(session, item.platform, item.source_key)
        if source is not None:
            source.crawl_cursor = max(item.cursor, source.crawl_cursor or 0)
