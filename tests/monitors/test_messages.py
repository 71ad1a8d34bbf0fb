"""Telethon messages as the chain's items: text, views, edits, forwards (with the origin's
link), mentions and links from the message entities and buttons, media kind, and the raw
`to_dict()` JSON kept as a hashed capture. A shop's post becomes a candidate and its forward
origin joins the watchlist, as from the preview spider."""

import json

from sqlalchemy import select
from telethon.tl import types

from crawler.store.captures import read_capture
from crawler.store.ingest import watch
from crawler.store.models import Candidate, Post, Source
from tests.monitors.conftest import once
from tests.monitors.fake_telegram import url_button

SHOP_AD = ("🔥 Мефедрон VHQ в наличии 🔥\n1г — 15000 тг\nКлады по Алматы: магнит, прикоп\n"
           "Заказ через бота @kristall_kz_bot, оплата BTC")


def utf16_offset(text: str, part: str) -> tuple[int, int]:
    start = text.index(part)
    return (len(text[:start].encode("utf-16-le")) // 2, len(part.encode("utf-16-le")) // 2)


def test_message_fields_capture_and_discovery(store, world, clock, make_monitor, tmp_path):
    origin = world.channel(5002, "Kristall_Main", "KRISTALL main")
    shop = world.channel(5001, "kristall_shop", "💎 KRISTALL 💎")
    text = "💎 " + SHOP_AD + "\nСайт: kristall.example и наш чат"
    url_at, url_len = utf16_offset(text, "kristall.example")
    bot_at, bot_len = utf16_offset(text, "@kristall_kz_bot")
    chat_at, chat_len = utf16_offset(text, "наш чат")
    world.post(shop, text, live=False, views=4800, post_author="admin",
               fwd_from=types.MessageFwdHeader(date=clock(), from_id=types.PeerChannel(5002),
                                               channel_post=77),
               entities=[types.MessageEntityUrl(url_at, url_len),
                         types.MessageEntityMention(bot_at, bot_len),
                         types.MessageEntityTextUrl(chat_at, chat_len, "https://t.me/kristall_chat")],
               reply_markup=types.ReplyInlineMarkup([types.KeyboardButtonRow([
                   url_button("Купить", "https://t.me/kristall_buy_bot?start=1")])]),
               media=types.MessageMediaPhoto(photo=types.PhotoEmpty(id=1)))
    world.post(origin, "origin post", live=False)
    with store.session() as session:
        watch(session, "telegram", "kristall_shop")

    summary = once(make_monitor())
    assert summary["posts_new"] == 1
    with store.session() as session:
        post = session.scalars(select(Post)).one()
        assert post.url == "https://t.me/kristall_shop/1" and post.external_id == "1"
        assert post.views == 4800 and post.author == "admin" and post.media_kind == "photo"
        assert post.posted_at == clock()
        assert (post.forwarded_from, post.forwarded_from_url) == (
            "kristall_main", "https://t.me/Kristall_Main/77")
        assert post.links == ["https://kristall.example", "https://t.me/kristall_chat",
                              "https://t.me/kristall_buy_bot?start=1"]
        assert post.mentions == ["kristall_kz_bot", "kristall_chat", "kristall_buy_bot"]
        capture = post.capture
        assert capture.kind == "mtproto-json" and capture.url == post.url
        record = read_capture(tmp_path / "captures", capture.path, capture.offset,
                              capture.length, capture.sha256)
        raw = json.loads(record.payload)
        assert raw["_"] == "Message" and raw["id"] == 1 and raw["message"] == text
        assert raw["fwd_from"]["channel_post"] == 77
        candidate = session.scalars(select(Candidate)).one()
        assert candidate.category == "sale"
        discovered = {s.handle: s.discovered_via for s in session.scalars(
            select(Source).where(Source.discovered_via != "seed"))}
        assert discovered.get("kristall_main") == "forward"


def test_service_messages_and_hostile_text(store, world, make_monitor):
    shop = world.channel(5101, "odd_shop")
    hostile = "<script>alert(1)</script> {__import__('os').system('x')} \u202e"
    world.post(shop, hostile, live=False)
    shop.messages[2] = types.MessageService(id=2, peer_id=types.PeerChannel(5101),
                                            date=world.clock(),
                                            action=types.MessageActionChannelCreate("odd"))
    shop.next_id = 3
    world.post(shop, "after", live=False)
    with store.session() as session:
        watch(session, "telegram", "odd_shop")
    summary = once(make_monitor())
    assert summary["messages_read"] == 3 and summary["posts_new"] == 2
    with store.session() as session:
        texts = dict(session.execute(select(Post.external_id, Post.text)).all())
        assert texts == {"1": hostile, "3": "after"}  # kept as data, byte for byte
        assert session.scalars(select(Source.crawl_cursor)).one() == 3
