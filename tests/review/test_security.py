"""Security headers on every kind of response, CSRF on state-changing requests, roles, and the
signing key's file mode."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from review.security import CSP, SecretKeyError, load_secret_key

REVIEW = Path(__file__).resolve().parents[2] / "review"


def assert_secure_headers(response, page: bool = True) -> None:
    headers = response.headers
    assert headers["content-security-policy"] == CSP
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"
    if page:
        assert headers["cache-control"] == "no-store"


def test_headers_on_pages_errors_json_and_static(client_for):
    anonymous, analyst = client_for(None), client_for("analyst")
    responses = [
        anonymous.get("/login"),
        anonymous.get("/healthz"),
        anonymous.get("/account", follow_redirects=False),
        anonymous.get("/no-such-page", headers={"accept": "text/html"}),
        anonymous.get("/no-such-page"),
        anonymous.post("/login", data={"username": "x"}),  # no CSRF token: 403
        analyst.get("/account"),
        analyst.get("/admin/users"),  # 403 for an analyst
        analyst.get("/logout", headers={"accept": "text/html"}),  # 405
    ]
    assert [r.status_code for r in responses] == [200, 200, 401, 404, 404, 403, 200, 403, 405]
    for response in responses:
        assert_secure_headers(response)
    css = anonymous.get("/static/kyran.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert_secure_headers(css, page=False)


def test_errors_are_one_line_never_a_traceback(client_for):
    admin = client_for("admin")
    bad = admin.get("/admin/audit?page=x")
    assert bad.status_code == 422
    assert bad.json() == {"detail": "query.page: Input should be a valid integer, unable to "
                          "parse string as an integer"}
    page = admin.get("/admin/audit?page=x", headers={"accept": "text/html"})
    assert page.status_code == 422 and "Traceback" not in page.text
    assert "query.page" in page.text


def test_no_inline_script_or_style_in_templates():
    for template in (REVIEW / "templates").glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), template.name
        assert "<style" not in text and " style=" not in text, template.name
        assert not re.search(r"\son[a-z]+=", text), template.name
        assert "javascript:" not in text, template.name


def test_csrf_required_on_session_posts(client_for, users, store):
    analyst = client_for("analyst")
    for data, headers in (({"locale": "en"}, {}),
                          ({"locale": "en", "csrf_token": "0" * 64}, {}),
                          ({"locale": "en"}, {"X-CSRF-Token": "forged"})):
        response = analyst.post("/account", data=data, headers=headers,
                                follow_redirects=False)
        assert response.status_code == 403
        assert response.json() == {"detail": "missing or wrong CSRF token; reload the page "
                                   "and try again"}
    ok = analyst.post("/account", data={"locale": "en"}, headers={"X-CSRF-Token": analyst.csrf},
                      follow_redirects=False)
    assert ok.status_code == 303
    other = client_for("lead")  # another session's token is no good here
    stolen = analyst.post("/account", data={"locale": "ru", "csrf_token": other.csrf})
    assert stolen.status_code == 403


def test_login_form_needs_its_csrf_token(client_for, users):
    client = client_for(None)
    response = client.post("/login", data={"username": "anna",
                                           "password": users["analyst"].password})
    assert response.status_code == 403


def test_login_rotates_the_session_nonce(client_for, users):
    from tests.review.conftest import login

    client = client_for(None)
    client.get("/login")
    before = client.csrf
    login(client, "anna", users["analyst"].password)
    assert client.csrf != before


@pytest.mark.parametrize("path", ["/admin/users", "/admin/audit", "/admin/audit.csv",
                                  "/admin/audit.jsonl"])
def test_analyst_and_lead_refused_at_admin_pages(client_for, path):
    for role in ("analyst", "lead"):
        response = client_for(role).get(path)
        assert response.status_code == 403, (role, path)
        assert response.json() == {"detail": "this needs the admin role"}


def test_secret_key_made_0600_and_refused_when_open(tmp_path):
    path = tmp_path / "deep" / "secret.key"
    key = load_secret_key(path)
    assert len(key) == 64 and oct(path.stat().st_mode & 0o777) == "0o600"
    assert load_secret_key(path) == key
    os.chmod(path, 0o640)
    with pytest.raises(SecretKeyError, match="chmod 600"):
        load_secret_key(path)
    os.chmod(path, 0o600)
    path.write_text("short")
    with pytest.raises(SecretKeyError, match="fewer than 32 bytes"):
        load_secret_key(path)


def test_secure_cookies_when_configured(review_config, store, users):
    from review.app import create_app
    from tests.review.conftest import ReviewClient, login

    review_config.review.secure_cookies = True
    app = create_app(review_config, store)
    with ReviewClient(app, base_url="https://testserver") as client:
        response = login(client, "anna", users["analyst"].password)
        assert "Secure" in response.headers["set-cookie"]


def test_locales_have_the_same_keys_and_cover_the_templates():
    catalogs = {name: json.loads((REVIEW / "locales" / f"{name}.json").read_text("utf-8"))
                for name in ("ru", "en")}
    assert set(catalogs["ru"]) == set(catalogs["en"])
    for name, catalog in catalogs.items():
        empty = [key for key, value in catalog.items() if not value.strip()]
        assert not empty, (name, empty)
    used = set()
    for template in (REVIEW / "templates").glob("*.html"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z0-9_.]+)["']\s*[,)]""",
                               template.read_text(encoding="utf-8")))
    assert used - set(catalogs["en"]) == set()


def test_accept_language_picks_the_login_page_language(client_for):
    client = client_for(None)
    assert "Log in" in client.get("/login", headers={"accept-language": "en-GB,en;q=0.9"}).text
    assert "Вход" in client.get("/login", headers={"accept-language": "ru"}).text
    assert "Вход" in client.get("/login", headers={"accept-language": "de"}).text
    assert "Log in" in client.get(
        "/login", headers={"accept-language": "ru;q=0.2, en;q=0.8"}).text
