"""Retention on SQLite and PostgreSQL with real WARC files: unscored captures past the period
are dropped and their files compacted; evidence, anything under review or decided, and recent
captures are kept and still read back (`kyran capture`, SHA-256 checked); an interrupted run is
cleaned up by the next one."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from crawler.daemon import retention
from crawler.daemon.retention import run_retention
from crawler.store.captures import CaptureWriter, read_capture
from crawler.store.ingest import QUARANTINE, add_event, record_capture
from crawler.store.models import Capture, Entity, Event, Post, PostCapture, PostEntity
from tests.conftest import write_config
from tests.daemon.ops_helpers import add_candidate, add_post, add_source, add_verdict

NOW = datetime.now(timezone.utc)
OLD = NOW - timedelta(days=100)
PERIOD = 90 * 86400


def age(root, relpath, when=OLD):
    os.utime(root / relpath, (when.timestamp(), when.timestamp()))


def build(store, root):
    """Two old WARC files and one recent one; returns post ids by name and file paths."""
    mixed, doomed, fresh = CaptureWriter(root), CaptureWriter(root), CaptureWriter(root)
    ids = {}

    def ref(writer, name, when=OLD):
        return writer.write_json(f"tg://channel/1/{name}", {"id": name, "message": f"text {name}"},
                                 fetched_at=when)

    with store.session() as session:
        plain = add_source(session, "plain")
        shop = add_source(session, "shop")
        add_candidate(session, "source", shop.id, status="in_review")
        gone = add_source(session, "dismissed_src")
        add_candidate(session, "source", gone.id, status="dismissed")
        bot = Entity(kind="telegram_bot", value="@shop_bot")
        session.add(bot)
        session.flush()
        add_candidate(session, "entity", bot.id, status="open")

        ids["unscored"] = add_post(session, plain, "1", capture_ref=ref(mixed, "1")).id
        none_post = add_post(session, plain, "2", capture_ref=ref(mixed, "2"))
        add_verdict(session, none_post, category="none", score=0.01)
        ids["none"] = none_post.id
        sale = add_post(session, plain, "3", capture_ref=ref(mixed, "3"))
        add_verdict(session, sale)
        ids["sale"] = sale.id
        ids["shop_source"] = add_post(session, shop, "4", capture_ref=ref(mixed, "4")).id
        carrier = add_post(session, plain, "5", capture_ref=ref(mixed, "5"))
        session.add(PostEntity(post_id=carrier.id, entity_id=bot.id))
        ids["entity"] = carrier.id
        ids["dismissed"] = add_post(session, gone, "6", capture_ref=ref(mixed, "6")).id
        decided = add_post(session, plain, "7", capture_ref=ref(mixed, "7"))
        ids["decided"] = decided.id
        add_event(session, "user:ana", "candidate.confirmed", "candidate", 999,
                  posts=[decided.id])
        page = ref(mixed, "page")  # one page showing two posts: one of them is evidence
        ids["page_plain"] = add_post(session, plain, "8", capture_ref=page).id
        flagged = add_post(session, shop, "9")
        flagged.capture_id = session.get(Post, ids["page_plain"]).capture_id
        session.add(PostCapture(post_id=flagged.id, capture_id=flagged.capture_id))
        add_verdict(session, flagged)
        ids["page_flagged"] = flagged.id
        quarantined = record_capture(session, ref(mixed, "quarantined"))
        add_event(session, "component:ingest", QUARANTINE, "source", plain.id,
                  capture_id=quarantined.id)
        ids["orphan_capture"] = quarantined.id

        ids["doomed_a"] = add_post(session, plain, "10", capture_ref=ref(doomed, "10")).id
        ids["doomed_b"] = add_post(session, plain, "11", capture_ref=ref(doomed, "11")).id
        ids["recent"] = add_post(session, plain, "12", capture_ref=ref(fresh, "12", NOW)).id
    for writer in (mixed, doomed, fresh):
        writer.close()
    age(root, mixed.relpath)
    age(root, doomed.relpath)
    return ids, mixed.relpath, doomed.relpath, fresh.relpath


KEPT = ["sale", "shop_source", "entity", "decided", "page_plain", "page_flagged", "recent"]
DROPPED = ["unscored", "none", "dismissed", "doomed_a", "doomed_b"]


def snapshot(store):
    with store.session() as session:
        return {c.id: (c.path, c.offset, c.sha256) for c in session.scalars(select(Capture))}


def capture_of(store, post_id):
    with store.session() as session:
        return session.get(Post, post_id).capture_id


def test_retention_drops_unscored_captures_and_keeps_evidence(tmp_path, db_url, store, kyran):
    config = write_config(tmp_path / "kyran.toml", db_url)
    root = tmp_path / "captures"
    ids, mixed, doomed, fresh = build(store, root)
    before = snapshot(store)
    kept_hashes = {name: before[capture_of(store, ids[name])][2] for name in KEPT}

    dry = kyran("retention", "--dry-run", config=config)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("retention: would drop 5 captures of 5 posts")
    assert snapshot(store) == before and (root / mixed).exists()

    done = kyran("retention", config=config)
    assert done.returncode == 0, done.stderr
    assert "dropped 5 captures of 5 posts" in done.stdout
    assert "1 files compacted, 1 removed" in done.stdout
    assert not (root / mixed).exists() and not (root / doomed).exists()
    assert (root / fresh).exists()

    for name in DROPPED:
        assert capture_of(store, ids[name]) is None, name
    with store.session() as session:
        links = session.scalar(select(func.count()).select_from(PostCapture).where(
            PostCapture.post_id.in_([ids[n] for n in DROPPED])))
        assert links == 0
        assert session.get(Capture, ids["orphan_capture"]) is not None
        [event] = session.scalars(select(Event).where(Event.action == "retention.dropped",
                                                      Event.payload["file"].as_string()
                                                      == mixed)).all()
        assert sorted(event.payload["posts"]) == sorted(
            ids[n] for n in ("unscored", "none", "dismissed"))
        assert event.payload["new_file"].endswith(".warc.gz") and ".compact-" in \
            event.payload["new_file"]

    for name in ("sale", "page_flagged"):  # moved into the compacted file, and shared
        shown = kyran("capture", str(ids[name]), config=config)
        assert shown.returncode == 0, (name, shown.stderr)
        assert f"sha256 {kept_hashes[name]} (verified)" in shown.stdout
    for name in KEPT:
        with store.session() as session:
            capture = session.get(Capture, session.get(Post, ids[name]).capture_id)
        record = read_capture(root, capture.path, capture.offset, capture.length,
                              capture.sha256)
        raw = (root / capture.path).read_bytes()[capture.offset:capture.offset + capture.length]
        assert hashlib.sha256(raw).hexdigest() == kept_hashes[name]
        assert record.record_type == "resource"

    again = kyran("retention", "--json", config=config)
    assert json.loads(again.stdout)["captures_dropped"] == 0


def test_an_interrupted_compaction_is_finished_by_the_next_run(tmp_path, store, monkeypatch):
    root = tmp_path / "captures"
    ids, mixed, doomed, _ = build(store, root)
    before = snapshot(store)

    real_add_event = retention.add_event

    def crash(*args, **payload):
        if payload["file"] == mixed:
            raise RuntimeError("killed before the commit")
        return real_add_event(*args, **payload)

    monkeypatch.setattr(retention, "add_event", crash)
    with pytest.raises(RuntimeError):
        run_retention(store, root, PERIOD, now=NOW)
    monkeypatch.undo()
    leftovers = list(root.rglob("*.compact-*.warc.gz"))
    assert len(leftovers) == 1  # the new file was written, its transaction never committed
    after = snapshot(store)
    assert all(after[i] == before[i] for i in after)  # nothing kept moved
    assert {c[0] for c in after.values()} >= {mixed} and (root / mixed).exists()

    report = run_retention(store, root, PERIOD, now=NOW)
    assert report.leftovers_removed == 1 and not leftovers[0].exists()
    assert not (root / mixed).exists()
    assert all(capture_of(store, ids[name]) is None for name in DROPPED)
    for name in KEPT:
        with store.session() as session:
            c = session.get(Capture, session.get(Post, ids[name]).capture_id)
        assert read_capture(root, c.path, c.offset, c.length, c.sha256)


def test_an_old_file_left_after_the_commit_is_removed_next_time(tmp_path, store):
    root = tmp_path / "captures"
    _, mixed, _, _ = build(store, root)
    copy = tmp_path / "copy.warc.gz"
    shutil.copy(root / mixed, copy)
    run_retention(store, root, PERIOD, now=NOW)
    shutil.copy(copy, root / mixed)  # as if killed between the commit and the removal
    report = run_retention(store, root, PERIOD, now=NOW)
    assert report.leftovers_removed == 1 and not (root / mixed).exists()
    assert report.captures_dropped == 0


def test_files_written_since_the_cutoff_are_left_alone(tmp_path, store):
    root = tmp_path / "captures"
    ids, mixed, doomed, _ = build(store, root)
    age(root, mixed, NOW)  # a crawl may still be appending to it
    report = run_retention(store, root, PERIOD, now=NOW)
    assert report.captures_dropped == 2  # only the other file's
    assert any(s.startswith(f"{mixed}: written to since") for s in report.files_skipped)
    assert capture_of(store, ids["unscored"]) is not None and (root / mixed).exists()


def test_a_damaged_record_to_keep_stops_that_files_compaction(tmp_path, store):
    root = tmp_path / "captures"
    ids, mixed, _, _ = build(store, root)
    with store.session() as session:
        victim = session.get(Capture, session.get(Post, ids["sale"]).capture_id)
    data = bytearray((root / mixed).read_bytes())
    data[victim.offset + 20] ^= 0xFF
    (root / mixed).write_bytes(bytes(data))
    age(root, mixed)
    report = run_retention(store, root, PERIOD, now=NOW)
    assert any("a record to keep is damaged" in s for s in report.files_skipped)
    assert capture_of(store, ids["unscored"]) is not None and (root / mixed).exists()
    assert not list(root.rglob("*.compact-*"))


def test_a_post_flagged_while_retention_runs_keeps_its_capture(tmp_path, store, monkeypatch):
    """Between choosing what to drop and dropping it, a crawl flags a post: it is kept."""
    root = tmp_path / "captures"
    ids, mixed, _, _ = build(store, root)
    real_compact = retention._compact_file
    flagged = []

    def flag_meanwhile(*args, **kwargs):
        if not flagged:  # after the choice, before the first file is dropped
            with store.session() as other:
                add_verdict(other, other.get(Post, ids["unscored"]))
                add_verdict(other, other.get(Post, ids["doomed_a"]))
            flagged.append(True)
        return real_compact(*args, **kwargs)

    monkeypatch.setattr(retention, "_compact_file", flag_meanwhile)
    report = run_retention(store, root, PERIOD, now=NOW)
    assert capture_of(store, ids["unscored"]) is not None
    assert capture_of(store, ids["doomed_a"]) is not None
    assert sum("became evidence meanwhile" in s for s in report.files_skipped) == 2
    assert not list(root.rglob("*.compact-*"))
    assert (root / mixed).exists()
