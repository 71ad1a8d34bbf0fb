"""Stored records into the API's response models: raw text kept, defanged twins added, users
named by username, hits and indicators passed with their spans, the model's reasons with a
defanged twin."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.defang import defang, safe
from crawler.store.models import Candidate, Event, Source, User
from crawler.store.views import CandidateView, EntityView, EvidencePost, subject_line
from review.api import models as m
from review.queries import QueuePage


def _defanged(text: str | None) -> str | None:
    return None if text is None else safe(text)


def _usernames(session: Session, ids) -> dict[int, str]:
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    return dict(session.execute(select(User.id, User.username).where(User.id.in_(wanted))).all())


def candidate_out(session: Session, c: Candidate, names: dict[int, str] | None = None,
                  subject: str | None = None) -> m.CandidateOut:
    names = names if names is not None else _usernames(session, [c.assigned_to, c.decided_by])
    subject = subject if subject is not None else subject_line(session, c)
    return m.CandidateOut(
        id=c.id, subject_type=c.subject_type, subject_id=c.subject_id, subject=subject,
        subject_defanged=safe(subject), category=c.category, status=c.status,
        decision=c.decision, policy=c.policy, reason=c.reason, priority=c.priority,
        score=c.score, reasons=list(c.reasons or []), assigned_to=names.get(c.assigned_to),
        claimed_at=c.claimed_at, decided_by=names.get(c.decided_by), decided_at=c.decided_at,
        last_evidence_at=c.last_evidence_at, created_at=c.created_at, updated_at=c.updated_at)


def candidates_out(session: Session, candidates: list[Candidate]) -> list[m.CandidateOut]:
    names = _usernames(session, [i for c in candidates for i in (c.assigned_to, c.decided_by)])
    return [candidate_out(session, c, names) for c in candidates]


def source_out(s: Source) -> m.SourceOut:
    return m.SourceOut(
        id=s.id, platform=s.platform, kind=s.kind, external_id=s.external_id, handle=s.handle,
        handle_defanged=_defanged(s.handle), title=s.title, title_defanged=_defanged(s.title),
        subscribers=s.subscribers, status=s.status, watched=bool(s.watched),
        watch_priority=s.watch_priority, watch_reason=s.watch_reason, region=s.region,
        discovered_via=s.discovered_via, first_seen=s.first_seen, last_seen=s.last_seen,
        last_crawled=s.last_crawled, gone_at=s.gone_at, gone_how=s.gone_how)


def contributions_out(reasons) -> list[m.ContributionOut]:
    """(feature, weight) pairs as the API gives them, the feature with its defanged twin."""
    return [m.ContributionOut(feature=feature, feature_defanged=safe(feature),
                              weight=float(weight))
            for feature, weight in reasons
            if feature and isinstance(weight, int | float)]


def post_out(e: EvidencePost) -> m.PostOut:
    post, verdict = e.post, e.verdict
    links = [str(link) for link in (post.links or [])]
    return m.PostOut(
        id=post.id, source=source_out(e.source), url=post.url, url_defanged=safe(post.url),
        posted_at=post.posted_at, text=post.text or "", text_defanged=safe(post.text),
        links=links, links_defanged=[safe(link) for link in links], cluster_id=post.cluster_id,
        verdict=None if verdict is None else m.VerdictOut(
            category=verdict.category, score=verdict.score, model_version=verdict.model_version,
            hits=list(verdict.hits or []), indicators=list(verdict.indicators or []),
            contributions=contributions_out(
                (str(r.get("feature", "")), r.get("weight")) for r in e.contributions())),
        spans=[m.SpanOut(start=start, end=end, label=str(label))
               for start, end, label in e.spans()])


def event_out(e: Event) -> m.EventOut:
    return m.EventOut(id=e.id, at=e.at, actor=e.actor, action=e.action,
                      subject_type=e.subject_type, subject_id=e.subject_id,
                      payload=dict(e.payload or {}))


def detail_out(session: Session, view: CandidateView) -> m.CandidateDetailOut:
    return m.CandidateDetailOut(
        candidate=candidate_out(session, view.candidate, subject=view.subject),
        sources=view.sources, evidence=[post_out(e) for e in view.evidence],
        contributions=contributions_out(view.model_reasons()),
        indicators=[m.IndicatorOut(id=entity.id, kind=entity.kind, value=entity.value,
                                   value_defanged=defang(entity.value), posts=posts,
                                   sources=sources)
                    for entity, posts, sources in view.entities],
        events=[event_out(e) for e in view.history])


def entity_out(session: Session, view: EntityView) -> m.EntityOut:
    e = view.entity
    return m.EntityOut(
        id=e.id, kind=e.kind, value=e.value, value_defanged=safe(e.value),
        first_seen=e.first_seen, last_seen=e.last_seen,
        sources=[m.EntitySourceOut(source=source_out(s), posts=n, flagged=f)
                 for s, n, f in view.sources],
        candidates=candidates_out(session, view.candidates),
        posts=[post_out(p) for p in view.posts])


def page_out(page: QueuePage) -> m.QueuePageOut:
    return m.QueuePageOut(
        rows=[m.QueueRowOut(
            id=r.id, subject=r.subject, subject_defanged=safe(r.subject),
            subject_type=r.subject_type, subject_id=r.subject_id, category=r.category,
            priority=r.priority, score=r.score, status=r.status, claimed_by=r.claimed_by,
            assigned_to=r.assigned_to, age_seconds=int(r.age.total_seconds()),
            created_at=r.created_at, reasons=list(r.reasons or [])) for r in page.rows],
        total=page.total, more=page.more, page=page.page, page_size=page.page_size,
        pages=page.pages)
