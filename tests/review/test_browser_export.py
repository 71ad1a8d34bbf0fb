"""Exporting from the bulk workspace in real headless Chromium: a lead previews the confirmed
candidates by hand, chooses Export and a recipient, builds the package (while the worker is
busy the "building…" page reloads itself, without script, until it is done), downloads the ZIP, whose manifest hashes and
signature check, and finds it on the Packages page; the pages stay quiet (no dialog, console
or page error, no request to another host) under the strict CSP."""

from __future__ import annotations

import threading

import pytest

from crawler.store.models import Candidate
from review.export_jobs import jobs_of
from tests.evidence.build_world import make_world
from tests.evidence.test_build import check_package
from tests.review.browser import log_in, serve
from tests.review.browser import chromium, watched  # noqa: F401  (fixtures)


@pytest.fixture
def world(tmp_path, db_url, store):
    """build_world's store and config; screenshots and report.pdf by this same Chromium."""
    return make_world(tmp_path, db_url, store, extra_config=(
        f'screenshots = true\n\n[review]\nsecret_key_file = "{tmp_path}/secret.key"\n'))


@pytest.fixture
def review_config_file(world):
    return world.config_file


def test_lead_exports_from_the_bulk_workspace(store, world, review_app, users, watched,  # noqa: F811
                                              tmp_path):
    with serve(review_app) as base:
        log_in(watched, base, users["lead"].username, users["lead"].password)
        page = watched.page
        page.goto(base + "/bulk")
        page.fill("#bulk-ids textarea[name=ids_text]",
                  " ".join(map(str, world.confirmed + [world.open_id])))
        page.click("#bulk-ids button[type=submit]")
        page.wait_for_selector("#preview")
        page.select_option("#bulk-export select[name=recipient]", "telegram")
        page.click("#bulk-export-continue")
        page.wait_for_selector("#export-count")
        assert page.locator("#export-count").get_attribute("data-count") == "2"
        assert page.locator("#export-skipped").get_attribute("data-count") == "1"
        shown = page.locator("#preview-rows tbody tr").evaluate_all(
            "rows => rows.map(r => Number(r.dataset.candidate))")
        assert sorted(shown) == world.confirmed
        watched.shot("export-preview")
        gate = threading.Event()  # the worker is busy: the export waits its turn
        jobs_of(review_app)._pool.submit(gate.wait, 120)
        page.click("#export-build")
        page.wait_for_selector("#export-job[data-state=building]")
        assert page.locator("#export-building").is_visible()
        watched.shot("export-building")
        gate.set()
        page.wait_for_selector("#export-job[data-state=done]", timeout=120_000)  # reloaded
        watched.shot("export-done")
        package_id = page.locator("#export-done").get_attribute("data-package")
        with page.expect_download() as info:
            page.click("#download")
        download = info.value
        assert download.suggested_filename == f"kyran-{package_id}.zip"
        saved = tmp_path / "browser.zip"
        download.save_as(saved)
        manifest = check_package(saved)
        assert manifest["package_id"] == package_id
        assert sorted(s["candidate_id"] for s in manifest["subjects"]) == world.confirmed
        files = {f["path"] for f in manifest["files"]}  # the report part's extras, from the web
        assert {"report.pdf", "captures/web.wacz"} <= files
        assert any(path.startswith("screenshots/") for path in files)
        page.click("main a[href='/packages']")
        page.wait_for_selector("#packages")
        row = page.locator(f"#packages tr[data-package='{package_id}']")
        assert row.count() == 1 and row.locator("a.download").count() == 1
        watched.shot("packages")
        assert page.locator("#takedowns-link").get_attribute("href") == "/dashboard#takedowns"
        watched.assert_quiet(base.split("://", 1)[1])
    with store.session() as session:
        assert [session.get(Candidate, i).status for i in world.confirmed] == ["reported"] * 2
        assert session.get(Candidate, world.open_id).status == "open"
