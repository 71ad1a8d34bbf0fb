"""Chain step *entities*: every indicator a scored post carries becomes one `entity` row however
many posts carry it, linked to each of them (one bot advertised in 40 channels is one shop).

A Telegram account is one entity whether it is written `@name` or `t.me/name`: links to
channels, bots and their posts are folded into the handle.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from sqlalchemy import select, update
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
        keys = sorted(set().union(*wanted.values())) if wanted else []
        if not keys:
            return
        now = datetime.now(timezone.utc)
        ids = self._ids(session, keys)
        fresh = [key for key in keys if key not in ids]
        if fresh:  # multi-row INSERTs throughout: the ORM would insert row by row
            session.execute(Entity.__table__.insert(), [
                {"kind": kind, "value": value, "first_seen": now, "last_seen": now}
                for kind, value in fresh])
            ids.update(self._ids(session, fresh))
        session.execute(update(Entity), [{"id": ids[key], "last_seen": now} for key in keys
                                         if key not in fresh])
        seen_before = [w.post.id for w in scored if w.change != "new"]  # edited, rescored
        linked = set()
        if seen_before:
            linked = set(session.execute(select(PostEntity.post_id, PostEntity.entity_id).where(
                PostEntity.post_id.in_(seen_before))).all())
        links = []
        fresh_ids = {ids[key] for key in fresh}
        for work in scored:
            for key in sorted(wanted[work.post.id]):
                pair = (work.post.id, ids[key])
                if pair not in linked:
                    links.append({"post_id": pair[0], "entity_id": pair[1]})
                    linked.add(pair)
                if ids[key] in fresh_ids:
                    work.new_entities.append(ids[key])
        if links:
            session.execute(PostEntity.__table__.insert(), links)

    @staticmethod
    def _ids(session: Session, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """Ids of the (kind, value) pairs that exist. Two plain IN lists (the unique index on
        kind, value serves them) instead of a tuple IN, which costs far more to compile."""
        wanted, found = set(keys), {}
        kinds = sorted({kind for kind, _ in keys})
        values = sorted({value for _, value in keys})
        for start in range(0, len(values), 900):
            for entity_id, kind, value in session.execute(
                    select(Entity.id, Entity.kind, Entity.value).where(
                        Entity.kind.in_(kinds), Entity.value.in_(values[start:start + 900]))):
                if (kind, value) in wanted:
                    found[(kind, value)] = entity_id
        return found
