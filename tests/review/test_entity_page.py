"""The entity page: every post and source carrying an indicator on a timeline (newest first, by
day), related candidates; hostile values escaped, defanged and never a link to where they
point."""

from __future__ import annotations

import re

from crawler.store.models import Candidate
from review.routes.entities import entity_href
from tests.review.test_stats_support import at, entity, post, source

HOSTILE = '<img src=x onerror=alert(1)>\u202ehttps://evil-shop.kz/buy?a=1&b="2"'
TITLE = '<script>alert("t")</script>'


def fill(store):
    with store.session() as session:
        wallet = entity(session, "wallet", HOSTILE)
        first, second = source(session, "shop_one"), source(session, "shop_two")
        second.title = TITLE
        old = post(session, first, at(days=5), entities=[wallet])
        old.text = "old post <b>bold</b> https://evil-shop.kz/x"
        new = post(session, second, at(days=1), entities=[wallet])
        new.text = "newest post"
        same_day = post(session, first, at(days=1, hours=2), entities=[wallet])
        same_day.text = "same day, earlier"
        session.add(Candidate(subject_type="entity", subject_id=wallet.id, category="sale",
                              status="open", priority=77, reasons=[]))
        session.add(Candidate(subject_type="post", subject_id=new.id, category="sale",
                              status="confirmed", priority=40, reasons=[]))
        session.flush()
        return wallet.kind, wallet.value


def test_timeline_sources_and_candidates(client_for, users, store):
    kind, value = fill(store)
    page = client_for("analyst").get(entity_href(kind, value))
    assert page.status_code == 200, page.text
    text = page.text
    days = re.findall(r"<h3>(\d{4}-\d\d-\d\d)</h3>", text)
    assert days == ["2026-11-19", "2026-11-15"]
    assert text.index("newest post") < text.index("same day, earlier") < text.index("old post")
    sources = text.split('id="sources"')[1].split("</table>")[0]
    assert "shop_one" in sources and "shop_two" in sources
    related = text.split('id="related"')[1].split("</ul>")[0]
    assert related.count("/candidates/") == 2 and "77" in related


def test_hostile_values_escaped_and_defanged(client_for, users, store):
    kind, value = fill(store)
    text = client_for("analyst").get(entity_href(kind, value)).text
    assert "<img src=x" not in text and "<script>alert" not in text and "<b>bold" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "&lt;script&gt;alert" in text and "&lt;b&gt;bold" in text
    assert "\u202e" not in text
    assert "https://evil-shop.kz" not in text and "hxxps://evil-shop[.]kz" in text
    hrefs = re.findall(r'(?:href|src)="([^"]*)"', text)
    assert hrefs and all(h.startswith("/") and "evil" not in h for h in hrefs)


def test_url_values_with_slashes_and_unknown_entities(client_for, users, store):
    with store.session() as session:
        link = entity(session, "url", "https://t.me/+AbCdEf/12?x=1#y")
        post(session, source(session, "shop_three"), at(days=2), entities=[link])
    analyst = client_for("analyst")
    assert analyst.get(entity_href("url", "https://t.me/+AbCdEf/12?x=1#y")).status_code == 200
    with store.session() as session:
        dots = entity(session, "handle", "..")
        post(session, source(session, "shop_four"), at(days=2), entities=[dots])
    assert entity_href("handle", "..") == "/entities/handle/%2E%2E"
    assert "shop_four" in analyst.get(entity_href("handle", "..")).text
    missing = analyst.get("/entities/wallet/nothing-here", headers={"accept": "application/json"})
    assert missing.status_code == 404 and missing.json() == {"detail": "no such entity"}
    too_long = analyst.get("/entities/wallet/" + "a" * 600,
                           headers={"accept": "application/json"})
    assert too_long.status_code == 422


def test_login_required(client_for, users, store):
    kind, value = fill(store)
    anonymous = client_for(None).get(entity_href(kind, value),
                                     headers={"accept": "application/json"})
    assert anonymous.status_code == 401
