"""The XSS corpus (tests/data/xss_corpus.jsonl) stored as post text, channel titles, handles,
URLs and indicator values, then every page that shows them opened in real headless Chromium:
nothing executes (no dialog, no console or page error), nothing asks any host but the app, no
scraped link is clickable, no element of a payload reaches the page."""

from __future__ import annotations

from tests.review.browser import add_flagged_source, log_in, serve, xss_corpus
from tests.review.browser import chromium, watched  # noqa: F401  (fixtures)

FOREIGN = "main script, main iframe, main object, main embed, main svg, main img, main style, " \
          "main link, main meta, main base, main form[action^='http'], main [onerror], " \
          "main [onload], main [onmouseover], main [onfocus], main [ontoggle], main textarea" \
          ":not([name=note])"


def _hostile_store(store) -> list[int]:
    ids = []
    with store.session() as session:
        for number, item in enumerate(xss_corpus()):
            text = item["text"]
            span = [(0, min(len(text), 12)), (len(text) // 2, len(text) // 2 + 5)]
            ids.append(add_flagged_source(
                session, handle=f"h{number}{text}"[:200], title=text,
                texts=[text, f"мефедрон {text} закладки"],
                spans=[sorted(set(s for s in span if s[0] < s[1])), [(0, 8)]],
                priority=100 - number % 100,
                entities=[("domain", f"{text}"[:500]), ("telegram_bot", f"@{number}{text}")]))
    return ids


def test_xss_corpus_executes_nothing(store, review_app, users, watched):  # noqa: F811
    ids = _hostile_store(store)
    analyst = users["analyst"]
    with serve(review_app) as base:
        host = base.split("://", 1)[1]
        log_in(watched, base, analyst.username, analyst.password)
        page = watched.page
        pages = ["/queue?status=all", "/queue?status=all&page=2",
                 "/queue?text=%3Cscript%3E&status=all"] + [f"/candidates/{i}" for i in ids]
        for path in pages:
            response = page.goto(base + path)
            assert response.status == 200, path
            page.wait_for_load_state("load")
            assert page.locator(FOREIGN).count() == 0, f"payload markup on {path}"
            hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute"
                                                         "('href'))")
            assert all(h.startswith("/") and not h.startswith("//") for h in hrefs), \
                (path, [h for h in hrefs if not h.startswith("/")])
        page.goto(base + f"/candidates/{ids[0]}")
        watched.shot("xss-candidate")
        page.goto(base + "/queue?status=all")
        watched.shot("xss-queue")
        watched.assert_quiet(host)
        # the text is shown, as text: the first payload's words are there, escaped
        page.goto(base + f"/candidates/{ids[0]}")
        assert "<script>alert('xss-script')</script>" in page.locator("#subject").inner_text()
