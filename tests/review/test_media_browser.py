"""The entity page and the dashboard in real headless Chromium, served by a real server on port 0:
a captured image is loaded from our server only, blurred and greyscale until clicked (no
script); hostile entity values and titles run nothing; nothing is requested from any other
host; the page breaks no rule of the CSP."""

from __future__ import annotations

import shutil

import pytest
from playwright.sync_api import sync_playwright

from sqlalchemy import select

from crawler.store.models import Candidate, Entity
from tests.review.browser import serve
from tests.review.test_media import post_with_image
from tests.review.test_stats_support import at, post, source

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HOSTILE = '"><img src=x onerror=alert(1)><script>alert(2)</script>javascript:alert(3)'


@pytest.fixture
def server(review_app):
    """The app on a real socket (port 0, the address read back); its base URL."""
    with serve(review_app) as url:
        yield url


def test_blurred_image_revealed_by_a_click_and_nothing_runs(server, users, store,
                                                            review_config, tmp_path):
    href, capture_id = post_with_image(store, review_config)
    with store.session() as session:
        wallet = session.scalar(select(Entity).where(Entity.value == "TXYZwallet0001"))
        shop = source(session, "hostile_shop")
        shop.title = HOSTILE
        row = post(session, shop, at(days=2), entities=[wallet])
        row.text = HOSTILE
        session.add(Candidate(subject_type="entity", subject_id=wallet.id, category="sale",
                              status="open", priority=90, reasons=[]))
    dialogs, problems, requests, failed = [], [], [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1000})
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            # Failed loads are judged by URL below (the queue at "/" is another part's page).
            page.on("console", lambda message: message.type == "error"
                    and not message.text.startswith("Failed to load resource")
                    and problems.append(message.text))
            page.on("response", lambda answer: answer.status >= 400
                    and failed.append(answer.url))
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on("request", lambda request: requests.append(request.url))
            page.goto(server + "/login")
            page.fill("input[name=username]", users["lead"].username)
            page.fill("input[name=password]", users["lead"].password)
            page.click("button[type=submit]")
            page.wait_for_url(lambda url: "/login" not in url)
            page.goto(server + href)
            image = page.locator("img.capture-image")
            image.wait_for()
            page.wait_for_function(
                "document.querySelector('img.capture-image').complete && "
                "document.querySelector('img.capture-image').naturalWidth > 0")
            assert image.get_attribute("src") == f"/media/{capture_id}"

            def filtered() -> str:
                return image.evaluate("node => getComputedStyle(node).filter")

            assert "blur" in filtered() and "grayscale" in filtered()
            page.screenshot(path=str(tmp_path / "entity-blurred.png"))
            page.click("details.media-reveal summary")
            page.wait_for_function("document.querySelector('details.media-reveal').open")
            assert filtered() == "none"
            page.click("details.media-reveal summary")
            page.wait_for_function("!document.querySelector('details.media-reveal').open")
            assert "blur" in filtered()
            assert page.locator("script").count() == 0
            assert page.locator("img").count() == 1  # the hostile <img> stayed text
            page.goto(server + "/dashboard")
            page.locator("svg[role=img]").first.wait_for()
            page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
        finally:
            browser.close()
    assert dialogs == []
    assert problems == []
    assert set(failed) <= {server + "/", server + "/favicon.ico"}
    assert [url for url in requests if not url.startswith(server + "/")] == []
