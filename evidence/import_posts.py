"""The sources, posts, verdicts and indicators of an imported package, written in batches (one
lookup and one multi-row insert per source and kind of row, not a statement per post), inside
the import's transaction. What this store holds already is found, never written twice or
changed: a source by platform and numeric id or handle, a post by source and post id, a verdict
by post, an indicator by kind and value."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.store.ingest import add_event, content_hash, link_captures
from crawler.store.models import Entity, Post, PostEntity, Source, Verdict
from crawler.usernames import is_username
from evidence.import_captures import CaptureImporter
from evidence.import_input import ImportRefused, ItemIn, RowIn

CATEGORIES = ("sale", "recruitment")
CHUNK = 500


def insert_ignoring_known(session: Session, table, rows: list[dict]) -> None:
    """A multi-row INSERT that skips rows whose unique key is already there."""
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(table).on_conflict_do_nothing(), rows[start:start + CHUNK])


def indicators_of(cell: str) -> list[tuple[str, str]]:
    """``kind:value; kind:value`` (posts.jsonl) as pairs."""
    found = []
    for part in cell.split("; "):
        kind, sep, value = part.partition(":")
        if sep and kind.strip() and value.strip():
            found.append((kind.strip()[:32], value.strip()[:512]))
    return found


class PostImporter:
    """Sources, posts and indicators of one import; `counts` gets sources, posts, posts_known
    and indicators."""

    def __init__(self, session: Session, captures: CaptureImporter, counts: dict[str, int],
                 organisation: str, package_id: str, actor: str) -> None:
        self.session, self.captures, self.counts = session, captures, counts
        self.org, self.package_id, self.actor = organisation, package_id, actor
        self._sources: dict[tuple, Source] = {}

    def source(self, platform: str, handle: str | None, numeric_id: int | None,
               title: str | None = None) -> Source:
        handle = (handle or "").strip().lstrip("@").lower()[:255] or None
        key = (platform, handle, numeric_id)
        if key in self._sources:
            return self._sources[key]
        found = None
        if numeric_id is not None:
            found = self.session.scalars(select(Source).where(
                Source.platform == platform, Source.external_id == str(numeric_id))).first()
        if found is None and handle:
            found = self.session.scalars(select(Source).where(
                Source.platform == platform, Source.handle == handle)).first()
        if found is None:
            found = self._new_source(platform, handle, numeric_id, title)
        self._sources[key] = found
        return found

    def _new_source(self, platform, handle, numeric_id, title) -> Source:
        if not handle and numeric_id is None:
            raise ImportRefused(["a subject or post names no channel (no handle, no id)"])
        if platform == "telegram" and handle and not is_username(handle):
            raise ImportRefused([f"channel {ascii(handle[:64])} is not a Telegram username"])
        # A Telegram channel is watched from now on; a site needs a configured target first.
        source = Source(platform=platform, handle=handle, title=title,
                        external_id=str(numeric_id) if numeric_id is not None else None,
                        discovered_via="import", watched=platform == "telegram")
        self.session.add(source)
        self.session.flush()
        add_event(self.session, self.actor, "source.imported", "source", source.id,
                  handle=handle, organisation=self.org, package_id=self.package_id)
        self.counts["sources"] += 1
        return source

    def entities(self, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """(kind, value) -> entity id for each, made when missing."""
        found = self._entity_ids(wanted)
        missing = sorted(wanted - set(found))
        if missing:
            now = datetime.now(timezone.utc)
            self.session.flush()
            insert_ignoring_known(self.session, Entity.__table__, [
                {"kind": k, "value": v, "first_seen": now, "last_seen": now} for k, v in missing])
            self.counts["indicators"] += len(missing)
            found.update(self._entity_ids(set(missing)))
        return found

    def _entity_ids(self, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
        found: dict[tuple[str, str], int] = {}
        values = sorted({value for _, value in wanted})
        for start in range(0, len(values), CHUNK):
            for row in self.session.execute(select(Entity.id, Entity.kind, Entity.value).where(
                    Entity.value.in_(values[start:start + CHUNK]))):
                if (row.kind, row.value) in wanted:
                    found[(row.kind, row.value)] = row.id
        return found

    def posts(self, evidence: list[tuple[ItemIn, RowIn]], source: Source | None
              ) -> list[tuple[int, str, float | None]]:
        """(post id, url, sender's score) of each item, found or made; `source` for all of them, or
        None to take each post's channel from its row (an entity's posts span channels)."""
        groups: dict[int, tuple[Source, list]] = {}
        for item, row in evidence:
            owner = source or self.source("telegram" if "//t.me/" in row.url else "web",
                                          row.channel, None)
            groups.setdefault(owner.id, (owner, []))[1].append((item, row))
        made = []
        for owner, group in groups.values():
            made += self._posts_of(owner, group)
        return made

    def _posts_of(self, source: Source, group: list[tuple[ItemIn, RowIn]]):
        """(post id, url, score) of each item of one source: Core statements on whole batches
        (an ORM object per row would make each flush slower as the import grows)."""
        session = self.session
        capture_ids = self.captures.ids([item.capture for item, _ in group])
        ids = [str(row.post_id)[:255] for _, row in group]
        known = self._post_ids(source.id, sorted(set(ids)))
        self.counts["posts_known"] += len(known)
        fresh: dict[str, dict] = {}
        for (_, row), capture_id, external_id in zip(group, capture_ids, ids, strict=True):
            if external_id not in known and external_id not in fresh:
                fresh[external_id] = _post_row(source, row, external_id, capture_id)
        if fresh:
            session.execute(Post.__table__.insert(), list(fresh.values()))
            known.update(self._post_ids(source.id, list(fresh)))
            self.counts["posts"] += len(fresh)
        posts = [known[external_id] for external_id in ids]
        link_captures(session, [(post[0], capture_id) for post, capture_id
                                in zip(posts, capture_ids, strict=True) if capture_id])
        self._verdicts([post[0] for post in posts], [row for _, row in group])
        links = {(post[0], kind, value) for post, (_, row) in zip(posts, group, strict=True)
                 for kind, value in indicators_of(row.indicators)}
        entity_ids = self.entities({(kind, value) for _, kind, value in links})
        insert_ignoring_known(session, PostEntity.__table__, [
            {"post_id": post_id, "entity_id": entity_ids[(kind, value)]}
            for post_id, kind, value in sorted(links)])
        return [(post[0], post[1], row.score) for post, (_, row) in zip(posts, group, strict=True)]

    def _post_ids(self, source_id: int, external_ids: list[str]) -> dict[str, tuple[int, str]]:
        found = {}
        for start in range(0, len(external_ids), CHUNK):
            for post_id, external_id, url in self.session.execute(
                    select(Post.id, Post.external_id, Post.url).where(
                        Post.source_id == source_id,
                        Post.external_id.in_(external_ids[start:start + CHUNK]))):
                found[external_id] = (post_id, url)
        return found

    def _verdicts(self, post_ids: list[int], rows: list[RowIn]) -> None:
        """The sender's verdict on each post this store has none for (its own stays)."""
        have: set[int] = set()
        unique = sorted(set(post_ids))
        for start in range(0, len(unique), CHUNK):
            have.update(self.session.scalars(select(Verdict.subject_id).where(
                Verdict.subject_type == "post",
                Verdict.subject_id.in_(unique[start:start + CHUNK]))))
        now, fresh = datetime.now(timezone.utc), {}
        for post_id, row in zip(post_ids, rows, strict=True):
            if row.verdict in CATEGORIES and post_id not in have and post_id not in fresh:
                fresh[post_id] = {"subject_type": "post", "subject_id": post_id,
                                  "category": row.verdict, "score": float(row.score or 0.0),
                                  "model_version": f"import:{self.org}"[:64], "hits": [],
                                  "indicators": [], "scores": {}, "contributions": [],
                                  "scored_at": now}
        if fresh:
            self.session.execute(Verdict.__table__.insert(), list(fresh.values()))


def _post_row(source: Source, row: RowIn, external_id: str, capture_id: int | None) -> dict:
    now = datetime.now(timezone.utc)
    posted_at = row.posted_at
    if posted_at is not None and posted_at.tzinfo is None:
        posted_at = posted_at.replace(tzinfo=timezone.utc)
    return {"source_id": source.id, "external_id": external_id, "url": row.url,
            "text": row.text, "content_hash": content_hash(row.text), "posted_at": posted_at,
            "views": row.views, "capture_id": capture_id,
            "first_seen": now, "last_seen": now}
