"""Re-scoring stored posts after the lexicons or the model changed (`kyran rescore`).

Posts are read in id order in batches, scored again, and where a verdict changed it is replaced
and the post goes through the entity and queue steps again, so candidates follow: new ones open,
open ones are raised, with events. Candidates an analyst already decided keep the decision (the
queue step only adds the new evidence to their history). A verdict that is the same but lacks
the model's reasons (stored before they were kept) gets them, and nothing else moves. One event
records the run.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import select

from crawler.config import KyranConfig
from crawler.store.db import Store
from crawler.store.ingest import add_event, find_source
from crawler.store.models import Post, Source
from crawler.store.models import Verdict as VerdictRow
from pipelines.chain import ProcessingChain
from pipelines.scoring import save_verdict
from pipelines.work import PostWork

ACTOR = "component:rescore"


def _same(row: VerdictRow | None, verdict) -> bool:
    return (row is not None and row.category == verdict.category
            and abs(row.score - verdict.score) < 1e-4
            and row.model_version == verdict.model_version)


def _explain(row: VerdictRow, verdict) -> bool:
    """Give an unchanged verdict the model's reasons it lacks (scored before the store kept
    them, migration 0009): the row alone, since neither entities nor candidates change."""
    reasons = [c.to_dict() for c in verdict.contributions]  # as Verdict.to_dict() has them
    if (row.contributions or []) == reasons:
        return False
    row.contributions = reasons
    return True


def rescore(store: Store, config: KyranConfig, since: datetime | None = None,
            source: str | None = None, batch: int = 500) -> Counter:
    chain = ProcessingChain(store, config, ACTOR)
    detector = chain.detectors.get()
    follow_up = [step for step in chain.steps if step.name in ("entities", "queue")]
    counts: Counter[str] = Counter()
    last_id = 0
    while True:
        with store.session() as session:
            query = select(Post, Source).join(Source).where(Post.id > last_id)
            if since is not None:
                query = query.where(Post.posted_at >= since)
            if source is not None:
                found = find_source(session, "telegram", source) or find_source(
                    session, "web", source)
                query = query.where(Post.source_id == (found.id if found else -1))
            rows = session.execute(query.order_by(Post.id).limit(batch)).all()
            if not rows:
                break
            last_id = rows[-1][0].id
            stored = {row.subject_id: row for row in session.scalars(select(VerdictRow).where(
                VerdictRow.subject_type == "post",
                VerdictRow.subject_id.in_([post.id for post, _ in rows])))}
            works = []
            for post, post_source in rows:
                verdict = detector.score(post.text)
                counts["posts"] += 1
                old = stored.get(post.id)
                if _same(old, verdict):
                    if _explain(old, verdict):
                        counts["explained"] += 1
                    continue
                counts[f"changed/{old.category if old else 'unscored'}->{verdict.category}"] += 1
                save_verdict(session, "post", post.id, verdict, old)
                works.append(PostWork(post=post, source=post_source, change="rescored",
                                      verdict=verdict))
            for step in follow_up:
                step.run(session, works)
    with store.session() as session:
        add_event(session, ACTOR, "rescore.run", "store", None, since=str(since or ""),
                  source=source or "", model_version=detector.model_version, **dict(counts))
    return counts
