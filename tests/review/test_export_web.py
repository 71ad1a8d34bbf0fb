"""Exporting evidence packages from the review app, on SQLite and PostgreSQL: a lead exports two
confirmed candidates from the bulk workspace's selection (the open one left out and said so),
the package builds in the worker thread, downloads as an attachment named from its id, verifies
(every hash, the signature), and the candidates are reported with one event each; "all
confirmed" and `POST /api/exports` with a lead's token; the Packages page and `GET
/api/packages`; analysts refused (403, no link); CSRF missing refused; a changed seal, a bulk
seal, a bad recipient, another lead's export and unknown packages refused with one line; a
build that cannot be made says why; imported packages listed, partners' text escaped."""

from __future__ import annotations

import re
import threading
import zipfile

import pytest
from sqlalchemy import select

from crawler.store.models import Candidate
from crawler.store.models_ops import EvidencePackage
from review.export_jobs import jobs_of
from review.routes.export import REFRESH_SECONDS
from tests.evidence.build_world import make_world
from tests.evidence.test_build import check_package
from tests.review.conftest import token_client
from tests.review.test_bulk import decisions, hidden
from tests.review.test_api_support import token_for

WAIT = 120  # seconds a build may take before the test fails (it takes well under one)


@pytest.fixture
def world(tmp_path, db_url, store):
    """build_world's store (candidates 1 and 2 confirmed with captures, one open) and config,
    with the review app's key and a legal basis for the regulator's letter; screenshots off
    (the browser test turns them on)."""
    return make_world(tmp_path, db_url, store, extra_config=(
        'legal_basis = "Law on narcotics, art. 1"\n'
        f'screenshots = false\n\n[review]\nsecret_key_file = "{tmp_path}/secret.key"\n'))


@pytest.fixture
def review_config_file(world):
    return world.config_file


def carried(page: str, form: str) -> dict:
    """The sealed selection the form with id `form` carries (bulk_carry.html)."""
    page = page[page.index(f'id="{form}"'):]
    return {name: hidden(page, name) for name in ("ids", "seal", "by", "csrf_token")}


def finish(client, response) -> str:
    """Follow an export to its finished job page (waiting for the worker); the page."""
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    job = client.app.state.export_jobs._jobs[location.rsplit("/", 1)[1]]
    job.future.exception(timeout=WAIT)  # done or failed: the page says which
    page = client.get(location)
    assert page.status_code == 200
    return page.text


def build(client, preview: str, recipient: str) -> str:
    """Build the previewed package; its finished job page."""
    return finish(client, client.post("/export/build", data={
        **carried(preview, "export-build-form"), "recipient": recipient},
        follow_redirects=False))


def preview_from_bulk(lead, ids: list[int], recipient: str = "telegram"):
    bulk = lead.post("/bulk", data={"ids_text": " ".join(map(str, ids)),
                                    "csrf_token": lead.csrf})
    assert bulk.status_code == 200 and 'id="bulk-export"' in bulk.text
    return lead.post("/export/preview", data={**carried(bulk.text, "bulk-export"),
                                              "recipient": recipient})


def test_lead_exports_two_confirmed_from_the_bulk_selection(store, world, client_for, users,
                                                            tmp_path):
    lead = client_for("lead")
    preview = preview_from_bulk(lead, world.confirmed + [world.open_id], "regulator")
    assert preview.status_code == 200, preview.text
    assert 'data-count="2" data-recipient="regulator"' in preview.text
    assert 'id="export-skipped" data-count="1"' in preview.text  # the open one, said why
    assert f'<tr data-candidate="{world.open_id}">' in preview.text and "is open" in preview.text
    assert not decisions(store, "reported")  # nothing happens before the build
    gate = threading.Event()  # the worker is busy: the export waits its turn
    jobs_of(lead.app)._pool.submit(gate.wait, WAIT)
    started = lead.post("/export/build", data={**carried(preview.text, "export-build-form"),
                                               "recipient": "regulator"}, follow_redirects=False)
    building = lead.get(started.headers["location"])
    assert 'data-state="building"' in building.text
    assert f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">' in building.text
    gate.set()
    page = finish(lead, started)
    assert 'data-state="done"' in page, re.findall(r"role=.alert.>[^<]*", page)
    package_id = re.search(r'data-package="([0-9a-f-]{36})"', page).group(1)
    assert f'href="/packages/{package_id}/download"' in page
    assert "report.pdf not made: turned off ([evidence] screenshots = false)" in page

    download = lead.get(f"/packages/{package_id}/download")
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/zip"
    assert download.headers["content-disposition"] == \
        f'attachment; filename="kyran-{package_id}.zip"'
    path = tmp_path / "downloaded.zip"
    path.write_bytes(download.content)
    manifest = check_package(path)  # every hash, the set of entries, the signature
    assert manifest["package_id"] == package_id
    assert manifest["recipient"]["profile"] == "regulator"
    assert sorted(s["candidate_id"] for s in manifest["subjects"]) == world.confirmed
    assert manifest["created_by"]["user"] == users["lead"].display_name
    with zipfile.ZipFile(path) as archive:
        assert "requests/regulator.ru.txt" in archive.namelist()

    reported = decisions(store, "reported")
    assert [e.subject_id for e in reported] == world.confirmed  # one each
    assert {e.payload["package_id"] for e in reported} == {package_id}
    assert {e.payload["recipient"] for e in reported} == {"regulator"}
    assert {e.actor for e in reported} == {f"user:{users['lead'].username}"}
    with store.session() as session:
        assert [session.get(Candidate, i).status for i in world.confirmed] == ["reported"] * 2
        assert session.get(Candidate, world.open_id).status == "open"

    listing = lead.get("/packages")
    assert listing.status_code == 200
    assert f'data-package="{package_id}" data-direction="out"' in listing.text
    assert f'href="/packages/{package_id}/download"' in listing.text
    assert 'href="/dashboard#takedowns"' in listing.text
    api = lead.get("/api/packages").json()
    assert api["total"] == 1
    row = api["rows"][0]
    assert row["package_id"] == package_id and row["recipient"] == "regulator"
    assert (row["subjects"], row["direction"]) == (2, "out")
    assert row["sha256"] == manifest_sha(path)
    assert row["key_fingerprint"] == manifest["signing_key"]["fingerprint"]
    assert row["download_url"] == f"/packages/{package_id}/download"


def manifest_sha(path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_all_confirmed_from_the_export_page(store, world, client_for):
    lead = client_for("lead")
    form = lead.get("/export")
    assert form.status_code == 200 and 'id="export-all-form"' in form.text
    preview = lead.post("/export/preview", data={"scope": "all_confirmed",
                                                 "recipient": "telegram",
                                                 "csrf_token": lead.csrf})
    assert preview.status_code == 200 and 'data-count="2"' in preview.text
    assert 'id="export-skipped"' not in preview.text
    page = build(lead, preview.text, "telegram")
    assert 'data-state="done"' in page and 'data-subjects="2"' in page
    # nothing confirmed and unreported is left: the preview says so in one line
    again = lead.post("/export/preview", data={"scope": "all_confirmed",
                                               "recipient": "telegram", "csrf_token": lead.csrf})
    assert again.status_code == 400 and "no candidate matches" in again.text


def test_api_export_with_a_leads_token(store, world, review_app, users, tmp_path):
    robot = token_client(review_app, token_for(store, users["lead"].username))
    made = robot.post("/api/exports", json={"ids": world.confirmed, "recipient": "generic",
                                            "plain": True})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["candidates"] == world.confirmed and body["subjects"] == 2
    assert body["file_name"] == f"kyran-{body['package_id']}.zip"
    assert body["notes"] == []  # plain: nothing asked, nothing left out
    download = robot.get(body["download_url"])
    assert download.status_code == 200
    path = tmp_path / "api.zip"
    path.write_bytes(download.content)
    assert check_package(path)["package_id"] == body["package_id"]
    assert manifest_sha(path) == body["sha256"]
    listed = robot.get("/api/packages", params={"direction": "out"}).json()
    assert [r["package_id"] for r in listed["rows"]] == [body["package_id"]]
    assert robot.get("/api/packages", params={"direction": "in"}).json()["total"] == 0
    # an open candidate cannot be exported: one line, nothing recorded
    refused = robot.post("/api/exports", json={"ids": [world.open_id],
                                               "recipient": "generic"})
    assert refused.status_code == 400
    assert "is open, not confirmed" in refused.json()["error"]
    assert robot.post("/api/exports", json={"recipient": "nobody"}).status_code == 422
    with store.session() as session:
        assert session.scalar(select(EvidencePackage.id).where(
            EvidencePackage.package_id != body["package_id"])) is None
    robot.close()


def test_analysts_are_refused_and_see_no_link(store, world, client_for, users):
    analyst, lead = client_for("analyst"), client_for("lead")
    for path in ("/export", "/packages", "/api/packages"):
        assert analyst.get(path).status_code == 403, path
    for path in ("/export/preview", "/export/build"):
        assert analyst.post(path, data={"scope": "all_confirmed", "recipient": "telegram",
                                         "csrf_token": analyst.csrf}).status_code == 403
    assert analyst.post("/api/exports", json={"all_confirmed": True, "recipient": "telegram"},
                        headers={"X-CSRF-Token": analyst.csrf}).status_code == 403
    robot = token_client(analyst.app, token_for(store, users["analyst"].username))
    assert robot.post("/api/exports", json={"all_confirmed": True,
                                            "recipient": "telegram"}).status_code == 403
    robot.close()
    assert 'href="/packages"' not in analyst.get("/queue").text
    assert 'href="/packages"' in lead.get("/queue").text
    assert not decisions(store, "reported")


def test_csrf_missing_is_refused(store, world, client_for):
    lead = client_for("lead")
    preview = lead.post("/export/preview", data={"scope": "all_confirmed",
                                                 "recipient": "telegram", "csrf_token": lead.csrf})
    form = {**carried(preview.text, "export-build-form"), "recipient": "telegram"}
    del form["csrf_token"]
    assert lead.post("/export/build", data=form).status_code == 403
    assert lead.post("/export/build", data={**form, "csrf_token": "forged"}).status_code == 403
    assert lead.post("/export/preview", data={"scope": "all_confirmed",
                                              "recipient": "telegram"}).status_code == 403
    assert lead.post("/api/exports", json={"all_confirmed": True,
                                           "recipient": "telegram"}).status_code == 403
    assert not decisions(store, "reported")
    assert getattr(lead.app.state, "export_jobs", None) is None  # no build was started


def test_bad_selections_and_strangers_are_refused(store, world, client_for, users):
    lead = client_for("lead")
    preview = lead.post("/export/preview", data={"scope": "all_confirmed",
                                                 "recipient": "telegram", "csrf_token": lead.csrf})
    form = {**carried(preview.text, "export-build-form"), "recipient": "telegram"}
    changed = lead.post("/export/build", data={**form, "ids": f"{world.confirmed[0]}"})
    assert changed.status_code == 400 and "does not match its preview" in changed.text
    bad = lead.post("/export/build", data={**form, "recipient": "../../etc"})
    assert bad.status_code == 400 and "recipient: expected one of" in bad.text
    bulk = lead.post("/bulk", data={"ids_text": " ".join(map(str, world.confirmed)),
                                    "csrf_token": lead.csrf})
    bulk_sealed = {**carried(bulk.text, "bulk-export"), "recipient": "telegram"}
    skipped_preview = lead.post("/export/build", data=bulk_sealed)  # a bulk seal builds nothing
    assert skipped_preview.status_code == 400
    only_open = preview_from_bulk(lead, [world.open_id])
    assert only_open.status_code == 400 and "nothing to export" in only_open.text
    assert not decisions(store, "reported")

    page = lead.post("/export/build", data=form, follow_redirects=False)
    job_url = page.headers["location"]
    finish(lead, page)
    admin = client_for("admin")  # another lead's (or admin's) session: not their export
    assert admin.get(job_url).status_code == 404
    assert lead.get("/export/jobs/nope").status_code == 404
    for package in ("../../etc/passwd", "00000000-0000-4000-8000-000000000000", "%2e%2e"):
        assert lead.get(f"/packages/{package}/download").status_code == 404, package


def test_a_build_that_cannot_be_made_says_why(store, world, client_for):
    world.config.resolve(world.config.evidence.signing_key_file).unlink()
    lead = client_for("lead")
    preview = lead.post("/export/preview", data={"scope": "all_confirmed",
                                                 "recipient": "telegram", "csrf_token": lead.csrf})
    page = build(lead, preview.text, "telegram")
    assert 'data-state="failed"' in page
    assert "no signing key at" in page and "kyran keys generate" in page
    assert "Traceback" not in page
    assert not decisions(store, "reported")
    with store.session() as session:
        assert [session.get(Candidate, i).status for i in world.confirmed] == ["confirmed"] * 2


def test_packages_page_lists_imports_and_escapes_what_partners_sent(store, world, client_for):
    from datetime import datetime, timezone

    hostile = '<script>alert(1)</script>\u202eevil'
    with store.session() as session:
        session.add_all([
            EvidencePackage(package_id="11111111-1111-4111-8111-111111111111", direction="in",
                            organisation=hostile, created_by=hostile, subjects=3, posts=7,
                            created_at=datetime(2026, 11, 1, tzinfo=timezone.utc),
                            sha256="ab" * 32, key_fingerprint="sha256:" + "cd" * 32),
            EvidencePackage(package_id="22222222-2222-4222-8222-222222222222", direction="out",
                            recipient="telegram", created_by="Eagle", subjects=1, posts=2,
                            created_at=datetime(2026, 11, 2, tzinfo=timezone.utc),
                            file_name="kyran-22222222-2222-4222-8222-222222222222.zip")])
    lead = client_for("lead")
    page = lead.get("/packages").text
    assert "<script>alert(1)" not in page and "\u202e" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'data-package="11111111-1111-4111-8111-111111111111" data-direction="in"' in page
    assert "/download" not in page  # imported, and exported elsewhere (--out): no file here
    assert lead.get("/packages/22222222-2222-4222-8222-222222222222/download").status_code == 404
    assert lead.get("/packages/11111111-1111-4111-8111-111111111111/download").status_code == 404
    rows = lead.get("/api/packages").json()["rows"]
    assert [r["direction"] for r in rows] == ["out", "in"]  # newest first
    assert rows[1]["organisation"] == hostile and rows[1]["download_url"] is None
    assert lead.get("/packages", params={"page": "0"}).status_code == 422
