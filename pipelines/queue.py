"""Chain step *queue*: flagged posts open or update candidates on the right subject.

- A channel or site whose own verdict (title, description and the share of its posts flagged)
  says it is a shop or a recruiter: the candidate is the source, the unit a blocking request
  names.
- A single ad in an otherwise ordinary place (a classifieds listing, a recruitment post in a
  city chat): the candidate is the post, or rather its cluster of repeats, so the same ad seen
  in 37 channels is one candidate.
- A bot, wallet, handle or site seen in flagged posts of several sources: the candidate is that
  entity (one shop behind many channels).

New evidence on an open candidate raises it and is recorded as an event. A dismissed candidate
stays dismissed unless new evidence scores `reopen_margin` above what it was dismissed at; then
it reopens with an event saying why. Decided candidates (confirmed, reported, taken down) keep
their decision and get the evidence as an event.

One in `spot_check_rate` posts the detector did *not* flag is sampled (by a hash of the post's
id, so a re-run samples the same posts) as a `sampled` post candidate: it waits in the
spot-check queue, not the main one, and the analysts' decisions on the sample measure recall.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from crawler.config import QueueConfig
from crawler.store.ingest import add_event, get_or_create
from crawler.store.models import Candidate, Entity, Post, PostEntity, Source
from crawler.store.models import Verdict as VerdictRow
from detection.verdict import Verdict
from pipelines.priority import aims_at_minors, priority, priority_parts
from pipelines.scoring import DetectorHolder, save_verdict, stored_verdict
from pipelines.work import PostWork

OPEN_STATES = ("open", "in_review", "escalated")
DECIDED_STATES = ("confirmed", "reported", "taken_down")
ENTITY_KINDS = ("telegram_bot", "telegram_handle", "invite_link", "onion", "domain", "btc",
                "eth", "tron", "xmr", "phone")


@dataclass
class Evidence:
    """What one batch says about one candidate subject."""

    category: str
    score: float
    priority: int
    parts: dict[str, float]
    reasons: list[dict]
    posts: list[int] = field(default_factory=list)


def reasons_of(verdict: Verdict, limit: int = 5) -> list[dict]:
    """The strongest rules with the words they matched, for the queue's one-line summary."""
    hits = sorted(verdict.hits, key=lambda hit: -abs(hit.contribution))[:limit]
    return [{"rule": hit.rule, "contribution": round(hit.contribution, 2),
             "words": list(dict.fromkeys(hit.words))[:6]} for hit in hits]


class QueueStep:
    name = "queue"

    def __init__(self, detectors: DetectorHolder, config: QueueConfig, actor: str) -> None:
        self.detectors = detectors
        self.config = config
        self.actor = actor

    def run(self, session: Session, works: list[PostWork]) -> None:
        self.sample(session, [w for w in works if w.scored and not w.flagged])
        flagged = [w for w in works if w.flagged]
        if not flagged:
            return
        session.flush()
        now = datetime.now(timezone.utc)
        evidence: dict[tuple[str, int], Evidence] = {}
        by_source: dict[int, list[PostWork]] = defaultdict(list)
        for work in flagged:
            by_source[work.source.id].append(work)
        for source_works in by_source.values():
            source = source_works[0].source
            source_verdict = self.source_verdict(session, source)
            for work in source_works:
                if source_verdict.category != "none":
                    key, verdict, reach = ("source", source.id), source_verdict, source.subscribers
                else:
                    key = ("post", work.post.cluster_id or work.post.id)
                    verdict, reach = work.verdict, max(work.post.views or 0,
                                                       (source.subscribers or 0) // 10)
                self._add(evidence, key, verdict, work, reach, now)
        for key, verdict, work in self._entity_subjects(session, flagged):
            self._add(evidence, key, verdict, work, None, now)
        for (subject_type, subject_id), found in evidence.items():
            self.raise_candidate(session, subject_type, subject_id, found, now)

    def sample(self, session: Session, quiet: list[PostWork]) -> None:
        """Open a spot-check candidate for the sampled share of unflagged posts."""
        rate = self.config.spot_check_rate
        chosen = [w for w in quiet if rate and sampled(w.post.id, rate)]
        if not chosen:
            return
        session.flush()
        now = datetime.now(timezone.utc)
        for work in chosen:
            verdict = work.verdict
            category = max(("sale", "recruitment"), key=lambda c: verdict.scores.get(c, 0.0))
            exists = session.scalar(select(Candidate.id).where(
                Candidate.subject_type == "post", Candidate.subject_id == work.post.id))
            if exists is not None:
                continue
            candidate = Candidate(subject_type="post", subject_id=work.post.id,
                                  category=category, status="open", priority=0,
                                  score=verdict.score, reasons=reasons_of(verdict), sampled=True,
                                  created_at=now, updated_at=now, last_evidence_at=now)
            session.add(candidate)
            session.flush()
            add_event(session, self.actor, "candidate.sampled", "candidate", candidate.id,
                      score=round(verdict.score, 4), rate=rate, posts=[work.post.id])

    def _add(self, evidence, key, verdict: Verdict, work: PostWork, reach, now) -> None:
        minors = verdict.category == "recruitment" and aims_at_minors(work.post.text)
        parts = priority_parts(verdict.score, verdict.category, reach, work.post.posted_at, now,
                               minors, bool(work.new_entities))
        rank = priority(parts)
        current = evidence.get(key)
        if current is None or (verdict.score, rank) > (current.score, current.priority):
            posts = current.posts if current else []
            evidence[key] = current = Evidence(verdict.category, verdict.score, rank, parts,
                                               reasons_of(verdict), posts)
        current.posts.append(work.post.id)

    def source_verdict(self, session: Session, source: Source) -> Verdict:
        """The source's verdict from its title, description and its posts' verdicts; stored."""
        total = session.scalar(select(func.count()).select_from(Post)
                               .where(Post.source_id == source.id)) or 0
        rows = session.execute(
            select(VerdictRow.category, VerdictRow.score)
            .join(Post, Post.id == VerdictRow.subject_id)
            .where(VerdictRow.subject_type == "post", Post.source_id == source.id,
                   VerdictRow.category != "none")).all()
        none = Verdict("none", 0.0)
        posts = [Verdict(category, score) for category, score in rows]
        posts += [none] * max(0, total - len(posts))
        verdict = self.detectors.get().score_source(source.title, source.about, None, posts)
        save_verdict(session, "source", source.id, verdict,
                     stored_verdict(session, "source", source.id))
        return verdict

    def _entity_subjects(self, session: Session, flagged: list[PostWork]):
        """Indicators of these posts that flagged posts of several sources carry."""
        post_ids = [w.post.id for w in flagged]
        links = session.execute(
            select(PostEntity.post_id, Entity.id).join(Entity)
            .where(PostEntity.post_id.in_(post_ids), Entity.kind.in_(ENTITY_KINDS))).all()
        if not links:
            return
        entity_ids = sorted({entity_id for _, entity_id in links})
        spread = dict(session.execute(
            select(PostEntity.entity_id, func.count(distinct(Post.source_id)))
            .join(Post, Post.id == PostEntity.post_id)
            .join(VerdictRow, (VerdictRow.subject_type == "post")
                  & (VerdictRow.subject_id == Post.id))
            .where(PostEntity.entity_id.in_(entity_ids), VerdictRow.category != "none")
            .group_by(PostEntity.entity_id)).all())
        work_of = {w.post.id: w for w in flagged}
        for post_id, entity_id in links:
            if spread.get(entity_id, 0) >= self.config.entity_min_sources:
                work = work_of[post_id]
                yield ("entity", entity_id), work.verdict, work

    def raise_candidate(self, session: Session, subject_type: str, subject_id: int,
                        found: Evidence, now: datetime) -> Candidate:
        def create():
            return Candidate(subject_type=subject_type, subject_id=subject_id,
                             category=found.category, status="open", priority=found.priority,
                             score=found.score, reasons=found.reasons, created_at=now,
                             updated_at=now, last_evidence_at=now)

        # The row is locked until commit (PostgreSQL; SQLite writers are serialised anyway),
        # so an analyst's decision made meanwhile is never overwritten by what was read before.
        candidate, created = get_or_create(session, lambda: session.scalars(
            select(Candidate).where(Candidate.subject_type == subject_type,
                                    Candidate.subject_id == subject_id)
            .with_for_update()).one_or_none(), create)
        payload = {"category": found.category, "score": round(found.score, 4),
                   "priority": found.priority, "priority_parts": found.parts,
                   "posts": found.posts[:50], "reasons": found.reasons}
        if created:
            add_event(session, self.actor, "candidate.opened", "candidate", candidate.id,
                      **payload)
            return candidate
        if candidate.sampled:  # a spot-check sample the detector now flags joins the queue
            candidate.sampled = False
        if candidate.status == "dismissed":
            if found.score < candidate.score + self.config.reopen_margin:
                return candidate
            why = (f"new evidence scores {found.score:.2f}, dismissed at {candidate.score:.2f} "
                   f"(reopen margin {self.config.reopen_margin:.2f})")
            candidate.status, candidate.decision = "open", None
            candidate.assigned_to = candidate.claimed_at = None
            candidate.category, candidate.score = found.category, found.score
            candidate.priority, candidate.reasons = found.priority, found.reasons
            add_event(session, self.actor, "candidate.reopened", "candidate", candidate.id,
                      why=why, **payload)
        else:
            if candidate.status in OPEN_STATES and found.score >= candidate.score:
                candidate.category, candidate.reasons = found.category, found.reasons
            candidate.score = max(candidate.score, found.score)
            candidate.priority = max(candidate.priority, found.priority)
            add_event(session, self.actor, "candidate.evidence", "candidate", candidate.id,
                      status=candidate.status, **payload)
        candidate.last_evidence_at = candidate.updated_at = now
        return candidate


def sampled(post_id: int, rate: int) -> bool:
    """Whether post `post_id` falls in the 1-in-`rate` spot-check sample (stable: a hash of
    the id, not a random draw, so re-scoring samples the same posts)."""
    digest = hashlib.blake2b(str(post_id).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % rate == 0
