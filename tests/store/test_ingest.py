"""Ingest into the store, on SQLite and PostgreSQL: upserts, edits with history, renames."""

from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from crawler.items import CaptureRef, ChannelItem, PostItem
from crawler.store.ingest import record_capture, upsert_channel, upsert_posts, watch
from crawler.store.models import Capture, Event, Post, PostRevision, Source
from tests.conftest import run_concurrently

ACTOR = "component:test"


def upsert_post(session, source, item, capture):
    """One post through the batch upsert the chain uses."""
    return upsert_posts(session, source, [(item, capture)])[0]


def post_item(text="Продаю шишки", views=10, external_id="101", **extra):
    return PostItem(source_key="shop_kz", external_id=external_id,
                    url=f"https://t.me/shop_kz/{external_id}", text=text, views=views,
                    posted_at=datetime(2026, 11, 1, 12, tzinfo=timezone.utc), **extra)


def capture_ref(offset=0):
    return CaptureRef(kind="warc", path="2026/11/25/a.warc.gz", offset=offset, length=10,
                      sha256="ab" * 32, url="https://t.me/s/shop_kz",
                      fetched_at=datetime.now(timezone.utc), status=200)


def test_fresh_store_is_migrated_to_head(store):
    assert store.current_revision() == store.head_revision() is not None


def test_reingest_updates_and_never_duplicates(store):
    with store.session() as session:
        source = upsert_channel(session, ChannelItem(username="Shop_KZ", numeric_id=777,
                                                     title="Shop", subscribers=1200), ACTOR)
        capture = record_capture(session, capture_ref())
        post, change = upsert_post(session, source, post_item(), capture)
        assert change == "new" and post.capture_id == capture.id
    with store.session() as session:
        source = session.scalars(select(Source)).one()
        _, change = upsert_post(session, source, post_item(views=25), None)
        assert change == "updated"
        _, change = upsert_post(session, source, post_item(views=25), None)
        assert change == "unchanged"
    with store.session() as session:
        post = session.scalars(select(Post)).one()
        assert post.views == 25
        assert session.scalar(select(func.count()).select_from(Post)) == 1
        assert session.scalars(select(Source)).one().handle == "shop_kz"


def test_an_edit_keeps_the_earlier_text(store):
    with store.session() as session:
        source = upsert_channel(session, ChannelItem(username="shop_kz", numeric_id=777), ACTOR)
        first = record_capture(session, capture_ref(0))
        upsert_post(session, source, post_item(text="Первый текст"), first)
    with store.session() as session:
        source = session.scalars(select(Source)).one()
        second = record_capture(session, capture_ref(100))
        post, change = upsert_post(session, source, post_item(text="Второй текст", edited=True),
                                   second)
        assert change == "edited"
    with store.session() as session:
        post = session.scalars(select(Post)).one()
        assert post.text == "Второй текст" and post.edited and post.edited_at is not None
        revision = session.scalars(select(PostRevision)).one()
        assert revision.text == "Первый текст"
        assert revision.capture_id != post.capture_id
        actions = session.scalars(select(Event.action)).all()
        assert "post.edited" in actions


def test_a_rename_keeps_the_source_and_records_the_old_name(store):
    with store.session() as session:
        source = upsert_channel(session, ChannelItem(username="old_name", numeric_id=42), ACTOR)
        upsert_post(session, source, post_item(), None)
        watch(session, "telegram", "new_name")  # the new name was discovered separately
    with store.session() as session:
        upsert_channel(session, ChannelItem(username="new_name", numeric_id=42), ACTOR)
    with store.session() as session:
        sources = session.scalars(select(Source)).all()
        assert [(s.handle, s.external_id) for s in sources if s.status != "merged"] == [
            ("new_name", "42")]
        assert [(s.handle, s.watched) for s in sources if s.status == "merged"] == [
            (None, False)]  # the folded watch entry stays, nameless, for its history
        assert session.scalar(select(func.count()).select_from(Post)) == 1
        renamed = session.scalars(select(Event).where(Event.action == "source.renamed")).one()
        assert renamed.payload == {"old": "old_name", "new": "new_name", "numeric_id": 42}


def test_status_changes_are_events(store):
    with store.session() as session:
        upsert_channel(session, ChannelItem(username="gone_shop", status="empty"), ACTOR)
    with store.session() as session:
        upsert_channel(session, ChannelItem(username="gone_shop", status="no_preview"), ACTOR)
        statuses = session.scalars(
            select(Event).where(Event.action == "source.status").order_by(Event.id)).all()
        assert [(e.payload["old"], e.payload["new"]) for e in statuses] == [
            ("unknown", "empty"), ("empty", "no_preview")]


def test_concurrent_writers_create_one_row_each(store):
    """Crawls storing the same channel, capture and post at once: no duplicates. A post insert
    that loses the race fails on its unique key and is redone, as the chain does."""
    def writer(_):
        for _ in range(5):
            for attempt in (1, 2):
                try:
                    with store.session() as session:
                        source = upsert_channel(
                            session, ChannelItem(username="busy", numeric_id=9), ACTOR)
                        capture = record_capture(session, capture_ref())
                        upsert_post(session, source, post_item(), capture)
                    break
                except IntegrityError:
                    if attempt == 2:
                        raise

    assert run_concurrently(writer, 4) == []
    with store.session() as session:
        for model in (Source, Capture, Post):
            assert session.scalar(select(func.count()).select_from(model)) == 1


def test_a_name_taken_over_by_another_channel_never_mixes_their_posts(store):
    with store.session() as session:
        first = upsert_channel(session, ChannelItem(username="foo_shop", numeric_id=100,
                                                    title="X"), ACTOR)
        upsert_post(session, first, post_item(text="пост канала X", external_id="5"), None)
    with store.session() as session:  # channel 200 now uses the name
        second = upsert_channel(session, ChannelItem(username="foo_shop", numeric_id=200,
                                                     title="Y"), ACTOR)
        _, change = upsert_post(session, second, post_item(text="пост канала Y",
                                                           external_id="5"), None)
        assert change == "new"
    with store.session() as session:
        by_id = {s.external_id: s for s in session.scalars(select(Source))}
        assert by_id["100"].handle is None and by_id["100"].title == "X"
        assert by_id["200"].handle == "foo_shop" and by_id["200"].title == "Y"
        texts = {p.source_id: p.text for p in session.scalars(select(Post))}
        assert texts == {by_id["100"].id: "пост канала X", by_id["200"].id: "пост канала Y"}
        assert session.scalars(select(PostRevision)).all() == []
        released = session.scalars(select(Event).where(
            Event.action == "source.handle_released")).one()
        assert released.payload == {"handle": "foo_shop", "now_used_by": 200}


def test_a_watch_entry_with_posts_folds_into_the_known_channel(store):
    with store.session() as session:
        known = upsert_channel(session, ChannelItem(username="old_name", numeric_id=42), ACTOR)
        entry = watch(session, "telegram", "new_name")
        upsert_post(session, entry, post_item(external_id="9"), None)
    with store.session() as session:
        upsert_channel(session, ChannelItem(username="new_name", numeric_id=42), ACTOR)
    with store.session() as session:
        known = session.scalars(select(Source).where(Source.external_id == "42")).one()
        assert known.handle == "new_name"
        assert [p.source_id for p in session.scalars(select(Post))] == [known.id]
