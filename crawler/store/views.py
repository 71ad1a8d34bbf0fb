"""Read-only views of the queue for people: the candidate list, one candidate with its evidence
(and the near-duplicate clusters of that evidence), an entity with everything linked to it.
Shared by the command line and the review app.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import case, distinct, func, literal, select
from sqlalchemy.orm import Session

from crawler.store.models import Candidate, Entity, Event, Post, PostEntity, Source, Verdict

MODEL_REASONS = 8  # the model's reasons a candidate shows, over all its evidence


@dataclass
class EvidencePost:
    post: Post
    source: Source
    verdict: Verdict | None

    def spans(self) -> list[tuple[int, int, str]]:
        """(start, end, label) in the post's original text: matched words and indicators."""
        if self.verdict is None:
            return []
        found = []
        for hit in self.verdict.hits:
            for match in hit.get("matches", []):
                if match.get("field", "text") == "text":
                    found.append((*match["span"], hit["rule"]))
        for indicator in self.verdict.indicators:
            if indicator.get("field", "text") == "text":
                found.append((*indicator["span"], indicator["kind"]))
        return sorted(found)

    def contributions(self) -> list[dict]:
        """Where the learned model decided: its reasons, ``{"feature", "weight"}`` strongest
        first (none for a verdict stored before they were kept)."""
        return list(self.verdict.contributions or []) if self.verdict is not None else []


@dataclass
class CandidateView:
    candidate: Candidate
    subject: str  # a line naming what would be blocked
    sources: int  # distinct sources of the evidence ("posted in N channels")
    evidence: list[EvidencePost] = field(default_factory=list)
    entities: list[tuple[Entity, int, int]] = field(default_factory=list)  # posts, sources
    history: list[Event] = field(default_factory=list)

    def model_reasons(self, top: int = MODEL_REASONS) -> list[tuple[str, float]]:
        """Why the learned model decided, over all the evidence: each feature once, at its
        strongest weight, strongest first. Features are raw text (an n-gram is a piece of a
        scraped post): whoever shows them escapes them."""
        best: dict[str, float] = {}
        for e in self.evidence:
            for reason in e.contributions():
                feature, weight = str(reason.get("feature", "")), reason.get("weight")
                if feature and isinstance(weight, int | float):
                    best[feature] = max(float(weight), best.get(feature, float("-inf")))
        return sorted(best.items(), key=lambda item: (-item[1], item[0]))[:top]


def _flagged_posts_query(subject_type: str, subject_id: int, *columns):
    """The subject's flagged posts (for a post: it and its near-duplicates) as `columns`
    (default: Post, Source, Verdict)."""
    query = (select(*(columns or (Post, Source, Verdict))).select_from(Post)
             .join(Source, Source.id == Post.source_id)
             .outerjoin(Verdict, (Verdict.subject_type == "post")
                        & (Verdict.subject_id == Post.id)))
    if subject_type == "source":
        return query.where(Post.source_id == subject_id, Verdict.category != "none")
    if subject_type == "post":
        # The post and its near-duplicates. Spelt as an IN over a UNION of two index lookups:
        # SQLite plans the plain OR as a scan of every source's posts (a second with 1M posts).
        cluster = select(Post.id).where(Post.cluster_id == subject_id).union(
            select(literal(subject_id)))
        return query.where(Post.id.in_(cluster))
    return query.join(PostEntity, PostEntity.post_id == Post.id).where(
        PostEntity.entity_id == subject_id, Verdict.category != "none")


def _source_line(platform, kind, handle, title, subscribers) -> str:
    name = f"@{handle}" if platform == "telegram" else handle
    reach = f", {subscribers} subscribers" if subscribers else ""
    return f"{platform} {kind} {name} «{title or ''}»{reach}"


def subject_line(session: Session, candidate: Candidate) -> str:
    if candidate.subject_type == "source":
        source = session.get(Source, candidate.subject_id)
        if source is None:
            return f"source {candidate.subject_id} (gone)"
        return _source_line(source.platform, source.kind, source.handle, source.title,
                            source.subscribers)
    if candidate.subject_type == "entity":
        entity = session.get(Entity, candidate.subject_id)
        return f"{entity.kind} {entity.value}" if entity else f"entity {candidate.subject_id}"
    post = session.get(Post, candidate.subject_id)
    if post is None:
        return f"post {candidate.subject_id} (gone)"
    source = session.get(Source, post.source_id)
    return f"post {post.url} in {source.platform} {source.handle}"


def subject_lines(session: Session, candidates: list[Candidate]) -> dict[int, str]:
    """`subject_line` of many candidates (by candidate id) from three batched queries of the
    few columns a line needs, not whole rows (a post's text, a source's metadata)."""
    wanted: dict[str, set[int]] = {"source": set(), "post": set(), "entity": set()}
    for c in candidates:
        wanted.setdefault(c.subject_type, set()).add(c.subject_id)
    posts = {row.id: row for row in session.execute(
        select(Post.id, Post.url, Post.source_id).where(Post.id.in_(wanted["post"])))
        } if wanted["post"] else {}
    source_ids = wanted["source"] | {row.source_id for row in posts.values()}
    sources = {row.id: row for row in session.execute(
        select(Source.id, Source.platform, Source.kind, Source.handle, Source.title,
               Source.subscribers).where(Source.id.in_(source_ids)))} if source_ids else {}
    entities = {row.id: row for row in session.execute(
        select(Entity.id, Entity.kind, Entity.value).where(Entity.id.in_(wanted["entity"])))
        } if wanted["entity"] else {}
    lines = {}
    for c in candidates:
        sid = c.subject_id
        if c.subject_type == "source":
            s = sources.get(sid)
            lines[c.id] = (_source_line(s.platform, s.kind, s.handle, s.title, s.subscribers)
                           if s else f"source {sid} (gone)")
        elif c.subject_type == "entity":
            e = entities.get(sid)
            lines[c.id] = f"{e.kind} {e.value}" if e else f"entity {sid}"
        elif (post := posts.get(sid)) is None:
            lines[c.id] = f"post {sid} (gone)"
        else:
            s = sources[post.source_id]
            lines[c.id] = f"post {post.url} in {s.platform} {s.handle}"
    return lines


def source_spread(session: Session, candidate: Candidate) -> int:
    # Counted in the query itself: a subquery of every column of three tables cost more to
    # build in Python (~8 ms) than the count does in the database.
    return session.scalar(_flagged_posts_query(candidate.subject_type, candidate.subject_id,
                                               func.count(distinct(Post.source_id)))) or 0


def queue(session: Session, status: str | None = "open", category: str | None = None,
          limit: int = 50) -> list[CandidateView]:
    query = select(Candidate)
    if status:
        query = query.where(Candidate.status == status)
    if category:
        query = query.where(Candidate.category == category)
    query = query.order_by(Candidate.priority.desc(), Candidate.last_evidence_at.desc(),
                           Candidate.id).limit(limit)
    return [CandidateView(c, subject_line(session, c), source_spread(session, c))
            for c in session.scalars(query)]


def _evidence_rows(session: Session, candidate: Candidate, posts: int):
    return session.execute(_flagged_posts_query(candidate.subject_type, candidate.subject_id)
                           .order_by(Verdict.score.desc().nulls_last(), Post.id.desc())
                           .limit(posts)).all()


def evidence_clusters(session: Session, candidate: Candidate, posts: int = 10) -> list[int]:
    """The near-duplicate clusters of the evidence posts `candidate_view` shows."""
    return sorted({post.cluster_id for post, _source, _verdict
                   in _evidence_rows(session, candidate, posts) if post.cluster_id})


def candidate_view(session: Session, candidate_id: int, posts: int = 10) -> CandidateView | None:
    candidate = session.get(Candidate, candidate_id)
    if candidate is None:
        return None
    view = CandidateView(candidate, subject_line(session, candidate),
                         source_spread(session, candidate))
    view.evidence = [EvidencePost(post, source, verdict)
                     for post, source, verdict in _evidence_rows(session, candidate, posts)]
    post_ids = [e.post.id for e in view.evidence]
    if post_ids:
        view.entities = list(session.execute(
            select(Entity, func.count(distinct(PostEntity.post_id)),
                   func.count(distinct(Post.source_id)))
            .join(PostEntity, PostEntity.entity_id == Entity.id)
            .join(Post, Post.id == PostEntity.post_id)
            .where(Entity.id.in_(select(PostEntity.entity_id)
                                 .where(PostEntity.post_id.in_(post_ids))))
            .group_by(Entity.id).order_by(Entity.kind, Entity.value)).all())
    view.history = list(session.scalars(
        select(Event).where(Event.subject_type == "candidate", Event.subject_id == candidate.id)
        .order_by(Event.id)))
    return view


@dataclass
class EntityView:
    entity: Entity
    sources: list[tuple[Source, int, int]]  # source, posts, flagged posts
    candidates: list[Candidate]
    posts: list[EvidencePost]


def entity_view(session: Session, kind: str | None, value: str, posts: int = 10
                ) -> list[EntityView]:
    query = select(Entity).where(Entity.value == value)
    if kind:
        query = query.where(Entity.kind == kind)
    views = []
    for entity in session.scalars(query):
        flagged = func.sum(case((Verdict.category != "none", 1), else_=0))
        sources = session.execute(
            select(Source, func.count(distinct(Post.id)), flagged)
            .join(Post, Post.source_id == Source.id)
            .join(PostEntity, PostEntity.post_id == Post.id)
            .outerjoin(Verdict, (Verdict.subject_type == "post")
                       & (Verdict.subject_id == Post.id))
            .where(PostEntity.entity_id == entity.id)
            .group_by(Source.id).order_by(func.count(distinct(Post.id)).desc())).all()
        post_ids = select(PostEntity.post_id).where(PostEntity.entity_id == entity.id)
        candidates = list(session.scalars(select(Candidate).where(
            ((Candidate.subject_type == "entity") & (Candidate.subject_id == entity.id))
            | ((Candidate.subject_type == "post") & Candidate.subject_id.in_(post_ids))
            | ((Candidate.subject_type == "source") & Candidate.subject_id.in_(
                select(Post.source_id).where(Post.id.in_(post_ids)))))))
        rows = session.execute(
            select(Post, Source, Verdict).join(Source, Source.id == Post.source_id)
            .outerjoin(Verdict, (Verdict.subject_type == "post") & (Verdict.subject_id == Post.id))
            .where(Post.id.in_(post_ids)).order_by(Post.id.desc()).limit(posts)).all()
        views.append(EntityView(entity, [(s, n, int(f or 0)) for s, n, f in sources], candidates,
                                [EvidencePost(p, s, v) for p, s, v in rows]))
    return views

