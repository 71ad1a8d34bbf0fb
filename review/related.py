"""What the candidate page shows beside a candidate's own evidence: the near-duplicate clusters
of its evidence posts ("in N sources", and the sources carrying them, paged) and the other
candidates that share an indicator with it (a bot, wallet, handle, phone or domain).

A post's `cluster_id` is the id of its cluster's first post (pipelines/clustering.py), so a
cluster's spread is a count over `ix_post_cluster_id`. Related candidates are found in one
query: the candidates on the indicators themselves, on the sources and on the (cluster heads of
the) posts carrying them, grouped by candidate and ordered by how many indicators they share.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import distinct, func, select, union_all
from sqlalchemy.orm import Session

from crawler.store.models import Candidate, Post, PostEntity, Source
from review.queries import QueueRow, rows_for

# bot, handle, wallets (btc, eth, tron, xmr), phone, domain: what one shop keeps across channels
RELATED_KINDS = ("telegram_bot", "telegram_handle", "btc", "eth", "tron", "xmr", "phone",
                 "domain")
MAX_RELATED = 20
CLUSTER_PAGE = 50
MAX_CLUSTER_ROWS = 5000  # sources listed at most (a page past this is refused)


@dataclass
class Spread:
    clusters: list[int]
    sources: int  # distinct sources carrying posts of these clusters
    posts: int


@dataclass
class ClusterSource:
    source: Source
    posts: int
    first: datetime | None
    last: datetime | None
    example_post: int  # one of its posts in the clusters (the newest)


def cluster_spread(session: Session, clusters: list[int]) -> Spread:
    """How many sources and posts carry the near-duplicate clusters `clusters`."""
    if not clusters:
        return Spread([], 0, 0)
    sources, posts = session.execute(
        select(func.count(distinct(Post.source_id)), func.count(Post.id))
        .where(Post.cluster_id.in_(clusters))).one()
    return Spread(sorted(clusters), int(sources or 0), int(posts or 0))


def cluster_sources(session: Session, clusters: list[int], page: int = 1,
                    page_size: int = CLUSTER_PAGE) -> list[ClusterSource]:
    """One page (from 1) of the sources carrying the clusters, most posts first."""
    if not clusters:
        return []
    count = func.count(Post.id)
    rows = session.execute(
        select(Post.source_id, count, func.min(Post.posted_at), func.max(Post.posted_at),
               func.max(Post.id))
        .where(Post.cluster_id.in_(clusters)).group_by(Post.source_id)
        .order_by(count.desc(), Post.source_id)
        .limit(page_size).offset((page - 1) * page_size)).all()
    sources = {s.id: s for s in session.scalars(
        select(Source).where(Source.id.in_([r[0] for r in rows])))} if rows else {}
    return [ClusterSource(sources[sid], int(n), first, last, example)
            for sid, n, first, last, example in rows if sid in sources]


@dataclass
class RelatedRow:
    row: QueueRow  # the candidate as the queue shows it
    shared: int  # indicators it shares with the candidate asked about


def related_candidates(session: Session, candidate: Candidate, entity_ids: list[int],
                       limit: int = MAX_RELATED) -> list[RelatedRow]:
    """Other candidates sharing any of `entity_ids` (the candidate's indicators), most shared
    first, then newest; at most `limit`."""
    if not entity_ids:
        return []
    on_entity = select(Candidate.id.label("cid"), Candidate.subject_id.label("eid")).where(
        Candidate.subject_type == "entity", Candidate.subject_id.in_(entity_ids))
    carrying = select(PostEntity.entity_id, Post.id, Post.source_id, Post.cluster_id).join(
        Post, Post.id == PostEntity.post_id).where(
        PostEntity.entity_id.in_(entity_ids)).subquery()
    on_source = select(Candidate.id, carrying.c.entity_id).join(
        Candidate, (Candidate.subject_type == "source")
        & (Candidate.subject_id == carrying.c.source_id))
    on_post = select(Candidate.id, carrying.c.entity_id).join(
        Candidate, (Candidate.subject_type == "post")
        & (Candidate.subject_id == func.coalesce(carrying.c.cluster_id, carrying.c.id)))
    links = union_all(on_entity, on_source, on_post).subquery()
    shared = func.count(distinct(links.c.eid))
    ranked = session.execute(
        select(links.c.cid, shared).where(links.c.cid != candidate.id)
        .group_by(links.c.cid).order_by(shared.desc(), links.c.cid.desc())
        .limit(limit)).all()
    if not ranked:
        return []
    found = {c.id: c for c in session.scalars(
        select(Candidate).where(Candidate.id.in_([cid for cid, _ in ranked])))}
    order = [found[cid] for cid, _ in ranked if cid in found]
    rows = {r.id: r for r in rows_for(session, order, datetime.now(timezone.utc))}
    return [RelatedRow(rows[cid], int(n)) for cid, n in ranked if cid in rows]
