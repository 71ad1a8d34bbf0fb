"""Training data from the analysts' decisions: what `kyran train --from-store` learns from.

A confirmed candidate (confirmed, reported, taken down) makes its evidence posts positives of
the category it was confirmed as; a candidate dismissed with a reason makes them negatives of
kind ``dismissed/<reason>`` (a dismissal without a reason says too little to learn from).
Evidence posts are those the candidate was raised on: the post and its near-duplicates, a
source's or an entity's flagged posts — and for a spot-check sample, the sampled post itself
(its confirmation is exactly the miss the model must learn). Each text is yielded once, with the
latest decision winning; at most `per_candidate` posts per candidate, so one big shop channel
does not drown the rest.
"""

from __future__ import annotations

import hashlib
from typing import Iterator

from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from crawler.store.models import Candidate, Post, PostEntity, Verdict

__all__ = ["store_records", "POSITIVE_STATES"]

POSITIVE_STATES = ("confirmed", "reported", "taken_down")


def _evidence_texts(session: Session, candidate: Candidate, limit: int) -> list[tuple[int, str]]:
    flagged = (Verdict.subject_type == "post") & (Verdict.subject_id == Post.id)
    query = select(Post.id, Post.text).outerjoin(Verdict, flagged)
    if candidate.subject_type == "post":
        cluster = select(Post.id).where(Post.cluster_id == candidate.subject_id).union(
            select(literal(candidate.subject_id)))
        query = query.where(Post.id.in_(cluster))
    elif candidate.subject_type == "source":
        query = query.where(Post.source_id == candidate.subject_id, Verdict.category != "none")
    else:
        query = query.join(PostEntity, PostEntity.post_id == Post.id).where(
            PostEntity.entity_id == candidate.subject_id, Verdict.category != "none")
    rows = session.execute(query.order_by(Post.id).limit(limit)).all()
    return [(post_id, text) for post_id, text in rows if text and text.strip()]


def store_records(session: Session, per_candidate: int = 20) -> Iterator[dict]:
    """Labelled records ``{id, text, label, kind, writer: "store"}`` from decided candidates."""
    decided = select(Candidate).where(
        (Candidate.status.in_(POSITIVE_STATES))
        | ((Candidate.status == "dismissed") & Candidate.reason.is_not(None))
    ).order_by(Candidate.decided_at.is_(None), Candidate.decided_at, Candidate.id)
    latest: dict[str, dict] = {}
    for candidate in session.scalars(decided):
        if candidate.status == "dismissed":
            label, kind = "none", f"dismissed/{candidate.reason}"
        else:
            label = candidate.decision or candidate.category
            if label not in ("sale", "recruitment"):
                continue
            kind = f"{label}/{'spot-check' if candidate.sampled else 'confirmed'}"
        for post_id, text in _evidence_texts(session, candidate, per_candidate):
            digest = hashlib.sha256(text.encode()).hexdigest()
            latest[digest] = {"id": f"store-post-{post_id}", "text": text, "label": label,
                              "kind": kind, "writer": "store", "candidate": candidate.id}
    yield from latest.values()
