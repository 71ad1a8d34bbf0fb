"""Chain step *discover*: channels and bots that scored posts name or forward join the watchlist.

From each post scoring at least `min_score`: Telegram handles, bots and channel links (via
`mention`, `bot` or `link`) and the channel it was forwarded from (via `forward`) become
watchlist entries one step further from the seeds than the post's source, with a watch priority
from the evidence, up to `max_depth` from the seeds and `max_new_per_run` new entries per run. The
Telegram preview spider picks them up on its next run (bots are recorded, not crawled: they have
no preview). A web post's links to other sites are recorded as sources of kind `domain`, not
watched until an analyst gives them a site target.
"""

from __future__ import annotations

import logging
import re

from sqlalchemy import select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crawler.config import DiscoveryConfig
from crawler.store.ingest import add_event
from crawler.store.models import Source
from pipelines.entities import TG_LINK, entity_key
from pipelines.work import PostWork

log = logging.getLogger(__name__)
USERNAME = re.compile(r"^[a-z][a-z0-9_]{3,31}$")
VIA = {"telegram_handle": "mention", "telegram_bot": "bot", "telegram_link": "link"}


class DiscoveryStep:
    name = "discover"

    def __init__(self, config: DiscoveryConfig, actor: str) -> None:
        self.config = config
        self.actor = actor
        self.added = 0  # over the life of this chain (one crawl)

    def _found(self, work: PostWork) -> list[tuple[str, str, str, str]]:
        """(platform, handle, kind, via) named by one post."""
        found = []
        for indicator in work.verdict.indicators:
            kind, value = entity_key(indicator)
            if kind in ("telegram_handle", "telegram_bot"):
                via = VIA.get(indicator.kind, "mention")
                found.append(("telegram", value.lstrip("@"), kind.removeprefix("telegram_")
                              .replace("handle", "channel"), via))
            elif kind in ("domain", "onion") and work.source.platform == "web":
                found.append(("web", value.lower(), "domain", "link"))
        origin = TG_LINK.match(work.post.forwarded_from_url or "")
        if origin:  # a forward shown only by a display name names no channel to watch
            found.append(("telegram", origin.group(1).lower(), "channel", "forward"))
        return found

    def run(self, session: Session, works: list[PostWork]) -> None:
        if not self.config.enabled:
            return
        proposals: dict[tuple[str, str], tuple[str, str, PostWork]] = {}
        for work in works:
            if not work.scored or work.verdict.score < self.config.min_score:
                continue
            depth = (work.source.discovery_depth or 0) + 1
            if depth > self.config.max_depth:
                continue
            for platform, handle, kind, via in self._found(work):
                if platform == "telegram" and not USERNAME.match(handle):
                    continue
                if handle == (work.source.handle or ""):
                    continue
                key = (platform, handle)
                best = proposals.get(key)
                if best is None or work.verdict.score > best[2].verdict.score:
                    proposals[key] = (kind, via, work)
        if not proposals:
            return
        known = set(session.execute(select(Source.platform, Source.handle).where(
            tuple_(Source.platform, Source.handle).in_(sorted(proposals)))).all())
        for (platform, handle), (kind, via, work) in sorted(proposals.items()):
            if (platform, handle) in known:
                continue
            if self.added >= self.config.max_new_per_run:
                log.info("discovery cap of %d new entries reached; %s and others wait for the "
                         "next run", self.config.max_new_per_run, handle)
                return
            if self._watch(session, platform, handle, kind, via, work):
                self.added += 1

    def _watch(self, session, platform, handle, kind, via, work: PostWork) -> bool:
        score = work.verdict.score
        source = Source(platform=platform, handle=handle, kind=kind, discovered_via=via,
                        discovery_depth=(work.source.discovery_depth or 0) + 1,
                        discovered_from_id=work.source.id,
                        watch_priority=min(95, 40 + round(55 * score)),
                        watched=platform == "telegram" and kind == "channel")
        try:
            with session.begin_nested():
                session.add(source)
                session.flush()
        except IntegrityError:  # another crawl watched it a moment ago
            return False
        add_event(session, self.actor, "source.discovered", "source", source.id,
                  handle=handle, via=via, kind=kind, from_source=work.source.id,
                  from_post=work.post.id, score=round(score, 4))
        return True
