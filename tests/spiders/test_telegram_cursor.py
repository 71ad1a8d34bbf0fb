"""Real crawls where pages are damaged, loop, or carry bogus ids: the crawl cursor never moves
past a post that was not read, and every post is stored in the end.

Each test crawls several channels of one fake t.me at once, each channel with its own fault on
its second page (posts 21-40 of 60; the first page shows 41-60, the third 1-20)."""

from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update

from crawler.fixtures.server import FixtureServer
from crawler.fixtures.tme_pages import FakeChannel, FakePost
from crawler.fixtures.tme_world import FakeTelegram
from crawler.store.db import open_store
from crawler.store.models import Post, Source
from tests.spiders.test_telegram_crawl import counts, crawl_config  # noqa: F401 (a fixture)

START = datetime(2026, 10, 1, tzinfo=timezone.utc)
HTML = [("Content-Type", "text/html; charset=utf-8")]


def channel_world(names: list[str], posts: int = 60) -> FakeTelegram:
    world = FakeTelegram()
    for n, name in enumerate(names):
        world.add_channel(FakeChannel(name, 1_700_000_000 + n, name.title()),
                          [FakePost(i, START + timedelta(hours=i), f"{name} пост {i}", views=i)
                           for i in range(1, posts + 1)])
    return world


def wrapper_of(body: bytes, name: str, pid: int) -> int:
    i = body.index(f'data-post="{name}/{pid}"'.encode())
    return body.rindex(b'<div class="tgme_widget_message_wrap', 0, i)


def b64(raw: bytes) -> bytes:
    return base64.b64encode(raw).rstrip(b"=")


def set_view(body: bytes, name: str, pid: int, view: bytes) -> bytes:
    return re.sub(rf'(data-post="{name}/{pid}" data-view=")[^"]*'.encode(),
                  lambda m: m.group(1) + view, body)


def post_time(pid: int) -> bytes:
    return (START + timedelta(hours=pid)).isoformat().encode()


def relink(body: bytes, before: int) -> bytes:
    """The page's links to the older page (``?before=21``) made to point at ``before``."""
    linked = body.replace(b'before=21"', b'before=%d"' % before)
    return linked.replace(b'data-before="21"', b'data-before="%d"' % before)


# What each channel's second page (?before=41) is turned into, and whether only once.
DAMAGE = {
    "cut_chan": (True, lambda b: b[:wrapper_of(b, "cut_chan", 31)]),
    "deep_chan": (True, lambda b: b[:wrapper_of(b, "deep_chan", 31)] + b"<div>" * 300
                  + b[wrapper_of(b, "deep_chan", 31):]),
    "badid_chan": (False, lambda b: b.replace(b'data-post="badid_chan/31"',
                                              b'data-post="badid_chan/3x1"')),
    "values_chan": (False, lambda b: set_view(set_view(
        b, "values_chan", 31, b64(b'{"c":-1e999}')), "values_chan", 32,
        b64(b'{"c":' + b"[" * 50_000 + b"]" * 50_000 + b"}"))
        .replace(post_time(33), b"9999-12-31T23:00-05:00")
        .replace(post_time(34), b"0001-01-01T00:30+05:00")),
    "loop_self": (False, lambda b: relink(b, 41)),
    "loop_up": (False, lambda b: relink(b, 61)),
}


def damaging_server(world: FakeTelegram, stuck: set[str] = frozenset()) -> FixtureServer:
    """Serve ``world`` with ``DAMAGE`` done to second pages; channels in ``stuck`` ignore
    ``?before=`` and show their newest page to every request."""
    done: set[str] = set()

    def handler(method, target, headers):
        name, _, query = target.removeprefix("/s/").partition("?")
        status, answer_headers, body = world.handle(f"/s/{name}" if name in stuck else target)
        once, damage = DAMAGE.get(name, (False, None))
        if damage and query == "before=41" and not (once and name in done):
            done.add(name)
            body = damage(body)
        return status, list(answer_headers.items()), body

    return FixtureServer(handler)


def cursors(db_url) -> dict[str, int | None]:
    store = open_store(db_url)
    with store.session() as session:
        found = dict(session.execute(select(Source.handle, Source.crawl_cursor)).all())
    store.dispose()
    return found


def requested(server, name: str) -> list[str]:
    return [t for _, t, _ in server.requests if t.startswith(f"/s/{name}")]


def test_damaged_and_looping_pages_never_move_the_cursor_past_unread_posts(
        kyran, crawl_config, db_url):  # noqa: F811
    names = [*DAMAGE, "stuck_chan"]
    world = channel_world(names)
    with damaging_server(world, stuck={"stuck_chan"}) as server:
        config = crawl_config(server)
        first = kyran("crawl", "telegram", *names, config=config)
        assert first.returncode == 0, first.stderr[-3000:]
        stored, cursor = counts(db_url), cursors(db_url)
        # Damaged once: what was read is stored, the cursor stays, a warning says why.
        assert stored["cut_chan"] == stored["deep_chan"] == 50
        assert cursor["cut_chan"] is None and cursor["deep_chan"] is None
        assert "cut_chan: incomplete visit (page 2" in first.stderr
        assert "cut short" in first.stderr and "gave up on part of the page" in first.stderr
        # An unreadable id: every other post is stored, older pages too; the cursor stays.
        assert stored["badid_chan"] == 59 and cursor["badid_chan"] is None
        assert "without a readable id" in first.stderr
        # Values that used to raise out of the parser: the page is whole, nothing is lost.
        assert stored["values_chan"] == 60 and cursor["values_chan"] == 60
        # A chain that links to itself or upwards is paged on from the oldest post read.
        for name in ("loop_self", "loop_up"):
            assert stored[name] == 60 and cursor[name] == 60
            assert requested(server, name) == [f"/s/{name}", f"/s/{name}?before=41",
                                               f"/s/{name}?before=21"]
        assert "links to a newer page" in first.stderr
        # A server that ignores ?before= gives no older posts: two pages, then incomplete.
        assert len(requested(server, "stuck_chan")) == 2 and cursor["stuck_chan"] is None
        assert stored["stuck_chan"] == 20
        assert "shows no post older than the page before it" in first.stderr

        second = kyran("crawl", "telegram", *names, config=config)
        assert second.returncode == 0, second.stderr[-3000:]
    stored, cursor = counts(db_url), cursors(db_url)
    for name in ("cut_chan", "deep_chan", "values_chan", "loop_self", "loop_up"):
        assert (stored[name], cursor[name]) == (60, 60), name
    assert (stored["badid_chan"], cursor["badid_chan"]) == (59, None)
    store = open_store(db_url)
    with store.session() as session:
        ids = session.scalars(select(Post.external_id)).all()
        assert all(i.isdigit() for i in ids)
        dates = dict(session.execute(
            select(Post.external_id, Post.posted_at).join(Source)
            .where(Source.handle == "values_chan", Post.external_id.in_(["33", "34", "35"])))
            .all())
        assert dates["33"] is None and dates["34"] is None and dates["35"] is not None
    store.dispose()


def test_a_bogus_id_never_becomes_the_cursor_and_an_absurd_cursor_is_reset(
        kyran, crawl_config, db_url):  # noqa: F811
    world = channel_world(["bogus_chan", "absurd_chan"])
    world.add_posts("bogus_chan", [FakePost(9_000_000_000, START, "bogus")])
    with damaging_server(world) as server:
        config = crawl_config(server)
        first = kyran("crawl", "telegram", "bogus_chan", "absurd_chan", config=config)
        assert first.returncode == 0, first.stderr[-3000:]
        assert counts(db_url)["bogus_chan"] == 61  # stored all the same
        assert cursors(db_url) == {"bogus_chan": 60, "absurd_chan": 60}
        store = open_store(db_url)  # what the old code left behind: a cursor from a bogus id
        with store.session() as session:
            session.execute(update(Source).where(Source.handle == "absurd_chan")
                            .values(crawl_cursor=9_000_000_000))
        store.dispose()
        for name in ("bogus_chan", "absurd_chan"):
            world.add_posts(name, [FakePost(i, START + timedelta(hours=i), f"новый {i}")
                                   for i in range(61, 101)])
        second = kyran("crawl", "telegram", "bogus_chan", "absurd_chan", config=config)
        assert second.returncode == 0, second.stderr[-3000:]
    assert "absurd_chan: the stored crawl cursor 9000000000 is far above" in second.stderr
    assert counts(db_url) == {"bogus_chan": 101, "absurd_chan": 100}
    assert cursors(db_url) == {"bogus_chan": 100, "absurd_chan": 100}
