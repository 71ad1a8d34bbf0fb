"""The benchmark's store generator (bench/review_data.py) on both backends, at a small size: the
rows it promises, spans that point at the matched words, and a store the app can go on writing
to (ids and sequences past the generated rows)."""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.review_data import generate  # noqa: E402
from crawler.store.ingest import add_event  # noqa: E402
from crawler.store.models import Candidate, Event, Post, Verdict  # noqa: E402
from crawler.store.views import candidate_view  # noqa: E402


def test_generates_posts_candidates_and_spans(store):
    counts = generate(store, posts=3000, candidates=300, seed=7)
    assert counts["post"] == 3000 and counts["candidate"] == 300 and counts["event"] == 300
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Post)) == 3000
        statuses = set(session.scalars(select(Candidate.status).distinct()))
        assert "open" in statuses and len(statuses) >= 3
        kinds = set(session.scalars(select(Candidate.subject_type).distinct()))
        assert kinds == {"post", "source", "entity"}
        for verdict in session.scalars(select(Verdict).limit(50)):
            text = session.get(Post, verdict.subject_id).text
            for hit in verdict.hits:
                for match in hit["matches"]:
                    start, end = match["span"]
                    assert text[start:end] == match["text"]
        top = session.scalars(select(Candidate).where(Candidate.subject_type == "post")
                              .order_by(Candidate.priority.desc())).first()
        view = candidate_view(session, top.id)
        assert view.evidence and view.entities and view.history
        # the app keeps inserting after the generated rows
        add_event(session, "user:bench", "note", "candidate", top.id, note="after")
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 301


def test_adds_after_existing_rows(store):
    generate(store, posts=500, candidates=50, seed=1)
    counts = generate(store, posts=500, candidates=50, seed=2)
    assert counts["post"] == 500
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Candidate)) == 100
