"""The analyst's path in real headless Chromium: log in, take next from the queue, read the
matched words highlighted in the post, confirm with the keyboard, see the decision in the
history; screenshots of the queue and the candidate page under the test's tmp_path."""

from __future__ import annotations

from sqlalchemy import select

from crawler.store.models import Candidate, Event
from tests.review.browser import add_flagged_source, log_in, open_watched, serve
from tests.review.conftest import make_user
from tests.review.browser import chromium, watched  # noqa: F401  (fixtures)

TEXT = ("Лучший мефедрон в городе, закладки по Алматы 24/7. Пиши @best_shop_bot, "
        "сайт shop.example.kz")
SPANS = [(7, 15), (26, 34)]  # мефедрон, закладки


def test_take_next_highlight_confirm_with_keyboard(
        store, review_app, users, watched, tmp_path):  # noqa: F811
    with store.session() as session:
        top = add_flagged_source(session, handle="best_shop", title="Лучший магазин",
                                 texts=[TEXT], spans=[SPANS], priority=99,
                                 entities=[("telegram_bot", "@best_shop_bot")])
        add_flagged_source(session, handle="other_shop", title="Другой", texts=["мефедрон"],
                           priority=10)
    analyst = users["analyst"]
    with serve(review_app) as base:
        host = base.split("://", 1)[1]
        log_in(watched, base, analyst.username, analyst.password)
        page = watched.page
        page.goto(base + "/queue")
        assert page.locator("#rows tbody tr").count() == 2
        assert page.locator("[data-count=open] b").inner_text() == "2"
        watched.shot("queue")
        page.keyboard.press("t")  # take next
        page.wait_for_url(f"**/candidates/{top}")
        marks = page.locator("#evidence .text mark").all_inner_texts()
        assert marks == ["мефедрон", "закладки"]
        assert "shop[.]example[.]kz" in page.locator("#evidence .text").inner_text()
        assert page.locator("#evidence a").count() == 0  # nothing scraped is a link
        assert page.locator("#indicators a[href='/entities/telegram_bot/%40best_shop_bot']").count() == 1
        assert page.locator("#shortcuts kbd").count() >= 8
        watched.shot("candidate")
        page.keyboard.press("c")  # confirm, policy preselected for a sale
        page.wait_for_selector("#history [data-action='decision.confirm']")
        assert "Pseudonym A" in page.locator("#history").inner_text()  # never the username
        assert "confirm" in page.locator("#status").get_attribute("class") or \
            page.locator("#status.status-confirmed").count() == 1
        watched.shot("candidate-confirmed")
        watched.assert_quiet(host)
    with store.session() as session:
        candidate = session.get(Candidate, top)
        assert candidate.status == "confirmed" and candidate.policy == "drug-sale"
        actions = list(session.scalars(select(Event.action).where(
            Event.subject_type == "candidate", Event.subject_id == top).order_by(Event.id)))
        assert actions[-1] == "decision.confirm" and "claim.next" in actions
    for name in ("queue", "candidate", "candidate-confirmed"):
        assert (tmp_path / "screenshots" / f"{name}.png").stat().st_size > 5000


def test_dismiss_and_next_with_keyboard_needs_a_reason(
        store, review_app, users, watched):  # noqa: F811
    with store.session() as session:
        first = add_flagged_source(session, handle="a_shop", title="A", texts=["мефедрон"],
                                   priority=90)
        second = add_flagged_source(session, handle="b_shop", title="B", texts=["шишки"],
                                    priority=80)
    analyst = users["analyst"]
    with serve(review_app) as base:
        log_in(watched, base, analyst.username, analyst.password)
        page = watched.page
        page.goto(base + "/queue")
        page.keyboard.press("t")
        page.wait_for_url(f"**/candidates/{first}")
        page.keyboard.press("Shift+D")  # no reason chosen: the form refuses to submit
        assert page.url.endswith(f"/candidates/{first}")
        page.select_option("#form-dismiss select[name=reason]", "legitimate-goods")
        page.keyboard.press("Escape")  # leave the field: keys act again
        page.keyboard.press("Shift+D")  # dismiss & next
        page.wait_for_url(f"**/candidates/{second}")
    with store.session() as session:
        assert session.get(Candidate, first).status == "dismissed"
        assert session.get(Candidate, first).reason == "legitimate-goods"
        assert session.get(Candidate, second).status == "in_review"


def test_two_analysts_taking_next_at_once_get_different_ones(
        store, review_app, users, chromium, tmp_path):  # noqa: F811
    with store.session() as session:
        ids = {add_flagged_source(session, handle=f"s{i}", title=f"T{i}", texts=["мефедрон"],
                                  priority=50) for i in range(3)}
    second = make_user(store, "boris", "analyst", "boris-password-1")
    with serve(review_app) as base:
        pages = [open_watched(chromium, tmp_path / name) for name in ("a", "b")]
        try:
            log_in(pages[0], base, users["analyst"].username, users["analyst"].password)
            log_in(pages[1], base, second.username, second.password)
            for watched_page in pages:
                watched_page.page.goto(base + "/queue")
            for watched_page in pages:  # both clicks before either page is awaited
                watched_page.page.evaluate("document.getElementById('take-next').click()")
            taken = []
            for watched_page in pages:
                watched_page.page.wait_for_url("**/candidates/*")
                taken.append(int(watched_page.page.url.rsplit("/", 1)[1].split("?")[0]))
            assert len(set(taken)) == 2 and set(taken) <= ids
        finally:
            for watched_page in pages:
                watched_page.page.context.close()


def test_analyst_refused_at_the_users_page(store, review_app, users, watched):  # noqa: F811
    with serve(review_app) as base:
        log_in(watched, base, users["analyst"].username, users["analyst"].password)
        response = watched.page.goto(base + "/admin/users")
        assert response.status == 403
        assert watched.page.locator("table").count() == 0
