"""report.html in real headless Chromium with every text of the XSS corpus as post text, title,
handle, indicator and request text: no dialog, no console or page error, no request beyond the
report file itself, nothing scraped is a link, and the hostile text is shown as text."""

from __future__ import annotations

from evidence.report import report_html
from tests.evidence.report_samples import subjects
from tests.review.browser import chromium, watched, xss_corpus  # noqa: F401


def hostile_subjects() -> list[dict]:
    rows = subjects()
    template = rows[0]["items"][0]
    corpus = xss_corpus()
    rows[0]["items"] = [{**template, "ref": f"P{n}", "text": case["text"], "url": case["text"],
                         "spans": [[0, min(5, len(case["text"])), case["text"][:20]]],
                         "indicators": [{"kind": case["id"], "value": case["text"]}]}
                        for n, case in enumerate(corpus, start=1)]
    rows[1]["title"] = " ".join(case["text"] for case in corpus[:10])
    rows[1]["handle"] = corpus[0]["text"]
    return rows


def test_hostile_text_in_the_report_stays_text(watched, tmp_path):  # noqa: F811
    corpus = xss_corpus()
    page_html = report_html(
        package={"package_id": "p<script>", "organisation": corpus[1]["text"]},
        subjects=hostile_subjects(),
        requests={"requests/telegram.en.txt": "\n".join(case["text"] for case in corpus)})
    path = tmp_path / "report.html"
    path.write_text(page_html, encoding="utf-8")
    page = watched.page
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    assert watched.dialogs == [] and watched.page_errors == []
    assert watched.console_errors == []
    assert set(watched.requests) == {path.as_uri()}  # not one image, frame, script or beacon
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    assert hrefs and all(href.startswith("#") for href in hrefs)
    assert page.locator("script, iframe, object, embed, svg, form, input").count() == 0
    text = page.locator("#P1").inner_text()
    assert corpus[0]["text"].replace("\n", " ")[:20] in text.replace("\n", " ")
