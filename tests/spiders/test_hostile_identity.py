"""A hostile page never rewrites another channel's evidence: real crawls of `telegram_preview`
against a local fake t.me serving forged pages, into SQLite and PostgreSQL.

Each forged page is served at /s/evil_chan after both channels were crawled honestly once. What
must hold for every forgery: the victim keeps its name, numeric id, posts and crawl cursor; the
forged page is applied to nobody; the contradiction is an event an analyst can list, pointing at
the stored capture; the crawl counts the page as quarantined.
"""

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from crawler.fixtures.server import FixtureServer
from crawler.fixtures.tme_pages import FakeChannel, FakePost, render_channel_page
from crawler.fixtures.tme_world import FakeTelegram
from crawler.store.db import open_store
from crawler.store.models import Capture, Event, Post, Source
from tests.conftest import write_config

VICTIM = FakeChannel("victim_chan", 1700000001, "Настоящий канал")
EVIL = FakeChannel("evil_chan", 1700000002, "Злой канал")
START = datetime(2026, 10, 1, tzinfo=timezone.utc)
HTML = [("Content-Type", "text/html; charset=utf-8")]


def honest_posts(prefix: str, count: int) -> list[FakePost]:
    return [FakePost(i, START + timedelta(hours=i), f"{prefix} {i}") for i in range(1, count + 1)]


PLANTED = [FakePost(i, START + timedelta(days=30, hours=i), f"ПОДБРОСКА {i}")
           for i in range(1, 8)]


def data_view(page: str, name: str, post_id: int) -> str:
    return re.search(rf'data-post="{name}/{post_id}" data-view="([^"]+)"', page).group(1)


def with_post_id(page: str, name: str, post_id: int, view: str) -> str:
    """The page with one post's data-view replaced."""
    return re.sub(rf'(data-post="{name}/{post_id}" data-view=")[^"]+"', rf'\g<1>{view}"', page)


def forged(kind: str) -> bytes:
    """A page served as /s/evil_chan that claims, in one way or another, to be someone else."""
    evil = render_channel_page(EVIL, PLANTED, None)
    as_victim_id = render_channel_page(FakeChannel("evil_chan", VICTIM.numeric_id, "x"),
                                       PLANTED, None)
    if kind == "whole_page_of_victim":  # header, data-post and data-view all say victim
        page = render_channel_page(VICTIM, PLANTED, None)
    elif kind == "header_only":
        page = evil.replace(">@evil_chan<", ">@victim_chan<")
    elif kind == "header_with_terminal_controls":  # would forge a line of `kyran quarantine`
        page = evil.replace(">@evil_chan<", ">@evil_chan<br>#1 2026-01-01  requested victim_chan:"
                            " fine\x1b[2J\u202e\x85<")
    elif kind == "posts_named_victim":
        page = evil.replace('data-post="evil_chan/', 'data-post="victim_chan/')
    elif kind == "one_post_names_victim":
        page = evil.replace('data-post="evil_chan/4"', 'data-post="victim_chan/4"')
    elif kind == "every_post_has_victim_id":  # consistent, but victim_chan still shows it
        page = as_victim_id
    elif kind in ("first_post_has_victim_id", "middle_post_has_victim_id",
                  "last_post_has_victim_id"):
        pid = {"first": 1, "middle": 4, "last": 7}[kind.split("_")[0]]
        page = with_post_id(evil, "evil_chan", pid, data_view(as_victim_id, "evil_chan", pid))
    else:
        raise AssertionError(kind)
    return page.encode()


def serve(world: FakeTelegram, pages: dict[str, bytes]):
    def handler(method, target, headers):
        if target in pages:
            return 200, HTML, pages[target]
        status, answer_headers, body = world.handle(target)
        return status, list(answer_headers.items()), body

    return FixtureServer(handler)


def snapshot(db_url) -> dict:
    """What the store holds of both channels: names, ids, cursors and every post's text."""
    store = open_store(db_url)
    with store.reader() as session:
        sources = {s.external_id: (s.handle, s.crawl_cursor, s.title)
                   for s in session.scalars(select(Source).where(Source.external_id.is_not(None)))}
        posts = sorted(session.execute(select(Source.external_id, Post.external_id, Post.text)
                                       .join(Post.source)).all())
        edits = session.scalars(select(Event).where(Event.action == "post.edited")).all()
    store.dispose()
    return {"sources": sources, "posts": posts, "edits": len(edits)}


@pytest.fixture
def honest_world(tmp_path, db_url, kyran):
    """Both channels crawled honestly once; returns (world, config maker, snapshot before)."""
    world = FakeTelegram()
    world.add_channel(VICTIM, honest_posts("настоящий пост", 25))
    world.add_channel(EVIL, honest_posts("злой пост", 3))

    def config_for(server):
        return write_config(tmp_path / "kyran.toml", db_url,
                            f'\n[telegram_preview]\nbase_url = "{server.url}"\n')

    with serve(world, {}) as server:
        first = kyran("crawl", "telegram", "victim_chan", "evil_chan", config=config_for(server))
        assert first.returncode == 0, first.stderr[-2000:]
    before = snapshot(db_url)
    assert before["sources"]["1700000001"][:2] == ("victim_chan", 25)
    return world, config_for, before


FORGERIES = ["whole_page_of_victim", "header_only", "posts_named_victim", "one_post_names_victim",
             "first_post_has_victim_id", "middle_post_has_victim_id", "last_post_has_victim_id",
             "every_post_has_victim_id", "header_with_terminal_controls"]


@pytest.mark.parametrize("kind", FORGERIES)
def test_a_forged_page_is_quarantined_and_rewrites_nobody(honest_world, kind, kyran, db_url):
    world, config_for, before = honest_world
    with serve(world, {"/s/evil_chan": forged(kind)}) as server:
        config = config_for(server)
        result = kyran("crawl", "telegram", "evil_chan", "victim_chan", config=config)
        assert result.returncode == 0, result.stderr[-2000:]
    # Nobody renamed, no post rewritten or planted (not even on evil_chan), no cursor moved.
    assert snapshot(db_url) == before
    assert ", 1 pages quarantined (see kyran quarantine)" in result.stdout  # the summary line
    assert "evil_chan: page quarantined" in result.stderr

    listed = kyran("posts", "--source", "victim_chan", "--json", "--limit", "100", config=config)
    texts = [json.loads(line)["text"] for line in listed.stdout.splitlines()]
    assert len(texts) == 25 and not any("ПОДБРОСКА" in text for text in texts)

    store = open_store(db_url)
    with store.reader() as session:
        event = session.scalars(select(Event).where(
            Event.action == "source.identity_conflict")).one()
        evil = session.scalars(select(Source).where(Source.handle == "evil_chan")).one()
        capture = session.get(Capture, event.payload["capture_id"])
    store.dispose()
    assert event.subject_type == "source" and event.subject_id == evil.id
    assert event.payload["requested"] == "evil_chan"
    assert capture is not None and capture.url.endswith("/s/evil_chan")
    # The event keeps what the page claimed beyond the requested channel's own name and id.
    assert (event.payload["claimed_names"] != ["evil_chan"]
            or event.payload["claimed_ids"] != [EVIL.numeric_id])

    shown = kyran("quarantine", config=config)
    assert shown.returncode == 0, shown.stderr
    assert "requested evil_chan" in shown.stdout and f"capture {capture.id}" in shown.stdout
    assert len(shown.stdout.splitlines()) == 2  # one entry, whatever the page claimed
    assert not any(ch in shown.stdout for ch in "\x1b\u202e\x85")
    as_json = [json.loads(line) for line in kyran("quarantine", "--json",
                                                  config=config).stdout.splitlines()]
    assert [r["capture_id"] for r in as_json] == [capture.id]


def test_a_new_name_claiming_a_channel_that_still_answers_at_its_name_is_no_rename(
        tmp_path, db_url, kyran):
    """evil_chan, never seen before, shows victim_chan's id on every post with a header that
    agrees: it would pass for a rename, but victim_chan's own page still shows that id."""
    world = FakeTelegram()
    world.add_channel(VICTIM, honest_posts("настоящий пост", 25))
    forged_page = render_channel_page(FakeChannel("evil_chan", VICTIM.numeric_id, "x"),
                                      PLANTED, None).encode()
    with serve(world, {"/s/evil_chan": forged_page}) as server:
        config = write_config(tmp_path / "kyran.toml", db_url,
                              f'\n[telegram_preview]\nbase_url = "{server.url}"\n')
        assert kyran("crawl", "telegram", "victim_chan", config=config).returncode == 0
        before = snapshot(db_url)
        result = kyran("crawl", "telegram", "evil_chan", config=config)
        assert result.returncode == 0, result.stderr[-2000:]
    assert snapshot(db_url) == before
    assert ", 1 pages quarantined (see kyran quarantine)" in result.stdout  # the summary line
    assert "victim_chan still shows at its own page" in result.stderr


def test_a_later_page_with_another_channel_id_stops_the_visit(tmp_path, db_url, kyran):
    """Page 2 of a channel carrying the id of another channel than page 1 showed: quarantined,
    and the first visit's cursor is not set (nothing is taken as complete)."""
    world = FakeTelegram()
    world.add_channel(VICTIM, honest_posts("настоящий пост", 5))
    world.add_channel(EVIL, honest_posts("злой пост", 30))
    _, _, second = world.handle("/s/evil_chan?before=11")
    page = second.decode()
    for pid in range(1, 11):
        foreign = render_channel_page(FakeChannel("evil_chan", VICTIM.numeric_id, "x"),
                                      [FakePost(pid, START)], None)
        page = with_post_id(page, "evil_chan", pid, data_view(foreign, "evil_chan", pid))
    with serve(world, {"/s/evil_chan?before=11": page.encode()}) as server:
        config = write_config(tmp_path / "kyran.toml", db_url,
                              f'\n[telegram_preview]\nbase_url = "{server.url}"\n')
        result = kyran("crawl", "telegram", "victim_chan", "evil_chan", config=config)
        assert result.returncode == 0, result.stderr[-2000:]
        assert ", 1 pages quarantined (see kyran quarantine)" in result.stdout  # the summary line
    state = snapshot(db_url)
    assert state["sources"]["1700000002"][:2] == ("evil_chan", None)  # cursor not set
    assert state["sources"]["1700000001"][:2] == ("victim_chan", 5)
    assert {ext for sid, ext, _ in state["posts"] if sid == "1700000002"} == {
        str(i) for i in range(11, 31)}  # page 1 only: page 2 was not applied


@pytest.mark.parametrize("old_names", ["redirect", "serve"])
def test_a_genuine_rename_is_still_applied(tmp_path, db_url, kyran, old_names):
    """The requested new name, the stored channel's id on every post, the header agreeing, and
    the old name no longer showing that channel (it redirects, or shows it under the new
    name): a rename, as before."""
    world = FakeTelegram(old_names=old_names)
    world.add_channel(VICTIM, honest_posts("настоящий пост", 5))
    with serve(world, {}) as server:
        config = write_config(tmp_path / "kyran.toml", db_url,
                              f'\n[telegram_preview]\nbase_url = "{server.url}"\n')
        assert kyran("crawl", "telegram", "victim_chan", config=config).returncode == 0
        world.rename("victim_chan", "victim_chan_v2")
        world.add_posts("victim_chan_v2", [FakePost(i, START + timedelta(days=60, hours=i),
                                                    f"новое {i}") for i in range(6, 51)])
        del server.requests[:]
        result = kyran("crawl", "telegram", "victim_chan_v2", config=config)
        assert result.returncode == 0, result.stderr[-2000:]
        assert "quarantined" not in result.stdout
        asked = [target for _, target, _ in server.requests]
        assert asked.count("/s/victim_chan") == 1  # the former name is asked once, not per page
        assert len(asked) == 4  # and the new name's three pages are read
    state = snapshot(db_url)
    assert state["sources"]["1700000001"][:2] == ("victim_chan_v2", 50)
    assert len(state["posts"]) == 50 and state["edits"] == 0

