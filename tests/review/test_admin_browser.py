"""The account pages in real headless Chromium (Debian's, through Playwright): an analyst is
refused at the users page, an admin adds a user through the form and that user logs in; no
page breaks the Content-Security-Policy or logs a console error."""

from __future__ import annotations

import pytest
from playwright.sync_api import sync_playwright

from tests.review.browser import serve


@pytest.fixture
def browser():
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu"])
        yield launched
        launched.close()


def watched_page(browser, problems: list[str]):
    page = browser.new_context().new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return page


def log_in(page, base: str, username: str, password: str) -> None:
    page.goto(base + "/login?next=/account")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def test_analyst_refused_and_admin_adds_a_user(review_app, users, browser, tmp_path):
    problems: list[str] = []
    with serve(review_app) as base:
        analyst = watched_page(browser, problems)
        log_in(analyst, base, "anna", users["analyst"].password)
        response = analyst.goto(base + "/admin/users")
        assert response.status == 403
        assert problems == ["Failed to load resource: the server responded with a status of "
                            "403 (Forbidden)"]
        problems.clear()
        assert "this needs the admin role" in analyst.inner_text("main")
        assert analyst.locator("a[href='/admin/users']").count() == 0  # not offered either

        admin = watched_page(browser, problems)
        log_in(admin, base, "adam", users["admin"].password)
        admin.goto(base + "/admin/users")
        admin.fill("#add-user input[name=username]", "nova")
        admin.fill("#add-user input[name=display_name]", "<b>Star</b>")
        admin.fill("#add-user input[name=password]", "nova-password-1")
        admin.click("#add-user button[type=submit]")
        admin.wait_for_url("**/admin/users?done=added")
        assert admin.locator("#users tbody tr").count() == 4
        assert admin.locator("#users b").count() == 0  # the name is text, not markup
        assert "<b>Star</b>" in admin.inner_text("#users")
        admin.screenshot(path=str(tmp_path / "admin-users.png"), full_page=True)

        nova = watched_page(browser, problems)
        log_in(nova, base, "nova", "nova-password-1")
        nova.goto(base + "/account")
        assert nova.inner_text(".who a") == "<b>Star</b>"
        nova.click(".who button")  # log out
        nova.wait_for_url("**/login")
        assert nova.goto(base + "/account").url.startswith(base + "/login?next=")
    assert problems == []
    assert (tmp_path / "admin-users.png").stat().st_size > 5000
