"""Import between two organisations' stores (SQLite and PostgreSQL): a package exported by A
comes into B as open candidates marked with their origin, nothing B holds is duplicated, a
re-import changes nothing, anything wrong refuses the whole package with nothing written, and
B's own export of an imported candidate names both organisations in its custody."""

from __future__ import annotations

import json
import zipfile

import pytest
from sqlalchemy import func, select

from crawler.store.captures import read_capture, read_record_bytes
from crawler.store.models import (Candidate, Capture, Entity, Event, Post, PostEntity, Source,
                                  Verdict)
from crawler.store.models_ops import EvidencePackage
from crawler.store.views import candidate_view
from evidence.importer import ImportRefused, import_package
from evidence.keys import TrustedKeys
from evidence.verify import verify_package
from tests.evidence import exchange_world
from tests.evidence.exchange_world import export, seed_confirmed
from tests.evidence.package_maker import members_of, rewrite

pair = exchange_world.pair  # the fixture: organisations a and b, b trusting a
TABLES = (Candidate, Capture, Entity, Event, Post, PostEntity, Source, Verdict, EvidencePackage)


def counts(side) -> dict[str, int]:
    with side.store.reader() as session:
        return {t.__tablename__: session.scalar(select(func.count()).select_from(t))
                for t in TABLES}


def run_import(side, path, org="a", trusted=None):
    return import_package(side.store, path, org, trusted or side.trusted,
                          side.config.captures_path)


def test_export_on_a_import_on_b(pair):
    a, b = pair
    package = export(a, [seed_confirmed(a)])
    manifest = verify_package(package, a.public_key).manifest
    result = run_import(b, package)
    assert result.counts == {"candidates": 1, "candidates_known": 0, "sources": 1, "posts": 3,
                             "posts_known": 0, "captures": 3, "captures_known": 0,
                             "indicators": 1}
    assert result.summary().startswith(f"imported package {manifest['package_id']} from a: "
                                       "1 new candidates")
    with b.store.reader() as session:
        candidate = session.scalars(select(Candidate)).one()
        assert (candidate.status, candidate.origin_org, candidate.origin_package,
                candidate.origin_decision, candidate.category) == \
            ("open", "a", manifest["package_id"], "sale", "sale")
        source = session.get(Source, candidate.subject_id)
        assert (candidate.subject_type, source.handle, source.external_id, source.title) == \
            ("source", "shop_kz", "1234567", "Магазин «Снег»")
        event = session.scalars(select(Event).where(Event.action == "candidate.imported")).one()
        assert event.subject_id == candidate.id
        assert event.payload["organisation"] == "a"
        assert event.payload["package_id"] == manifest["package_id"]
        assert event.payload["decision"] == "sale" and event.payload["policy"] == "drug-sale"
        view = candidate_view(session, candidate.id)
        assert sorted(e.post.text for e in view.evidence) == sorted(
            f"Закладки {n} =SUM(A1) пиши @shop_kz_bot" for n in (1, 2, 3))
        assert [(e.kind, e.value) for e, _, _ in view.entities] == \
            [("telegram_bot", "shop_kz_bot")]
        # the sender's verdicts come without the model's reasons: none, not missing
        assert [v.contributions for v in session.scalars(select(Verdict))] == [[], [], []]
        row = session.scalars(select(EvidencePackage)).one()
        assert (row.direction, row.organisation, row.package_id, row.subjects, row.posts) == \
            ("in", "a", manifest["package_id"], 1, 3)
        captures = session.scalars(select(Capture).order_by(Capture.id)).all()
    with a.store.reader() as session:
        sent = {c.sha256: c for c in session.scalars(select(Capture))}
    web = [c for c in captures if c.kind == "warc"]
    assert len(web) == 2 and {c.sha256 for c in web} <= set(sent)  # byte for byte
    for capture in web:
        data = read_record_bytes(b.config.captures_path, capture.path, capture.offset,
                                 capture.length, capture.sha256)
        original = sent[capture.sha256]
        assert data == read_record_bytes(a.config.captures_path, original.path,
                                         original.offset, original.length, original.sha256)
    [mtproto] = [c for c in captures if c.kind == "mtproto-json"]
    record = read_capture(b.config.captures_path, mtproto.path, mtproto.offset,
                          mtproto.length, mtproto.sha256)
    assert json.loads(record.payload) == {"id": 3, "message":
                                          "Закладки 3 =SUM(A1) пиши @shop_kz_bot",
                                          "peer": "shop_kz"}
    assert mtproto.url == "https://t.me/shop_kz/3"


def test_a_reimport_changes_nothing_and_says_so(pair):
    a, b = pair
    package = export(a, [seed_confirmed(a)])
    run_import(b, package)
    before = counts(b)
    again = run_import(b, package)
    assert again.already and again.summary().endswith("was imported before: nothing changed")
    assert counts(b) == before


def test_what_the_receiver_holds_is_not_duplicated(pair):
    a, b = pair
    own = seed_confirmed(b, posts=1)  # B found the same channel itself (its post 1)
    package = export(a, [seed_confirmed(a)])
    result = run_import(b, package)
    assert result.counts["candidates_known"] == 1 and result.counts["candidates"] == 0
    assert result.counts["sources"] == 0 and result.counts["indicators"] == 0
    assert (result.counts["posts"], result.counts["posts_known"]) == (2, 1)
    with b.store.reader() as session:
        candidate = session.get(Candidate, own)
        assert (candidate.status, candidate.origin_org) == ("confirmed", None)
        assert session.scalar(select(func.count()).select_from(Source)) == 1
        event = session.scalars(select(Event).where(Event.action == "partner.confirmed")).one()
        assert event.subject_id == own and event.payload["organisation"] == "a"

    second = export(a, [1])  # the same candidate again (now reported): a new package
    result = run_import(b, second)
    assert not result.already
    assert (result.counts["posts"], result.counts["captures"], result.counts["sources"]) == \
        (0, 0, 0)
    assert result.counts["captures_known"] == 3 and result.counts["posts_known"] == 3


def test_a_second_channel_by_a_renamed_handle_is_the_same_source(pair):
    a, b = pair
    seed_confirmed(b, channel="old_name", numeric_id=1234567, posts=1)
    result = run_import(b, export(a, [seed_confirmed(a, channel="shop_kz")]))
    assert result.counts["sources"] == 0 and result.counts["candidates_known"] == 1


def assert_refused(b, package, says: str, **kwargs) -> None:
    before = counts(b)
    files = sorted(p for p in b.config.captures_path.rglob("*") if p.is_file()) \
        if b.config.captures_path.exists() else []
    with pytest.raises(ImportRefused) as caught:
        run_import(b, package, **kwargs)
    assert any(says in line for line in caught.value.problems), caught.value.problems
    assert counts(b) == before
    after = sorted(p for p in b.config.captures_path.rglob("*") if p.is_file()) \
        if b.config.captures_path.exists() else []
    assert after == files


def test_an_untrusted_sender_is_refused(pair, tmp_path):
    a, b = pair
    package = export(a, [seed_confirmed(a)])
    assert_refused(b, package, "no key is trusted for organisation 'c'", org="c")
    assert_refused(b, package, "no key is trusted", trusted=TrustedKeys(tmp_path / "none"))


def test_a_package_signed_by_another_than_the_trusted_key_is_refused(pair, tmp_path):
    a, b = pair
    package = export(a, [seed_confirmed(a)])
    other = TrustedKeys(tmp_path / "other")
    other.add("a", b.public_key)  # B's own key trusted as A's: the signature fails
    assert_refused(b, package, "manifest.sig does not verify with the given key", trusted=other)


def test_a_sender_posing_as_another_is_refused(pair):
    a, b = pair
    b.trusted.add("c", a.public_key)
    assert_refused(b, export(a, [seed_confirmed(a)]), "comes from 'a', not 'c'", org="c")


@pytest.mark.parametrize("member", ["posts.jsonl", "captures/web.warc.gz", "manifest.json"])
def test_a_tampered_package_is_refused_whole(pair, member):
    a, b = pair
    package = export(a, [seed_confirmed(a)])
    members = members_of(package)
    members[member] = members[member].replace(b"shop_kz", b"shop_kx", 1) \
        if b"shop_kz" in members[member] else members[member] + b"\n"
    rewrite(package, members)
    assert_refused(b, package, "")


def test_an_imported_candidate_reexported_names_both_organisations(pair):
    a, b = pair
    result = run_import(b, export(a, [seed_confirmed(a)]))
    from review.decisions import decide
    from crawler.store.models import User

    with b.store.session() as session:
        lead = session.scalars(select(User)).one()
        decide(session, lead, result.candidate_ids[0], "confirm", policy="drug-sale",
               category="sale")
    package = export(b, result.candidate_ids)
    report = verify_package(package, b.public_key)
    assert report.ok, report.problems
    manifest = report.manifest
    [subject] = manifest["subjects"]
    assert subject["origin"][0]["organisation"] == "a"
    assert subject["origin"][0]["package_id"] == result.package_id
    for item in manifest["items"]:
        steps = [(s["action"], s["organisation"], s.get("from")) for s in item["custody"]]
        assert steps[0] == ("captured", "a", None)
        assert ("imported", "Org b", "a") in steps
        assert steps[-1] == ("exported", "Org b", None)
    with zipfile.ZipFile(package) as archive:
        assert b"shop_kz" in archive.read("urls.txt")


def signed_by(side):
    from evidence.keys import load_private_key

    return load_private_key(side.config.resolve(side.config.evidence.signing_key_file))


def test_a_package_made_to_the_spec_alone_imports(pair, tmp_path):
    """A package that gives captures by hash and record id only (no offsets or lines, as the
    spec's example) is imported the same: records found in the WARC by their SHA-256."""
    from tests.evidence.package_maker import make_package

    a, b = pair
    package = tmp_path / "spec.zip"
    make_package(package, signed_by(a), organisation="a", posts=2)
    result = run_import(b, package)
    assert (result.counts["posts"], result.counts["captures"], result.counts["candidates"]) == \
        (2, 2, 1)
    with b.store.reader() as session:
        for capture in session.scalars(select(Capture)):
            assert read_record_bytes(b.config.captures_path, capture.path, capture.offset,
                                     capture.length, capture.sha256)


@pytest.mark.parametrize("channel", ["../../etc", "shop\x1bkz", "ab"])
def test_a_signed_package_with_a_hostile_channel_name_is_refused(pair, tmp_path, channel):
    from tests.evidence.package_maker import make_package

    a, b = pair
    package = tmp_path / "hostile.zip"
    make_package(package, signed_by(a), organisation="a", channel=channel)
    assert_refused(b, package, "is not a Telegram username")


def test_the_same_package_imported_twice_at_once_comes_in_once(pair):
    from tests.conftest import run_concurrently

    a, b = pair
    package = export(a, [seed_confirmed(a)])
    results = []
    errors = run_concurrently(lambda _: results.append(run_import(b, package)), 2)
    assert errors == []
    assert sorted(r.already for r in results) == [False, True]
    assert counts(b)["candidate"] == 1 and counts(b)["evidence_package"] == 1
    assert sum(1 for p in b.config.captures_path.rglob("*.warc.gz")) == 1  # the loser's removed


def test_an_entity_candidate_comes_in_on_the_same_indicator(pair):
    a, b = pair
    result = run_import(b, export(a, [seed_confirmed(a, subject="entity")]))
    assert result.counts["candidates"] == 1 and result.counts["posts"] == 3
    with b.store.reader() as session:
        candidate = session.scalars(select(Candidate)).one()
        entity = session.get(Entity, candidate.subject_id)
        assert (candidate.subject_type, entity.kind, entity.value) == \
            ("entity", "telegram_bot", "shop_kz_bot")
        assert session.scalars(select(Source.handle)).all() == ["shop_kz"]
        assert len(candidate_view(session, candidate.id).evidence) == 3
