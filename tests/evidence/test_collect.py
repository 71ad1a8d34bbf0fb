"""Choosing what a package carries (evidence/collect.py): selections by id and by filter, the
pseudonyms reviewers are named by, an imported candidate's origin, and evidence streamed in
chunks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from crawler.store.ingest import add_event
from crawler.store.models import Candidate, Source
from evidence.collect import (Selection, SelectionError, candidate_ids, decision_of,
                              evidence_of, origin_of, reviewer, subject_of)
from tests.evidence.build_world import make_world


@pytest.fixture
def world(tmp_path, db_url, store):
    return make_world(tmp_path, db_url, store)


def ids(store, **selection):
    with store.reader() as session:
        return candidate_ids(session, Selection(**selection), 10_000)


def test_filters_choose_among_confirmed_candidates(store, world):
    first, second = world.confirmed
    assert ids(store, all_confirmed=True) == [first, second]
    assert ids(store, ids=(second, first, second)) == [first, second]
    assert ids(store, category="sale") == [first, second]
    assert ids(store, platform="telegram") == [first, second]
    assert ids(store, since=datetime.now(timezone.utc) - timedelta(days=1)) == [first, second]
    with pytest.raises(SelectionError, match="no candidate matches"):
        ids(store, category="recruitment")
    with pytest.raises(SelectionError, match="no candidate matches"):
        ids(store, platform="web")
    with pytest.raises(SelectionError, match="no candidate matches"):
        ids(store, since=datetime.now(timezone.utc) + timedelta(days=1))
    with pytest.raises(SelectionError, match="unknown platform"):
        ids(store, platform="vk")
    with store.reader() as session:
        with pytest.raises(SelectionError, match="at most 1 in one package"):
            candidate_ids(session, Selection(all_confirmed=True), 1)
    with store.session() as session:
        session.get(Candidate, first).status = "reported"
    assert ids(store, all_confirmed=True) == [second]
    assert ids(store, status="reported") == [first]


def test_reviewers_are_named_by_pseudonym_never_login(store, world):
    with store.session() as session:
        lead = reviewer(session, "user:lead1")
        analyst = reviewer(session, "user:ann")
        assert reviewer(session, "user:gone") == "a former analyst"
        assert reviewer(session, "component:liveness") == "component:liveness"
        decision = decision_of(session, session.get(Candidate, world.confirmed[0]), "Org")
    assert lead == "Eagle"
    assert analyst.startswith("analyst ") and "ann" not in analyst
    assert decision["by"] == "Eagle" and decision["policy"] == "drug-sale"
    assert decision["organisation"] == "Org" and decision["at"].endswith("Z")


def test_an_imported_candidate_names_its_origin(store, world):
    with store.session() as session:
        source = Source(platform="telegram", handle="imported_shop", title="x")
        session.add(source)
        session.flush()
        candidate = Candidate(subject_type="source", subject_id=source.id, category="sale",
                              status="confirmed", origin_org="police", decision="sale",
                              origin_package="11111111-2222-4333-8444-555555555555",
                              origin_decision="sale")
        session.add(candidate)
        session.flush()
        assert origin_of(session, candidate) == [{
            "organisation": "police", "package_id": "11111111-2222-4333-8444-555555555555",
            "decision": "sale", "at": origin_of(session, candidate)[0]["at"]}]
        add_event(session, "user:lead1", "imported", "candidate", candidate.id,
                  organisation="ngo-a", package_id="p-a", decision="sale")
        add_event(session, "user:lead1", "imported", "candidate", candidate.id,
                  organisation="police", package_id="p-b", decision="recruitment")
        session.flush()
        chain = origin_of(session, candidate)
        subject = subject_of(session, candidate)
    assert [(o["organisation"], o["package_id"], o["decision"]) for o in chain] == \
        [("ngo-a", "p-a", "sale"), ("police", "p-b", "recruitment")]
    assert subject["url"] == "https://t.me/imported_shop"


def test_evidence_streams_in_chunks_with_captures_and_missing(store, world):
    with store.reader() as session:
        candidate = session.get(Candidate, world.confirmed[0])
        batches = [[(e.post.external_id, e.capture is not None, e.missing is None,
                     len(e.record or b""), e.entities[:1]) for e in batch]
                   for batch in evidence_of(session, candidate, world.config.captures_path,
                                            chunk=2)]
    assert [len(b) for b in batches] == [2, 2, 1]
    flat = [row for batch in batches for row in batch]
    assert [row[0] for row in flat] == ["1", "2", "3", "500", "600"]
    assert [row[1] for row in flat] == [True, True, True, True, False]
    assert all(row[3] > 0 for row in flat[:4])
    assert flat[0][4] == [("btc", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq")]
