"""Why the model decided, on the candidate page and in the API (SQLite and PostgreSQL): a post
the chain scored with the bundled model shows its stored reasons under the rules, with weights;
reasons quote posts (n-grams), so they are escaped and defanged like all scraped text; the list
is hidden when there is none; the API gives them per verdict and for the candidate."""

from __future__ import annotations

import re

from markupsafe import escape
from sqlalchemy import select

from crawler.defang import one_line
from crawler.store.models import Candidate, Post, Source, Verdict
from crawler.store.views import candidate_view
from pipelines.chain import ProcessingChain
from tests.pipelines.test_chain import SHOP_AD, channel, post
from tests.review.conftest import token_client
from tests.review.test_api_support import token_for
from tests.review.test_stats_support import at, source

TITLE = {"ru": "Почему так решила модель", "en": "Why the model decided"}
SCRIPT = "n-gram «<script>alert(1)</script>»"
LINK = "n-gram «t.me/\u202eshop»"  # a link and a bidi override, as a post could carry
_serial = iter(range(1, 10**9))


def _reasons_list(page: str) -> str:
    found = re.search(r'<ul class="model-reasons" id="model-reasons"[^>]*>(.*?)</ul>', page,
                      re.S)
    assert found, "no list of the model's reasons"
    return found.group(1)


def _flagged(session, src: Source, reasons: list[dict] | None, score: float = 0.9) -> Post:
    row = Post(source_id=src.id, external_id=str(next(_serial)),
               url="https://t.me/x/1", text="ad", content_hash="0" * 64, first_seen=at(days=1),
               last_seen=at(days=1))
    session.add(row)
    session.flush()
    session.add(Verdict(subject_type="post", subject_id=row.id, category="sale", score=score,
                        model_version="t", contributions=reasons))
    session.flush()
    return row


def _on_source(session, src: Source) -> int:
    row = Candidate(subject_type="source", subject_id=src.id, category="sale", status="open",
                    reasons=[])
    session.add(row)
    session.flush()
    return row.id


def test_a_post_scored_by_the_chain_shows_why_the_model_decided(review_config, store,
                                                                client_for):
    ProcessingChain(store, review_config, "component:test").process([
        channel("city_chat", 5, "Алматы чат", "Общение жителей", 50000),
        post("city_chat", 1, SHOP_AD.format(price=15000, bot="kristall_kz_bot")),
        channel("short_chat", 6, "Чат", "", 300),
        post("short_chat", 1, "клад<script>")])  # its n-grams hold a piece of the tag
    analyst = client_for("analyst")
    robot = token_client(analyst.app, token_for(store, "anna"))
    with store.session() as session:
        ids = session.scalars(select(Candidate.id).order_by(Candidate.id)).all()
    assert len(ids) == 2
    for candidate in ids:
        with store.session() as session:
            view = candidate_view(session, candidate)
            stored = view.evidence[0].verdict.contributions
            reasons = view.model_reasons()
        assert stored and reasons  # the bundled model decided, and its reasons were kept

        page = analyst.get(f"/candidates/{candidate}").text
        rules = page[page.index('id="rules"'):page.index('id="evidence"')]
        assert "<code>sale." in rules  # the rules that fired are still listed
        assert TITLE["ru"] in rules
        shown = _reasons_list(rules)
        for feature, weight in reasons:
            assert f'<span class="feature">{escape(one_line(feature))}' \
                   f'</span> <span class="weight">{weight:+.2f}</span>' in shown
        assert "<sc" not in shown and "<script" not in page.replace(
            '<script src="/static/keys.js" defer></script>', "")

        data = robot.get(f"/api/candidates/{candidate}").json()
        assert [(r["feature"], r["weight"]) for r in data["contributions"]] == reasons
        assert [(r["feature"], r["weight"]) for r in data["evidence"][0]["verdict"][
            "contributions"]] == [(r["feature"], r["weight"]) for r in stored]


def test_hostile_reasons_are_text_strongest_first_and_each_once(store, client_for):
    with store.session() as session:
        shop = source(session, "xss_shop")
        _flagged(session, shop, [{"feature": SCRIPT, "weight": 2.3071},
                                 {"feature": "bot link", "weight": 1.2}])
        _flagged(session, shop, [{"feature": "bot link", "weight": 1.5},
                                 {"feature": LINK, "weight": 0.4}], score=0.8)
        candidate = _on_source(session, shop)
    analyst = client_for("analyst")
    shown = _reasons_list(analyst.get(f"/candidates/{candidate}").text)
    items = re.findall(r'<span class="feature">(.*?)</span> <span class="weight">(.*?)</span>',
                       shown)
    assert items == [("n-gram «&lt;script&gt;alert(1)&lt;/script&gt;»", "+2.31"),
                     ("bot link", "+1.50"),  # the strongest of the two posts' weights
                     ("n-gram «t[.]me/shop»", "+0.40")]  # defanged, the override gone
    assert "<script>alert" not in shown and "\u202e" not in shown

    analyst.post("/account", data={"locale": "en", "display_name": "Pseudonym A",
                                   "csrf_token": analyst.csrf})
    assert TITLE["en"] in analyst.get(f"/candidates/{candidate}").text

    robot = token_client(analyst.app, token_for(store, "anna"))
    data = robot.get(f"/api/candidates/{candidate}").json()
    assert data["contributions"] == [
        {"feature": SCRIPT, "feature_defanged": SCRIPT, "weight": 2.3071},
        {"feature": "bot link", "feature_defanged": "bot link", "weight": 1.5},
        {"feature": LINK, "feature_defanged": "n-gram «t[.]me/shop»", "weight": 0.4}]
    per_post = [e["verdict"]["contributions"] for e in data["evidence"]]
    assert [[r["feature"] for r in reasons] for reasons in per_post] == [
        [SCRIPT, "bot link"], ["bot link", LINK]]


def test_no_reasons_no_list(store, client_for):
    with store.session() as session:
        ruled = source(session, "rules_only_shop")
        _flagged(session, ruled, None)  # stored before migration 0009
        _flagged(session, ruled, [], score=0.8)  # the rules alone decided
        candidate = _on_source(session, ruled)
    page = client_for("analyst").get(f"/candidates/{candidate}").text
    assert 'id="rules"' in page
    assert "model-reasons" not in page and TITLE["ru"] not in page
    robot = token_client(client_for("analyst").app, token_for(store, "anna"))
    data = robot.get(f"/api/candidates/{candidate}").json()
    assert data["contributions"] == []
    assert [e["verdict"]["contributions"] for e in data["evidence"]] == [[], []]
