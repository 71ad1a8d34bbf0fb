"""The charts in real headless Chromium under the app's Content-Security-Policy: they draw, and
hostile labels run nothing and break no rule of the policy."""

from __future__ import annotations

import shutil
from datetime import date, timedelta

import pytest
from playwright.sync_api import sync_playwright

from review import charts
from review.stats import DayCounts, Precision

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HOSTILE = ['<script>alert(1)</script>', "\"><img src=x onerror=alert(2)>",
           "<svg/onload=alert(3)>", "javascript:alert(4)", "</text><script>alert(5)</script>"]


def page_html() -> str:
    days = [DayCounts(date(2026, 11, 1) + timedelta(days=n), n % 4, n % 3, n % 2)
            for n in range(14)]
    rows = [Precision(name, 3, 1) for name in HOSTILE]
    body = "".join(str(chart) for chart in (
        charts.day_chart(days, title=HOSTILE[0]), charts.precision_chart(rows),
        charts.histogram([(HOSTILE[1], 2), ("older", 1)], title=HOSTILE[2])))
    return (f'<!doctype html><html><head><meta http-equiv="Content-Security-Policy" '
            f'content="{CSP}"><title>charts</title></head><body>{body}</body></html>')


def test_charts_draw_and_run_nothing_in_chromium(tmp_path):
    dialogs, problems, requests = [], [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 900, "height": 900})
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.on("console", lambda message: message.type in ("error", "warning")
                    and problems.append(message.text))
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on("request", lambda request: requests.append(request.url))
            page.set_content(page_html(), wait_until="load")
            svgs = page.locator("svg[role=img]")
            assert svgs.count() == 3
            for index in range(3):
                box = svgs.nth(index).bounding_box()
                assert box and box["width"] > 100 and box["height"] > 50
            assert page.locator("script").count() == 0
            assert page.locator("img").count() == 0
            assert page.locator("svg[role=img] > title").first.text_content() == \
                charts.label(HOSTILE[0], 200)
            page.screenshot(path=str(tmp_path / "charts.png"))
        finally:
            browser.close()
    assert dialogs == []
    assert problems == []
    assert [url for url in requests if not url.startswith(("about:", "data:"))] == []


@pytest.mark.parametrize("hostile", HOSTILE)
def test_labels_keep_their_text(hostile):
    assert charts.label(hostile, 200) == hostile  # shown as it is, as text, not dropped
