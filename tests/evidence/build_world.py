"""A store with confirmed candidates to export, for the package builder's tests: a Telegram shop
channel with a hostile title and handle-like text, posts captured as real WARC records (and one
over MTProto), one post whose capture was dropped, indicators, verdicts, and decisions made
through the review library (the same events the web app records)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from crawler.config import load_config
from crawler.store.captures import CaptureWriter
from crawler.store.ingest import record_capture
from crawler.store.models import Candidate, Entity, Post, PostCapture, PostEntity, Source, User
from crawler.store.models import Verdict
from evidence import keys
from tests.conftest import write_config

HOSTILE_TITLE = "../../etc/passwd\u202e\x1b[31m=HYPERLINK(\"http://evil\")"
HOSTILE_TEXT = "=cmd|' /C calc'!A0 закладки @shop_kz_bot bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"


@dataclass
class World:
    config: object
    config_file: Path
    lead: str = "lead1"
    analyst: str = "ann"
    confirmed: list[int] = field(default_factory=list)  # candidate ids
    open_id: int = 0
    post_ids: list[int] = field(default_factory=list)
    dropped_post: int = 0


def _user(session, username: str, role: str, display: str | None) -> User:
    user = User(username=username, password_hash="x", role=role, active=True,
                display_name=display)
    session.add(user)
    session.flush()
    return user


def _post(session, source, number: int, text: str, capture_ref=None) -> Post:
    capture = record_capture(session, capture_ref)
    post = Post(source_id=source.id, external_id=str(number), text=text,
                url=f"https://t.me/{source.handle}/{number}", content_hash=f"h{source.id}-{number}",
                posted_at=datetime(2026, 11, 20, 10, number % 60, tzinfo=timezone.utc),
                views=100 + number, capture_id=capture.id if capture else None)
    session.add(post)
    session.flush()
    if capture is not None:
        session.add(PostCapture(post_id=post.id, capture_id=capture.id))
    session.add(Verdict(subject_type="post", subject_id=post.id, category="sale", score=0.91,
                        model_version="rules-1",
                        indicators=[{"kind": "telegram_bot", "value": "@shop_kz_bot",
                                     "span": [0, 3], "field": "text"}]))
    session.flush()
    return post


def _entity(session, kind: str, value: str, posts: list[Post]) -> Entity:
    entity = Entity(kind=kind, value=value)
    session.add(entity)
    session.flush()
    for post in posts:
        session.add(PostEntity(post_id=post.id, entity_id=entity.id))
    session.flush()
    return entity


def make_world(tmp_path: Path, db_url: str, store, *, posts: int = 3,
               extra_config: str = "") -> World:
    """A store with: candidate 1 (source, confirmed sale, `posts` WARC posts + one MTProto post
    + one post whose capture is gone), candidate 2 (entity @shop_kz_bot, confirmed), an open
    candidate (not exportable)."""
    from review.decisions import decide

    config_file = write_config(
        tmp_path / "kyran.toml", db_url,
        '\n[evidence]\norganisation = "Volunteers KZ"\norganisation_id = "volunteers"\n'
        'contact_email = "duty@example.org"\ncontact_name = "duty analyst"\n'
        'signing_key_file = "keys/signing.key"\nout_dir = "packages"\n' + extra_config)
    config = load_config(str(config_file))
    keys.generate(config.resolve(config.evidence.signing_key_file))
    world = World(config, config_file)
    writer = CaptureWriter(config.captures_path, fsync=False)
    with store.session() as session:
        lead = _user(session, world.lead, "lead", "Eagle")
        _user(session, world.analyst, "analyst", None)
        source = Source(platform="telegram", kind="channel", handle="shop_kz",
                        external_id="1234567", title=HOSTILE_TITLE, status="active")
        other = Source(platform="telegram", kind="channel", handle="news_kz",
                       external_id="777", title="News", status="active")
        session.add_all([source, other])
        session.flush()
        made = []
        for number in range(1, posts + 1):
            body = (f"<html><body><div class=tgme_widget_message>{HOSTILE_TEXT} {number}"
                    "</div></body></html>").encode()
            ref = writer.write_response(f"https://t.me/s/shop_kz?before={number + 1}", 200,
                                        [("Content-Type", "text/html; charset=utf-8")], body)
            made.append(_post(session, source, number, f"{HOSTILE_TEXT} {number}", ref))
        message = {"_": "Message", "id": 500, "message": "закладки, пиши @shop_kz_bot"}
        mt_ref = writer.write_json("https://t.me/shop_kz/500", message)
        made.append(_post(session, source, 500, message["message"], mt_ref))
        dropped = _post(session, source, 600, "+7 701 закладки, capture dropped")
        made.append(dropped)
        writer.close()
        bot = _entity(session, "telegram_bot", "@shop_kz_bot", made)
        _entity(session, "btc", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", made[:1])
        _entity(session, "url", "https://shop.example.kz/buy?x=1", made[:1])
        _entity(session, "phone", "+77011234567", made[:1])
        first = Candidate(subject_type="source", subject_id=source.id, category="sale",
                          status="open", score=0.9, priority=90)
        second = Candidate(subject_type="entity", subject_id=bot.id, category="sale",
                           status="open", score=0.8, priority=80)
        third = Candidate(subject_type="source", subject_id=other.id, category="sale",
                          status="open", score=0.5, priority=10)
        session.add_all([first, second, third])
        session.flush()
        for candidate in (first, second):
            decide(session, lead, candidate.id, "confirm", policy="drug-sale",
                   review=config.review)
        world.confirmed = [first.id, second.id]
        world.open_id = third.id
        world.post_ids = [p.id for p in made]
        world.dropped_post = dropped.id
    return world
