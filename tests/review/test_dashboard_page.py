"""The dashboard page: leads and admins only, the period from the query string (bad → 422 on one
line), every figure on the page with part C's SVG charts inline, top entities linking to their
entity pages, hostile values escaped, one DashboardCache per app."""

from __future__ import annotations

import re

from crawler.store.models import User
from review.stats import DashboardCache
from tests.review.test_stats_support import at, candidate, entity, event, post, source

PERIOD = "?from=2026-11-01&to=2026-11-20"
HOSTILE = '<script>alert(1)</script>https://evil.kz/"x'


def fill(store, users) -> None:
    with store.session() as session:
        anna = session.get(User, users["analyst"].id)
        for hours, status in ((1, "confirmed"), (30, "confirmed"), (50, "dismissed")):
            created = at(days=2, hours=hours)
            candidate(session, created=created, status=status, decided=at(days=1),
                      decided_by=anna, rules=["sale.core"], category="sale")
            event(session, "user:anna", "decision." + ("confirm" if status == "confirmed"
                                                       else "dismiss"), at(days=1))
        candidate(session, created=at(hours=3))
        bad = entity(session, "bot", HOSTILE)
        for handle in ("shop_one", "shop_two"):
            post(session, source(session, handle), at(days=3), entities=[bad])


def test_analyst_refused_lead_and_admin_see_it(client_for, users):
    assert client_for("analyst").get("/dashboard").status_code == 403
    anonymous = client_for(None).get("/dashboard", headers={"accept": "text/html"},
                                     follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    for role in ("lead", "admin"):
        page = client_for(role).get("/dashboard")
        assert page.status_code == 200 and "<svg" in page.text


def test_figures_charts_and_entity_links(client_for, users, store, review_app):
    fill(store, users)
    page = client_for("lead").get("/dashboard" + PERIOD)
    assert page.status_code == 200
    text = page.text
    totals = re.sub(r"\s+", " ", text.split('class="totals"')[1].split("</p>")[0])
    assert re.search(r"<strong>4</strong>.*<strong>2</strong>.*<strong>1</strong>", totals)
    assert "Pseudonym A" in text and "user:anna" not in text  # display names only
    assert text.count("<svg") == 4 and "<script>" not in text
    precision = text.split('id="precision"')[1].split("</table>")[0]
    assert "sale.core" in precision and "67 %" in precision
    times = text.split('id="decision-times"')[1].split("</p>")[0]
    assert "3" in times and "d</strong>" in times  # three decisions, about a day or two each
    links = re.findall(r'href="(/entities/[^"]+)"', text)
    assert len(links) == 1 and "<" not in links[0] and '"' not in links[0]
    entities = text.split('id="entities"')[1].split("</table>")[0]
    assert "&lt;script&gt;" in entities and "hxxps://evil[.]kz" in entities
    assert "https://evil.kz" not in text
    followed = client_for("analyst").get(links[0])
    assert followed.status_code == 200 and "shop_one" in followed.text
    queue = text.split('id="queue-age"')[1].split("</p>")[0]
    assert "<strong>1</strong>" in queue
    assert isinstance(review_app.state.dashboard_cache, DashboardCache)


def test_bad_period_is_422_on_one_line(client_for, users):
    lead = client_for("lead")
    for query in ("?from=yesterday", "?from=2026-11-20&to=2026-11-01",
                  "?from=2020-01-01&to=2026-01-01", "?to=" + "9" * 60):
        answer = lead.get("/dashboard" + query, headers={"accept": "application/json"})
        assert answer.status_code == 422, query
        detail = answer.json()["detail"]
        assert "\n" not in detail and "Traceback" not in detail
    page = lead.get("/dashboard?from=nope", headers={"accept": "text/html"})
    assert page.status_code == 422 and "YYYY-MM-DD" in page.text


def test_cached_per_period(client_for, users, store, review_app):
    lead = client_for("lead")
    assert lead.get("/dashboard" + PERIOD).status_code == 200
    fill(store, users)
    kept = lead.get("/dashboard" + PERIOD).text.split('class="totals"')[1].split("</p>")[0]
    assert "<strong>0</strong>" in kept  # the minute-long cache still answers
    review_app.state.dashboard_cache = DashboardCache(seconds=0)
    fresh = lead.get("/dashboard" + PERIOD).text.split('class="totals"')[1].split("</p>")[0]
    assert "<strong>4</strong>" in fresh


def test_spot_checks_and_takedowns_on_the_dashboard(client_for, users, store):
    from datetime import timedelta

    from crawler.store.ingest import add_event
    from crawler.store.models import Candidate
    from crawler.store.models_ops import SubjectLiveness

    with store.session() as session:
        for n, status in enumerate(("open", "dismissed", "dismissed", "confirmed")):
            session.add(Candidate(subject_type="post", subject_id=900 + n,
                                  category="sale", status=status, sampled=True))
        shop = source(session, "reported_shop")
        reported = Candidate(subject_type="source", subject_id=shop.id, category="sale",
                             status="reported")
        session.add(reported)
        session.flush()
        add_event(session, "user:lead", "reported", "candidate", reported.id,
                  recipient="telegram", package_id="p").at = at(days=10)
        session.add(SubjectLiveness(subject_type="source", subject_id=shop.id,
                                    target="@reported_shop", state="gone",
                                    first_gone_at=at(days=10) + timedelta(hours=6)))
    text = client_for("lead").get("/dashboard").text
    sample = re.sub(r"\s+", " ", text.split('id="spot-check"')[1].split("</p>")[0])
    assert "<strong>4</strong>" in sample and "3" in sample and "(33.3 %)" in sample
    table = text.split('id="takedowns"')[1].split("</table>")[0]
    assert "telegram" in table and "6.0 h" in table
    assert "5,5 ч" in text.split('id="rereport"')[1].split("</p>")[0]
