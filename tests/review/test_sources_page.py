"""The watchlist and source pages: analysts read, leads add by hand (validated, with a reason and
a `watchlist.add` event) and pause or resume watching (events); CSRF on every form; hostile
titles escaped."""

from __future__ import annotations

import re

from sqlalchemy import select

from crawler.store.models import Event, Source
from tests.review.test_stats_support import source


def events(store, action: str) -> list[Event]:
    with store.reader() as session:
        return list(session.scalars(select(Event).where(Event.action == action)))


def sources(store) -> list[Source]:
    with store.reader() as session:
        return list(session.scalars(select(Source).order_by(Source.id)))


def add(client, **fields):
    data = {"platform": "telegram", "handle": "", "reason": "seen in a shop's post",
            "csrf_token": client.csrf, **fields}
    return client.post("/sources", data=data, follow_redirects=False)


def test_lead_adds_a_channel_by_hand_with_a_reason(client_for, users, store):
    lead = client_for("lead")
    answer = add(lead, handle="https://t.me/s/Kladmen_KZ/", reason="  named by   a courier ad ",
                 region="Almaty", priority="80")
    assert answer.status_code == 303
    [row] = sources(store)
    assert (row.platform, row.handle, row.kind, row.watched) == ("telegram", "kladmen_kz",
                                                                 "channel", True)
    assert (row.watch_reason, row.region, row.watch_priority) == ("named by a courier ad",
                                                                  "Almaty", 80)
    assert answer.headers["location"] == f"/sources/{row.id}?done=added"
    [event] = events(store, "watchlist.add")
    assert event.actor == "user:leon" and event.subject_id == row.id
    assert event.payload["reason"] == "named by a courier ad"
    page = lead.get(answer.headers["location"])
    assert "named by a courier ad" in page.text and "watchlist.add" in page.text
    listing = client_for("analyst").get("/sources").text
    assert "kladmen_kz" in listing and "Almaty" in listing
    again = add(lead, handle="@kladmen_kz", reason="second look")
    assert again.headers["location"].endswith("done=known") and len(sources(store)) == 1


def test_lead_adds_a_site(client_for, users, store):
    lead = client_for("lead")
    assert add(lead, platform="web", handle="https://Market.Example.KZ/shop?id=1",
               reason="classifieds").status_code == 303
    [row] = sources(store)
    assert (row.platform, row.handle, row.kind) == ("web", "market.example.kz", "site")


def test_bad_input_is_one_line_and_stores_nothing(client_for, users, store):
    lead = client_for("lead")
    for fields in ({"handle": "кладмен_kz"}, {"handle": "abc"}, {"handle": "<script>x"},
                   {"handle": "good_name", "reason": "   "},
                   {"platform": "web", "handle": "javascript:alert(1)"},
                   {"platform": "web", "handle": "not a host"},
                   {"platform": "web", "handle": "http://[abc/"},
                   {"platform": "ftp", "handle": "good_name"}):
        answer = add(lead, **fields)
        assert answer.status_code == 400, fields
        problem = re.search(r'<p class="problem" role="alert">(.*?)</p>', answer.text, re.S)
        assert problem and "\n" not in problem.group(1).strip(), fields
        assert "<script>x" not in answer.text
    assert add(lead, handle="good_name", priority="500").status_code == 422
    assert sources(store) == [] and events(store, "watchlist.add") == []


def test_analyst_reads_but_cannot_act_and_csrf_is_required(client_for, users, store):
    with store.session() as session:
        source_id = source(session, "watched_one").id
    analyst, lead = client_for("analyst"), client_for("lead")
    page = analyst.get(f"/sources/{source_id}")
    assert page.status_code == 200 and 'id="watch-toggle"' not in page.text
    assert 'id="add-source"' not in analyst.get("/sources").text
    assert add(analyst, handle="new_channel").status_code == 403
    assert analyst.post(f"/sources/{source_id}/watch", data={
        "action": "pause", "csrf_token": analyst.csrf}).status_code == 403
    assert lead.post("/sources", data={"platform": "telegram", "handle": "new_channel",
                                       "reason": "r"}).status_code == 403
    assert lead.post(f"/sources/{source_id}/watch", data={"action": "pause",
                                                          "csrf_token": "0" * 64}).status_code == 403
    assert len(sources(store)) == 1 and sources(store)[0].watched
    forms = re.findall(r'<form method="post"[^>]*>\s*<input type="hidden" name="csrf_token" '
                       r'value="([0-9a-f]{64})"', lead.get("/sources").text)
    assert lead.csrf in forms and len(forms) == lead.get("/sources").text.count(
        '<form method="post"')


def test_pause_and_resume_are_events(client_for, users, store):
    with store.session() as session:
        source_id = source(session, "watched_two").id
    lead = client_for("lead")

    def act(action: str):
        return lead.post(f"/sources/{source_id}/watch",
                         data={"action": action, "csrf_token": lead.csrf}, follow_redirects=False)

    assert act("pause").headers["location"] == f"/sources/{source_id}?done=paused"
    assert not sources(store)[0].watched
    act("pause")  # already paused: no second event
    assert len(events(store, "watchlist.pause")) == 1
    page = lead.get(f"/sources/{source_id}").text
    assert 'value="resume"' in page
    act("resume")
    assert sources(store)[0].watched and len(events(store, "watchlist.resume")) == 1
    assert act("delete").status_code == 422
    assert lead.post("/sources/999999/watch", data={"action": "pause",
                                                    "csrf_token": lead.csrf}).status_code == 404


def test_list_filters_pages_and_hostile_text(client_for, users, store):
    with store.session() as session:
        hostile = source(session, "hostile_one")
        hostile.title = '<script>alert(1)</script> https://evil.kz'
        hostile.about = "\u202eevil <svg onload=alert(1)>"
        hostile.region = "<b>x</b>"
        paused = source(session, "paused_one")
        paused.watched = False
        hostile_id = hostile.id
    analyst = client_for("analyst")
    listing = analyst.get("/sources").text
    assert "&lt;script&gt;" in listing and "<script>alert" not in listing
    assert "hxxps://evil[.]kz" in listing and "<b>x</b>" not in listing
    page = analyst.get(f"/sources/{hostile_id}").text
    assert "<svg onload" not in page and "\u202e" not in page
    watched = analyst.get("/sources?watched=no").text
    assert "paused_one" in watched and "hostile_one" not in watched
    for query in ("?status=nonsense", "?watched=maybe", "?page=0", "?status=' OR 1=1 --"):
        assert analyst.get("/sources" + query).status_code == 422, query
    assert analyst.get("/sources/0").status_code == 422
    assert analyst.get("/sources/123456").status_code == 404
