"""The package builder on SQLite and PostgreSQL: every file listed with its hash, a signature that
verifies, WARC records warcio reads with their stored hashes, a STIX bundle stix2 parses, entry
names never taken from scraped text, missing captures reported, and the reported events."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
import zipfile

import pytest
from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator

from crawler.store.models import Candidate, Capture, Event
from crawler.store.models_ops import EvidencePackage
from evidence import keys, names
from evidence.build import BuildError, build_package
from evidence.collect import Selection, SelectionError
from evidence.manifest import canonical
from evidence.stix import parse_bundle
from tests.evidence.build_world import HOSTILE_TITLE, make_world

FIXED = {names.POSTS_CSV, names.POSTS_JSONL, names.URLS, names.INDICATORS, names.REPORT_HTML,
         names.REPORT_PDF, names.WARC, names.WACZ, names.MTPROTO, *names.MANIFEST_ENTRIES}


@pytest.fixture
def world(tmp_path, db_url, store):
    return make_world(tmp_path, db_url, store)


def export(store, world, **selection):
    return build_package(store, world.config, Selection(**(selection or
                                                           {"all_confirmed": True})),
                         "telegram", world.lead)


def check_package(path) -> dict:
    """What a verifier checks, done by hand: names, entries == files + manifest entries, each
    size and SHA-256, the signature with the embedded key. The manifest."""
    with zipfile.ZipFile(path) as archive:
        entries = {info.filename: archive.read(info) for info in archive.infolist()}
    raw = entries[names.MANIFEST]
    manifest = json.loads(raw)
    assert raw == canonical(manifest)  # canonical bytes
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(entries) == set(listed) | {n for n in names.MANIFEST_ENTRIES if n in entries}
    seen = names.NameSet()
    for name, data in entries.items():
        seen.add(name)
        if name in listed:
            assert listed[name]["size"] == len(data), name
            assert listed[name]["sha256"] == hashlib.sha256(data).hexdigest(), name
    key = keys.parse_public_key(manifest["signing_key"]["public_key"].encode())
    assert manifest["signing_key"]["fingerprint"] == keys.fingerprint(key)
    signature = keys.decode_signature(entries[names.SIGNATURE])
    assert keys.verify(key, signature, raw)
    return manifest


def test_manifest_lists_every_file_with_its_hash_and_is_signed(store, world):
    result = export(store, world)
    manifest = check_package(result.path)
    assert result.path.name == f"kyran-{result.package_id}.zip"
    assert manifest["package_id"] == result.package_id
    assert manifest["format"] == "kyran-evidence-package" and manifest["format_version"] == 1
    assert manifest["recipient"] == {"profile": "telegram", "languages": ["ru", "kk", "en"]}
    assert manifest["created_by"] == {"organisation": "Volunteers KZ",
                                      "organisation_id": "volunteers", "user": "Eagle"}
    on_disk = keys.load_private_key(world.config.resolve(world.config.evidence.signing_key_file))
    assert manifest["signing_key"]["fingerprint"] == keys.fingerprint(on_disk)
    paths = {f["path"] for f in manifest["files"]}
    assert {names.POSTS_CSV, names.POSTS_JSONL, names.URLS, names.INDICATORS,
            names.REPORT_HTML, names.WARC, names.MTPROTO, "requests/telegram.ru.txt",
            "requests/telegram.kk.txt", "requests/telegram.en.txt"} <= paths
    subjects = manifest["subjects"]
    assert [s["candidate_id"] for s in subjects] == world.confirmed
    assert subjects[0]["handle"] == "shop_kz" and subjects[0]["numeric_id"] == 1234567
    assert subjects[0]["decision"]["by"] == "Eagle"  # a pseudonym, never the login name
    assert "lead1" not in json.dumps(manifest)
    assert subjects[1]["type"] == "entity" and subjects[1]["url"] == "https://t.me/shop_kz_bot"
    refs = [i["ref"] for i in manifest["items"]]
    assert refs == [f"P{n}" for n in range(1, len(refs) + 1)]
    assert sum(len(s["items"]) for s in subjects) == len(refs) == result.items == 10
    item = manifest["items"][0]
    assert [step["action"] for step in item["custody"]] == ["captured", "reviewed", "exported"]
    assert item["custody"][-1]["package_id"] == result.package_id


def test_a_tampered_byte_breaks_hash_or_signature(store, world, tmp_path):
    result = export(store, world)
    with zipfile.ZipFile(result.path) as archive:
        entries = {i.filename: archive.read(i) for i in archive.infolist()}
    manifest = json.loads(entries[names.MANIFEST])
    csv_bytes = bytearray(entries[names.POSTS_CSV])
    csv_bytes[5] ^= 1
    listed = {f["path"]: f["sha256"] for f in manifest["files"]}
    assert hashlib.sha256(csv_bytes).hexdigest() != listed[names.POSTS_CSV]
    key = keys.parse_public_key(manifest["signing_key"]["public_key"].encode())
    changed = entries[names.MANIFEST].replace(b'"Eagle"', b'"Eaglf"')
    assert not keys.verify(key, keys.decode_signature(entries[names.SIGNATURE]), changed)


def test_warcio_reads_the_records_with_their_stored_hashes(store, world):
    result = export(store, world)
    manifest = check_package(result.path)
    with zipfile.ZipFile(result.path) as archive:
        warc = archive.read(names.WARC)
        mtproto = [json.loads(line) for line in archive.read(names.MTPROTO).splitlines()]
    records = list(ArchiveIterator(io.BytesIO(warc)))
    assert len(records) == 3  # each record once, though two subjects cite the same posts
    with store.reader() as session:
        stored = {c.sha256: c for c in session.scalars(select(Capture))}
    web_items = [i for i in manifest["items"] if i["capture"] and
                 i["capture"]["file"] == names.WARC]
    assert len(web_items) == 6
    for item in web_items:
        capture = item["capture"]
        record = warc[capture["offset"]:capture["offset"] + capture["length"]]
        assert hashlib.sha256(record).hexdigest() == capture["sha256"]
        assert capture["sha256"] in stored
        parsed = next(iter(ArchiveIterator(io.BytesIO(record))))
        assert parsed.rec_headers.get_header("WARC-Record-ID") == capture["record_id"]
        assert parsed.http_headers.get_statuscode() == "200"
        assert b"tgme_widget_message" in parsed.content_stream().read()
        assert capture["component"] == "spider:telegram-preview"
    assert len(mtproto) == 1
    line = mtproto[0]
    assert line["message"]["message"] == "закладки, пиши @shop_kz_bot"
    payload = json.dumps(line["message"], ensure_ascii=False, sort_keys=True).encode()
    assert hashlib.sha256(payload).hexdigest() == line["payload_sha256"]
    mt_items = [i for i in manifest["items"] if i["capture"] and
                i["capture"]["file"] == names.MTPROTO]
    assert mt_items and mt_items[0]["capture"]["component"] == "monitor:telegram"
    assert mt_items[0]["capture"]["record_id"] == line["record_id"]


def test_stix_bundle_parses_with_the_shop_and_its_indicators(store, world):
    result = export(store, world)
    with zipfile.ZipFile(result.path) as archive:
        bundle = parse_bundle(archive.read(names.INDICATORS))
    by_type: dict[str, list] = {}
    for obj in bundle.objects:
        by_type.setdefault(obj["type"], []).append(obj)
    assert len(by_type["threat-actor"]) == 2
    assert by_type["identity"][0]["name"] == "Volunteers KZ"
    accounts = {(a["account_type"], a["account_login"]) for a in by_type["user-account"]}
    assert ("telegram", "shop_kz") in accounts and ("telegram", "shop_kz_bot") in accounts
    assert {u["value"] for u in by_type["url"]} >= {"https://shop.example.kz/buy?x=1"}
    assert {d["value"] for d in by_type["domain-name"]} == {"shop.example.kz"}
    assert by_type["x-kyran-wallet"][0]["currency"] == "btc"
    ids = {o["id"] for o in bundle.objects}
    assert len(ids) == len(bundle.objects)
    for relation in by_type["relationship"]:
        assert relation["source_ref"] in ids and relation["target_ref"] in ids
    assert "+77011234567" not in json.dumps([dict(o) for o in bundle.objects], default=str)


def test_hostile_titles_and_texts_never_become_entry_names(store, world):
    result = export(store, world)
    with zipfile.ZipFile(result.path) as archive:
        entries = archive.namelist()
        report = archive.read(names.REPORT_HTML).decode()
        rows = list(csv.reader(io.StringIO(archive.read(names.POSTS_CSV).decode())))
    pattern = re.compile(r"(requests/telegram\.(ru|kk|en)\.txt)")
    assert all(name in FIXED or pattern.fullmatch(name) for name in entries), entries
    manifest = check_package(result.path)
    assert manifest["subjects"][0]["title"] == HOSTILE_TITLE  # kept exact inside the JSON
    assert "\u202e" not in report and "\x1b" not in report and "<script" not in report
    assert "Content-Security-Policy" in report
    header = rows[0]
    assert header == ["ref", "subject", "url", "channel", "post_id", "posted_at", "text",
                      "views", "indicators", "verdict", "score", "capture_sha256"]
    texts = [row[header.index("text")] for row in rows[1:]]
    assert texts[0].startswith("'=cmd")  # no formula injection
    assert any(t.startswith("'+7 701") for t in texts)


def test_a_capture_dropped_by_retention_is_reported_not_skipped(store, world):
    result = export(store, world)
    manifest = check_package(result.path)
    dropped = [i for i in manifest["items"] if i["url"].endswith("/600")]
    assert len(dropped) == 2  # cited by both subjects
    for item in dropped:
        assert item["capture"] is None
        assert "dropped by retention" in item["missing"]
        assert [s["action"] for s in item["custody"]] == ["reviewed", "exported"]
    assert result.missing == 2
    assert manifest["summary"]["missing_captures"] == 2


def test_a_damaged_capture_is_reported_missing_with_the_reason(store, world):
    with store.session() as session:
        capture = session.scalars(select(Capture).where(Capture.kind == "mtproto-json")).one()
        path = world.config.captures_path / capture.path
        data = bytearray(path.read_bytes())
        data[capture.offset + 20] ^= 0xFF
        path.write_bytes(bytes(data))
    manifest = check_package(export(store, world).path)
    item = next(i for i in manifest["items"] if i["url"].endswith("/500"))
    assert item["capture"] is None and "does not match its SHA-256" in item["missing"]


def test_export_records_package_reported_events_and_status(store, world):
    result = export(store, world)
    with store.reader() as session:
        statuses = {c.id: c.status for c in session.scalars(select(Candidate))}
        events = session.scalars(select(Event).where(Event.action == "reported")
                                 .order_by(Event.subject_id)).all()
        package = session.scalars(select(EvidencePackage)).one()
    assert [statuses[i] for i in world.confirmed] == ["reported", "reported"]
    assert statuses[world.open_id] == "open"
    assert [(e.subject_type, e.subject_id, e.actor) for e in events] == \
        [("candidate", i, "user:lead1") for i in world.confirmed]
    assert all(e.payload["package_id"] == result.package_id and
               e.payload["recipient"] == "telegram" for e in events)
    assert (package.direction, package.recipient, package.sha256, package.size,
            package.subjects, package.posts) == ("out", "telegram", result.sha256,
                                                  result.path.stat().st_size, 2, 10)
    assert hashlib.sha256(result.path.read_bytes()).hexdigest() == result.sha256
    from monitors.liveness import subjects

    with store.reader() as session:
        watched = {(s.subject_type, s.subject_id) for s in subjects(session, world.config)}
    assert len(watched) == 2  # the liveness monitor now watches both
    # confirmed and not yet reported: nothing left
    with pytest.raises(SelectionError, match="no candidate"):
        export(store, world)
    again = build_package(store, world.config, Selection(ids=tuple(world.confirmed)),
                          "regulator", world.lead)  # a re-report keeps them reported
    assert again.package_id != result.package_id


@pytest.mark.parametrize("selection, message", [
    ({"ids": (999,)}, "#999: no such candidate"),
    ({"status": "open"}, "cannot be exported"),
    ({}, "nothing selected"),
    ({"ids": (1,), "all_confirmed": True}, "not several"),
])
def test_bad_selections_say_why_and_leave_nothing(store, world, selection, message):
    with pytest.raises(SelectionError, match=message):
        build_package(store, world.config, Selection(**selection), "generic", world.lead)
    assert not list((world.config.home / "packages").glob("*.zip"))


def test_an_open_candidate_is_refused(store, world):
    with pytest.raises(SelectionError, match=f"#{world.open_id}: is open, not confirmed"):
        export(store, world, ids=(world.open_id, *world.confirmed))


def test_only_leads_export_and_a_key_is_needed(store, world):
    with pytest.raises(BuildError, match="needs the lead role"):
        build_package(store, world.config, Selection(all_confirmed=True), "generic",
                      world.analyst)
    with pytest.raises(BuildError, match="no user"):
        build_package(store, world.config, Selection(all_confirmed=True), "generic", "nobody")
    with pytest.raises(BuildError, match="unknown recipient"):
        build_package(store, world.config, Selection(all_confirmed=True), "../x", world.lead)
    world.config.resolve(world.config.evidence.signing_key_file).unlink()
    with pytest.raises(BuildError, match="kyran keys generate"):
        export(store, world)


def test_the_signature_uses_the_configured_key(store, world):
    manifest = check_package(export(store, world).path)
    public = base64.b64decode(manifest["signing_key"]["public_key"])
    on_disk = keys.load_private_key(world.config.resolve(world.config.evidence.signing_key_file))
    assert public == keys.public_raw(on_disk)
