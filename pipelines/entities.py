"""Chain step *entities*: every indicator a scored post carries becomes one `entity` row however
many posts carry it, linked to each of them (one bot advertised in 40 channels is one shop).

A Telegram account is one entity whether it is written `@name` or `t.me/name`: links to
channels, bots and their posts are folded into the handle.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from crawler.store.models import Entity, PostEntity
from detection.extract import Indicator
from pipelines.work import PostWork

TG_LINK = re.compile(r"^(?:https?://)?(?:t\.me|telegram\.me)/(?:s/)?([A-Za-z][A-Za-z0-9_]{3,31})"
                     r"(?:/\d+)?/?$", re.I)


def entity_key(indicator: Indicator) -> tuple[str, str]:
    """(kind, value) under which an indicator is stored."""
    if indicator.kind == "telegram_link":
        match = TG_LINK.match(indicator.value)
        if match:
            name = match.group(1).lower()
            return ("telegram_bot" if name.endswith("bot") else "telegram_handle", "@" + name)
    return indicator.kind, indicator.value[:512]


class EntityStep:
    name = "entities"

    def run(self, session: Session, works: list[PostWork]) -> None:
        scored = [w for w in works if w.scored]
        wanted = {w.post.id: {entity_key(i) for i in w.verdict.indicators} for w in scored}
        keys = set().union(*wanted.values()) if wanted else set()
        if not keys:
            return
        now = datetime.now(timezone.utc)
        known = {(e.kind, e.value): e for e in session.scalars(
            select(Entity).where(tuple_(Entity.kind, Entity.value).in_(sorted(keys))))}
        fresh = set()
        for key in sorted(keys - known.keys()):
            known[key] = Entity(kind=key[0], value=key[1], first_seen=now, last_seen=now)
            session.add(known[key])
            fresh.add(key)
        for key in keys & (known.keys() - fresh):
            known[key].last_seen = now
        session.flush()
        seen_before = [w.post.id for w in scored if w.change != "new"]  # edited, rescored
        linked = set()
        if seen_before:
            linked = set(session.execute(select(PostEntity.post_id, PostEntity.entity_id).where(
                PostEntity.post_id.in_(seen_before))).all())
        for work in scored:
            for key in wanted[work.post.id]:
                entity = known[key]
                if (work.post.id, entity.id) not in linked:
                    session.add(PostEntity(post_id=work.post.id, entity_id=entity.id))
                    linked.add((work.post.id, entity.id))
                if key in fresh:
                    work.new_entities.append(entity.id)
