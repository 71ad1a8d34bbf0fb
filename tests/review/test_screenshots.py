"""Screenshots of the review app on demo-like data (tests/review/demo_data.py), in real headless
Chromium at 1280×800: the queue, a candidate, the dashboard and a bulk preview, full page, as a
lead sees them. They go under the test's tmp_path; when KYRAN_SCREENSHOTS names a directory,
copies go there too (that is how docs/screenshots/ is made:
`KYRAN_SCREENSHOTS=docs/screenshots pytest tests/review/test_screenshots.py -k sqlite`)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tests.review.browser import log_in, serve
from tests.review.browser import chromium, watched  # noqa: F401  (fixtures)
from tests.review.conftest import make_user
from tests.review.demo_data import seed_demo

NAMES = ("queue", "candidate", "dashboard", "bulk")


def test_screenshots_of_queue_candidate_dashboard_and_bulk(
        store, review_app, users, watched, tmp_path):  # noqa: F811
    boris = make_user(store, "boris", "analyst", "boris-password-1", "Pseudonym B")
    made = seed_demo(store, {"anna": users["analyst"].id, "boris": boris.id})
    page = watched.page
    page.set_viewport_size({"width": 1280, "height": 800})
    with serve(review_app) as base:
        host = base.split("://", 1)[1]
        log_in(watched, base, users["lead"].username, users["lead"].password)
        page.goto(base + "/queue")
        assert page.locator("#rows tbody tr").count() == 6  # the open ones
        watched.shot("queue")
        page.goto(f"{base}/candidates/{made['kristall_demo_shop']}")
        assert page.locator("#evidence .text mark").count() >= 3
        assert page.locator("#model-reasons li").count() >= 3  # why the model decided
        watched.shot("candidate")
        page.goto(base + "/dashboard")
        assert page.locator("svg").count() >= 2
        watched.shot("dashboard")
        page.goto(base + "/bulk?by=filter&status=open&text=news")
        assert page.locator("#bulk-count").get_attribute("data-count") == "2"
        page.select_option("#bulk-decide select[name=action]", "dismiss")
        page.select_option("#bulk-decide select[name=reason]", "news-or-prevention")
        watched.shot("bulk")
        watched.assert_quiet(host)
    target = os.environ.get("KYRAN_SCREENSHOTS")
    for name in NAMES:
        shot = tmp_path / "screenshots" / f"{name}.png"
        assert shot.stat().st_size > 10_000, name
        if target:
            Path(target).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(shot, Path(target) / shot.name)
