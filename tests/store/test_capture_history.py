"""A post reaches every capture that showed it: the newest is its capture, the earlier ones stay
linked, and `kyran capture` shows the newest that verifies, naming the damaged ones. Real crawls
against a local fake t.me, on SQLite and PostgreSQL; records damaged by flipping a byte on disk."""

from datetime import datetime, timedelta, timezone

from sqlalchemy import select, text

from crawler.fixtures.server import FixtureServer
from crawler.fixtures.tme_pages import FakeChannel, FakePost
from crawler.fixtures.tme_world import FakeTelegram
from crawler.items import CaptureRef, ChannelItem, PostItem
from crawler.store.db import Store, open_store
from crawler.store.ingest import record_capture, upsert_channel, upsert_posts
from crawler.store.models import Capture, Post, PostCapture
from tests.conftest import write_config

START = datetime(2026, 10, 1, tzinfo=timezone.utc)


def serve(world):
    def handler(method, target, headers):
        status, answer_headers, body = world.handle(target)
        return status, list(answer_headers.items()), body

    return FixtureServer(handler)


def crawl_twice(tmp_path, db_url, kyran, between=lambda: None):
    world = FakeTelegram()
    world.add_channel(FakeChannel("shop_alpha", 1500000001, "Альфа"),
                      [FakePost(i, START + timedelta(hours=i), f"Пост {i}") for i in range(1, 6)])
    with serve(world) as server:
        config = write_config(tmp_path / "kyran.toml", db_url,
                              f'\n[telegram_preview]\nbase_url = "{server.url}"\n')
        assert kyran("crawl", "telegram", "shop_alpha", config=config).returncode == 0
        between()
        again = kyran("crawl", "telegram", "shop_alpha", config=config)
        assert again.returncode == 0, again.stderr[-2000:]
    return config


def post_and_captures(db_url, external_id="3"):
    store = open_store(db_url)
    with store.reader() as session:
        post = session.scalars(select(Post).where(Post.external_id == external_id)).one()
        linked = session.scalars(select(Capture).join(
            PostCapture, PostCapture.capture_id == Capture.id).where(
            PostCapture.post_id == post.id).order_by(Capture.id)).all()
    store.dispose()
    return post, linked


def damage(tmp_path, capture: Capture) -> None:
    path = tmp_path / "captures" / capture.path
    data = bytearray(path.read_bytes())
    data[capture.offset + capture.length // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_a_recrawl_after_damage_reaches_the_fresh_capture(tmp_path, db_url, kyran):
    def damage_the_first():
        _, (first,) = post_and_captures(db_url)
        damage(tmp_path, first)

    config = crawl_twice(tmp_path, db_url, kyran, damage_the_first)
    post, (first, second) = post_and_captures(db_url)
    assert post.capture_id == second.id  # the newest, while the first stays linked
    shown = kyran("capture", str(post.id), config=config)
    assert shown.returncode == 0, shown.stderr
    assert f"capture {second.id}:" in shown.stdout and "(verified)" in shown.stdout
    assert 'data-post="shop_alpha/3"' in shown.stdout
    assert f"capture {first.id} of post {post.id} (older" in shown.stderr
    assert "does not match its SHA-256" in shown.stderr


def test_a_damaged_newest_capture_falls_back_to_an_older_one(tmp_path, db_url, kyran):
    config = crawl_twice(tmp_path, db_url, kyran)
    post, (first, second) = post_and_captures(db_url)
    assert post.capture_id == second.id
    damage(tmp_path, second)
    shown = kyran("capture", str(post.id), config=config)
    assert shown.returncode == 0, shown.stderr
    assert f"capture {first.id}:" in shown.stdout and "(verified)" in shown.stdout
    assert f"capture {second.id} of post {post.id} (newer" in shown.stderr
    body = kyran("capture", str(post.id), "--body", config=config)
    assert body.returncode == 0 and 'data-post="shop_alpha/3"' in body.stdout

    damage(tmp_path, first)
    none = kyran("capture", str(post.id), config=config)
    assert none.returncode == 1 and "Traceback" not in none.stderr
    assert f"none of the 2 captures of post {post.id} verifies" in none.stderr


def ref(offset: int, minutes: int) -> CaptureRef:
    return CaptureRef(kind="warc", path="2026/11/30/a.warc.gz", offset=offset, length=10,
                      sha256="ab" * 32, url="https://t.me/s/shop_kz",
                      fetched_at=START + timedelta(minutes=minutes), status=200)


def test_every_capture_of_a_post_stays_linked_through_edits(store):
    item = PostItem(source_key="shop_kz", external_id="1", url="https://t.me/shop_kz/1",
                    text="первый текст")
    for offset, text_now in ((0, "первый текст"), (100, "первый текст"), (200, "второй текст")):
        with store.session() as session:
            source = upsert_channel(session, ChannelItem(username="shop_kz", numeric_id=9), "t")
            capture = record_capture(session, ref(offset, offset))
            item.text = text_now
            upsert_posts(session, source, [(item, capture), (item, capture)])
    with store.reader() as session:
        post = session.scalars(select(Post)).one()
        offsets = {c.id: c.offset for c in session.scalars(select(Capture))}
        links = session.execute(select(PostCapture.capture_id)).scalars().all()
        assert offsets[post.capture_id] == 200
        assert sorted(offsets[c] for c in links) == [0, 100, 200]
        assert [offsets[r.capture_id] for r in post.revisions] == [100]  # last to show it


def test_upgrade_links_the_captures_posts_already_had(db_url):
    store = Store(db_url)
    store.upgrade("0002")
    with store.engine.begin() as conn:
        conn.execute(text("INSERT INTO source (id, platform, kind, external_id, handle, verified,"
                          " status, watched, watch_priority, discovered_via, discovery_depth,"
                          " first_seen) VALUES (1, 'telegram', 'channel', '5', 'old_shop', false,"
                          " 'active', true, 50, 'seed', 0, CURRENT_TIMESTAMP)"))
        for cid in (1, 2):
            conn.execute(text("INSERT INTO capture (id, kind, path, \"offset\", length, sha256, "
                              "url, fetched_at, tool_version) VALUES (:id, 'warc', 'a', :id, 1, "
                              "'h', 'u', CURRENT_TIMESTAMP, '')"), {"id": cid})
        conn.execute(text("INSERT INTO post (id, source_id, external_id, url, text, links, "
                          "mentions, content_hash, first_seen, last_seen, edited, capture_id) "
                          "VALUES (1, 1, '1', 'u', 't', '[]', '[]', 'h', CURRENT_TIMESTAMP, "
                          "CURRENT_TIMESTAMP, false, 2)"))
        conn.execute(text("INSERT INTO post_revision (post_id, text, content_hash, capture_id, "
                          "seen_until) VALUES (1, 'old', 'h0', 1, CURRENT_TIMESTAMP)"))
    store.upgrade()
    with store.reader() as session:
        assert sorted(session.execute(select(PostCapture.post_id, PostCapture.capture_id))
                      .all()) == [(1, 1), (1, 2)]
    store.dispose()
