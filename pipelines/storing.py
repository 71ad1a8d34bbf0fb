"""Chain step *store*: channels, posts and captures into the store, crawl checkpoints advanced.

A batch of posts is written with one lookup per source (`crawler.store.ingest.upsert_posts`); the
capture behind a page is indexed once for all its posts. A post that carries another channel id
than its source's stored one is never written into that source: it is quarantined, and counted in
`refused` so the chain keeps that channel's crawl cursor where it was.
"""

from __future__ import annotations

from collections import Counter

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
        # Posts refused since the chain last looked, per (platform, source key).
        self.refused: Counter[tuple[str, str]] = Counter()

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
            entries = self._same_channel(session, source, entries)
            if not entries:
                continue
            for (item, _), (post, change) in zip(entries, upsert_posts(session, source, entries),
                                                  strict=True):
                works.append(PostWork(post=post, source=source, item=item, change=change))
        return works

    def _same_channel(self, session: Session, source: Source, entries: list) -> list:
        """The entries whose claimed channel id agrees with the source's stored one; the others
        are quarantined (one event for them all) instead of rewriting the source's posts."""
        stored = source.external_id if source.platform == "telegram" else None
        if stored is None:
            return entries
        foreign = [item for item, _ in entries
                   if item.source_numeric_id is not None and str(item.source_numeric_id) != stored]
        if not foreign:
            return entries
        first = foreign[0]
        self.refused[(first.platform, first.source_key)] += len(foreign)
        claimed = sorted({item.source_numeric_id for item in foreign})
        quarantine_page(session, IdentityConflict(
            requested=first.source_key, url=first.url, claimed_ids=claimed,
            claimed_names=[first.source_key], capture=first.capture, platform=first.platform,
            reason=f"{len(foreign)} posts carry channel id {claimed[0]}, but {source.handle} "
                   f"is stored as channel {stored}"), self.actor, source)
        refused = {id(item) for item in foreign}
        return [(item, capture) for item, capture in entries if id(item) not in refused]

    @staticmethod
    def checkpoint(session: Session, item: CrawlCheckpoint) -> None:
        source = find_source(session, item.platform, item.source_key)
        if source is not None:
            source.crawl_cursor = item.cursor if item.reset else max(item.cursor,
                                                                     source.crawl_cursor or 0)
