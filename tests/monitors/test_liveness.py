"""Liveness passes against local servers, on SQLite and PostgreSQL: channels gone by 404, by
redirect, by an empty preview, and back again; a site whose name is not in DNS; a network error
or a server that never answers stays unknown; the first-gone time is never moved while gone."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from crawler.config import load_config
from crawler.store.models import Event, Source
from crawler.store.models_ops import SubjectLiveness
from monitors.liveness import check_subjects
from monitors.liveness_checks import Check
from tests.conftest import write_config
from tests.monitors.liveness_world import (START, BadServer, World, add_entity, add_source,
                                           add_web_post)


def configure(tmp_path, db_url, base_url: str, timeout: int = 5, sites: str = ""):
    path = write_config(tmp_path / "kyran.toml", db_url,
                        f'[telegram_preview]\nbase_url = "{base_url}"\n'
                        f"[liveness]\ntimeout = {timeout}\n" + sites)
    return load_config(path, environ={})


def run_pass(config, store, at, resolver=None) -> dict:
    return asyncio.run(check_subjects(config, store, resolver=resolver, clock=lambda: at))


def liveness(store, subject_type: str, subject_id: int) -> SubjectLiveness:
    with store.reader() as session:
        row = session.scalars(select(SubjectLiveness).where(
            SubjectLiveness.subject_type == subject_type,
            SubjectLiveness.subject_id == subject_id)).one()
        session.expunge(row)
        return row


def events(store, action: str) -> list[Event]:
    with store.reader() as session:
        found = session.scalars(select(Event).where(Event.action == action)
                                .order_by(Event.id)).all()
        session.expunge_all()
        return list(found)


def test_channels_gone_by_404_redirect_and_empty_page_then_back(tmp_path, db_url, store):
    with World() as world:
        config = configure(tmp_path, db_url, world.url)
        with store.session() as session:
            ids = {name: add_source(session, name).id for name in
                   ("shop_up", "shop_hidden", "shop_emptied", "shop_removed")}
            add_source(session, "shop_open_only", status="open")  # not reported: not checked
        first = run_pass(config, store, START)
        assert first["subjects"] == 4 and first["up"] == 4 and first["went_gone"] == 0
        assert first["failed"] == 0 and first["changes"] == []

        world.tme.set_preview("shop_hidden", "none")  # t.me/s redirects to t.me/NAME
        world.tme.set_preview("shop_emptied", "empty")  # deleted or private: no posts
        world.missing.add("shop_removed")  # 404
        gone_at = START + timedelta(hours=6)
        second = run_pass(config, store, gone_at)
        assert (second["up"], second["gone"], second["went_gone"]) == (1, 3, 3)
        expected = {"shop_hidden": "redirect", "shop_emptied": "empty", "shop_removed": "404"}
        for name, how in expected.items():
            row = liveness(store, "source", ids[name])
            assert (row.state, row.how, row.first_gone_at, row.back_at) == (
                "gone", how, gone_at, None)
            assert row.target == f"@{name}" and row.checks == 2
        assert liveness(store, "source", ids["shop_up"]).state == "up"
        with store.reader() as session:
            source = session.get(Source, ids["shop_removed"])
            assert (source.gone_at, source.gone_how) == (gone_at, "404")
        gone_events = events(store, "liveness.gone")
        assert sorted(e.subject_id for e in gone_events) == sorted(ids[n] for n in expected)
        assert {e.payload["how"] for e in gone_events} == {"redirect", "empty", "404"}

        # still gone later: the first-gone time stays, no new event
        third = run_pass(config, store, gone_at + timedelta(days=2))
        assert third["went_gone"] == 0 and third["gone"] == 3
        assert liveness(store, "source", ids["shop_hidden"]).first_gone_at == gone_at
        assert len(events(store, "liveness.gone")) == 3

        world.tme.set_preview("shop_hidden", "public")
        back_at = gone_at + timedelta(days=3)
        fourth = run_pass(config, store, back_at)
        assert fourth["came_back"] == 1
        assert fourth["changes"] == [{
            "subject_type": "source", "subject_id": ids["shop_hidden"], "target": "@shop_hidden",
            "from": "gone", "to": "up", "how": "redirect",
            "detail": f"{world.url}/s/shop_hidden: preview with posts",
            "first_gone_at": gone_at.isoformat()}]
        row = liveness(store, "source", ids["shop_hidden"])
        assert (row.state, row.first_gone_at, row.back_at) == ("up", gone_at, back_at)
        with store.reader() as session:
            assert session.get(Source, ids["shop_hidden"]).gone_at is None
        assert [e.subject_id for e in events(store, "liveness.back")] == [ids["shop_hidden"]]

        # gone once more: a new disappearance, timed from now
        world.tme.set_preview("shop_hidden", "none")
        again = back_at + timedelta(days=1)
        run_pass(config, store, again)
        row = liveness(store, "source", ids["shop_hidden"])
        assert (row.state, row.first_gone_at, row.back_at) == ("gone", again, None)


def test_sites_by_dns_and_http_status(tmp_path, db_url, store):
    with World() as world:
        sites = (f'[sites.market]\nstart_urls = ["{world.url}/market"]\nitem = "p"\n')
        config = configure(tmp_path, db_url, world.url, sites=sites)
        with store.session() as session:
            market = add_source(session, "market", platform="web", kind="site")
            nxdomain = add_entity(session, "domain", "shop-kyran-test.invalid")
            listing = add_web_post(session, market, f"{world.url}/listing/7")
            link = add_entity(session, "url", f"{world.url}/listing/7")
            add_entity(session, "btc", "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh")  # skipped
        summary = run_pass(config, store, START)
        assert (summary["subjects"], summary["up"], summary["gone"]) == (4, 3, 1)
        row = liveness(store, "entity", nxdomain.id)
        assert (row.state, row.how, row.target) == ("gone", "dns",
                                                    "https://shop-kyran-test.invalid/")
        world.pages["/listing/7"] = 404
        world.pages["/market"] = 410
        later = START + timedelta(hours=1)
        summary = run_pass(config, store, later)
        assert summary["went_gone"] == 3
        assert liveness(store, "post", listing.id).how == "404"
        assert liveness(store, "entity", link.id).how == "404"
        assert liveness(store, "source", market.id).how == "410"
        with store.reader() as session:
            assert session.get(Source, market.id).gone_at == later


@pytest.mark.parametrize("mode", ["close", "silent"])
def test_network_trouble_is_unknown_never_gone(tmp_path, db_url, store, mode):
    with World() as world:
        config = configure(tmp_path, db_url, world.url, timeout=1)
        with store.session() as session:
            source = add_source(session, "shop_up")
        run_pass(config, store, START)
    with BadServer(mode) as bad:
        config = configure(tmp_path, db_url, bad.url, timeout=1)
        started = time.monotonic()
        summary = run_pass(config, store, START + timedelta(hours=1))
        assert time.monotonic() - started < 5  # bounded by liveness.timeout
    assert (summary["unknown"], summary["failed"], summary["gone"]) == (1, 1, 0)
    row = liveness(store, "source", source.id)
    assert row.state == "up" and row.first_gone_at is None  # the last known state stays
    assert row.checks == 2 and row.last_checked_at == START + timedelta(hours=1)
    # a hang-up is a network error; silence ends at the bound (the socket's or the check's)
    assert "network error" in row.detail or (mode == "silent" and "within 1 s" in row.detail)
    assert events(store, "liveness.gone") == []


def test_first_check_failing_leaves_state_unknown(tmp_path, db_url, store):
    with BadServer("close") as bad:
        config = configure(tmp_path, db_url, bad.url, timeout=1)
        with store.session() as session:
            source = add_source(session, "shop_up")
        summary = run_pass(config, store, START)
    assert summary["failed"] == 1
    row = liveness(store, "source", source.id)
    assert (row.state, row.first_gone_at, row.checks) == ("unknown", None, 1)


def test_bots_and_channels_through_a_resolver(tmp_path, db_url, store):
    asked = []

    async def resolver(name: str) -> Check:
        asked.append(name)
        if name == "deleted_shop_bot":
            return Check("gone", "deleted", "@deleted_shop_bot: no such user")
        if name == "busy_bot":
            raise ConnectionError("disconnected")
        return Check("up", None, f"@{name} resolves")

    with World() as world:
        world.tme.set_preview("shop_hidden", "none")  # no preview, yet it exists over MTProto
        config = configure(tmp_path, db_url, world.url)
        with store.session() as session:
            bot = add_entity(session, "telegram_bot", "@deleted_shop_bot")
            busy = add_entity(session, "telegram_bot", "@busy_bot")
            hidden = add_source(session, "shop_hidden")
            shown = add_source(session, "shop_up")
        without = run_pass(config, store, START)
        assert without["skipped"] == 2  # bots need a resolver
        assert liveness(store, "source", hidden.id).state == "gone"
        with_resolver = run_pass(config, store, START + timedelta(hours=1), resolver)
    assert sorted(asked) == ["busy_bot", "deleted_shop_bot", "shop_hidden"]  # not shop_up
    assert with_resolver["skipped"] == 0 and with_resolver["failed"] == 1
    row = liveness(store, "entity", bot.id)
    assert (row.state, row.how, row.target) == ("gone", "deleted", "@deleted_shop_bot")
    assert liveness(store, "entity", busy.id).state == "unknown"
    assert liveness(store, "source", hidden.id).state == "up"  # came back: it resolves
    assert liveness(store, "source", shown.id).state == "up"


def test_a_channel_that_never_had_a_preview_is_not_taken_for_gone(tmp_path, db_url, store):
    from crawler.store.models import Capture, Post

    with World() as world:
        world.tme.set_preview("shop_hidden", "none")
        world.tme.set_preview("shop_emptied", "none")
        config = configure(tmp_path, db_url, world.url)
        with store.session() as session:
            never = add_source(session, "shop_hidden")  # read over MTProto only
            never.status = "no_preview"
            seen = add_source(session, "shop_emptied")  # its preview was crawled once
            seen.status = "no_preview"
            capture = Capture(kind="warc", path="a.warc.gz", offset=0, length=1, sha256="0" * 64,
                              url="x", fetched_at=START)
            session.add(capture)
            session.flush()
            session.add(Post(source_id=seen.id, external_id="1", url="x", text="x",
                             content_hash="0" * 64, capture_id=capture.id))
        summary = run_pass(config, store, START)
        assert (summary["skipped"], summary["gone"]) == (1, 1)
        assert liveness(store, "source", seen.id).how == "redirect"

        async def resolver(name):
            return Check("gone", "banned", "restricted") if name == "shop_hidden" else None

        run_pass(config, store, START + timedelta(hours=1), resolver)
        row = liveness(store, "source", never.id)
        assert (row.state, row.how) == ("gone", "banned")


def test_gone_since_the_monitor_noticed_it(tmp_path, db_url, store):
    with World() as world:
        world.tme.set_preview("shop_emptied", "empty")
        config = configure(tmp_path, db_url, world.url)
        noticed = START - timedelta(hours=5)
        with store.session() as session:
            source = add_source(session, "shop_emptied")
            source.gone_at, source.gone_how = noticed, "private"  # ChannelPrivateError
        run_pass(config, store, START)
    row = liveness(store, "source", source.id)
    assert (row.state, row.how, row.first_gone_at) == ("gone", "empty", noticed)
    with store.reader() as session:
        kept = session.get(Source, source.id)
        assert (kept.gone_at, kept.gone_how) == (noticed, "private")
