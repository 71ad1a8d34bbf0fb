"""The bulk workspace in real headless Chromium: a lead dismisses by filter with one reason
through preview and confirmation and each candidate's history shows its own event; a lead ticks
candidates in the queue and previews exactly those; an analyst is refused at /bulk and has no
link to it."""

from __future__ import annotations

from sqlalchemy import select

from crawler.store.models import Candidate, Event
from tests.review.browser import add_flagged_source, log_in, serve
from tests.review.browser import chromium, watched  # noqa: F401  (fixtures)


def test_lead_bulk_dismisses_by_filter_through_preview_and_confirm(
        store, review_app, users, watched):  # noqa: F811
    with store.session() as session:
        news = [add_flagged_source(session, handle=f"almaty_news_{i}", title=f"Новости {i}",
                                   texts=["Задержан курьер: изъято 200 г мефедрона"],
                                   priority=20 + i) for i in range(3)]
        shop = add_flagged_source(session, handle="kristall_shop", title="KRISTALL",
                                  texts=["Мефедрон, клады по Алматы"], priority=90)
    with serve(review_app) as base:
        host = base.split("://", 1)[1]
        log_in(watched, base, users["lead"].username, users["lead"].password)
        page = watched.page
        page.goto(base + "/queue?status=open&text=news")
        assert page.locator("#rows tbody tr").count() == 3
        page.click("#bulk-filter")  # the same filters, in the workspace
        page.wait_for_selector("#preview")
        assert page.locator("#bulk-count").get_attribute("data-count") == "3"
        shown = sorted(int(x) for x in page.locator("#preview-rows tbody tr").evaluate_all(
            "rows => rows.map(r => r.dataset.candidate)"))
        assert shown == news
        page.select_option("#bulk-decide select[name=action]", "dismiss")
        page.select_option("#bulk-decide select[name=reason]", "news-or-prevention")
        page.click("#bulk-continue")
        page.wait_for_selector("#bulk-summary")
        assert page.locator("#bulk-summary").get_attribute("data-count") == "3"
        assert "news-or-prevention" in page.locator("#bulk-reason").inner_text()
        page.click("#bulk-apply")
        page.wait_for_selector("#bulk-applied")
        assert page.locator("#bulk-applied").get_attribute("data-count") == "3"
        assert page.locator("#bulk-skipped").get_attribute("data-count") == "0"
        for candidate_id in news:
            page.goto(f"{base}/candidates/{candidate_id}")
            assert page.locator("#history [data-action='decision.dismiss']").count() == 1
            assert "news-or-prevention" in page.locator("#history").inner_text()
        watched.assert_quiet(host)
    with store.session() as session:
        assert {session.get(Candidate, i).status for i in news} == {"dismissed"}
        assert session.get(Candidate, shop).status == "open"
        events = list(session.scalars(select(Event).where(Event.action == "decision.dismiss")))
        assert sorted(e.subject_id for e in events) == news
        assert len({e.payload["bulk"] for e in events}) == 1


def test_lead_ticks_candidates_in_the_queue(store, review_app, users, watched):  # noqa: F811
    with store.session() as session:
        ids = [add_flagged_source(session, handle=f"shop{i}", title=f"Магазин {i}",
                                  texts=["шишки, доставка"], priority=50 - i) for i in range(4)]
    with serve(review_app) as base:
        log_in(watched, base, users["lead"].username, users["lead"].password)
        page = watched.page
        page.goto(base + "/queue")
        for candidate_id in (ids[1], ids[3]):
            page.check(f"#rows tr[data-candidate='{candidate_id}'] input[type=checkbox]")
        page.click("#bulk-selected")
        page.wait_for_selector("#preview")
        assert page.locator("#bulk-count").get_attribute("data-count") == "2"
        shown = page.locator("#preview-rows tbody tr").evaluate_all(
            "rows => rows.map(r => Number(r.dataset.candidate))")
        assert sorted(shown) == sorted([ids[1], ids[3]])
        watched.assert_quiet(base.split("://", 1)[1])


def test_analyst_refused_at_bulk(store, review_app, users, watched):  # noqa: F811
    with serve(review_app) as base:
        log_in(watched, base, users["analyst"].username, users["analyst"].password)
        page = watched.page
        page.goto(base + "/queue")
        assert page.locator("a[href='/bulk']").count() == 0
        assert page.locator("#bulk-pick, input[form=bulk-pick]").count() == 0
        response = page.goto(base + "/bulk")
        assert response.status == 403
        assert page.locator("#bulk-filters, #preview").count() == 0


def test_xss_corpus_in_the_workspace_executes_nothing(
        store, review_app, users, watched):  # noqa: F811
    from tests.review.test_xss_browser import FOREIGN, _hostile_store

    foreign = FOREIGN.replace(":not([name=note])", ":not([name=note]):not([name=ids_text])")
    ids = _hostile_store(store)
    with serve(review_app) as base:
        host = base.split("://", 1)[1]
        log_in(watched, base, users["lead"].username, users["lead"].password)
        page = watched.page
        page.goto(base + "/queue?status=all")
        assert page.locator(foreign).count() == 0
        page.goto(base + "/bulk?by=filter&status=all&sort=age")
        assert page.locator("#bulk-count").get_attribute("data-count") == str(len(ids))
        assert page.locator(foreign).count() == 0
        page.select_option("#bulk-decide select[name=action]", "escalate")
        page.click("#bulk-continue")
        page.wait_for_selector("#bulk-summary")
        assert page.locator(foreign).count() == 0
        page.click("#bulk-apply")
        page.wait_for_selector("#bulk-applied")
        assert page.locator("#bulk-applied").get_attribute("data-count") == str(len(ids))
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute"
                                                     "('href'))")
        assert all(h.startswith("/") and not h.startswith("//") for h in hrefs)
        watched.assert_quiet(host)
