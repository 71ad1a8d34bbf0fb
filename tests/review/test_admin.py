"""The admin's users page: add, change role, disable and enable, reset password, API tokens;
each change an event by the admin; the last admin cannot be removed."""

from __future__ import annotations

import re

from sqlalchemy import select

from crawler.store.models import Event, User
from crawler.store.models_ops import ApiToken
from review.auth import token_digest
from tests.review.conftest import login, token_client


def user_row(store, username: str) -> User:
    with store.reader() as session:
        return session.scalar(select(User).where(User.username == username))


def last_event(store) -> Event:
    with store.reader() as session:
        return session.scalar(select(Event).order_by(Event.id.desc()).limit(1))


def test_users_page_lists_everyone_with_forms_carrying_csrf(client_for, users):
    admin = client_for("admin")
    page = admin.get("/admin/users")
    assert page.status_code == 200
    for account in users.values():
        assert account.username in page.text and account.display_name in page.text
    forms = re.findall(r"<form method=\"post\"[^>]*>\s*<input type=\"hidden\" name=\"csrf_token\" "
                       r"value=\"([0-9a-f]{64})\"", page.text)
    assert len(forms) == page.text.count('<form method="post"') and set(forms) == {admin.csrf}


def test_add_user_then_log_in_as_them(client_for, store, review_app):
    admin = client_for("admin")
    added = admin.post("/admin/users", data={
        "username": "Nova", "role": "analyst", "password": "nova-password-1",
        "display_name": "Star", "csrf_token": admin.csrf}, follow_redirects=False)
    assert added.status_code == 303 and added.headers["location"] == "/admin/users?done=added"
    assert user_row(store, "nova").display_name == "Star"
    event = last_event(store)
    assert (event.actor, event.action, event.payload["role"]) == ("user:adam", "user.add",
                                                                  "analyst")
    fresh = client_for(None)
    assert login(fresh, "nova", "nova-password-1").status_code == 303
    again = admin.post("/admin/users", data={
        "username": "nova", "role": "analyst", "password": "nova-password-1",
        "csrf_token": admin.csrf})
    assert again.status_code == 400 and "exists already" in again.text
    bad_role = admin.post("/admin/users", data={
        "username": "vera", "role": "root", "password": "vera-password-1",
        "csrf_token": admin.csrf})
    assert bad_role.status_code == 400 and "the role is one of" in bad_role.text


def test_change_role_takes_effect_on_the_next_request(client_for, users, store):
    analyst, admin = client_for("analyst"), client_for("admin")
    assert analyst.get("/admin/users").status_code == 403
    done = admin.post(f"/admin/users/{users['analyst'].id}/role",
                      data={"role": "admin", "csrf_token": admin.csrf}, follow_redirects=False)
    assert done.status_code == 303
    assert analyst.get("/admin/users").status_code == 200
    event = last_event(store)
    assert (event.action, event.payload) == ("user.role", {"before": "analyst",
                                                           "after": "admin"})


def test_disable_ends_sessions_and_tokens_and_enable_restores(client_for, users, store,
                                                              review_app):
    lead, admin = client_for("lead"), client_for("admin")
    made = admin.post(f"/admin/users/{users['lead'].id}/tokens",
                      data={"name": "exporter", "csrf_token": admin.csrf})
    token = re.search(r'id="new-token">(kyr_[A-Za-z0-9_-]+)<', made.text).group(1)
    with store.reader() as session:
        assert session.scalar(select(ApiToken.token_sha256)) == token_digest(token)
    robot = token_client(review_app, token)
    assert robot.get("/account").status_code == 200
    admin.post(f"/admin/users/{users['lead'].id}/active",
               data={"active": "no", "csrf_token": admin.csrf})
    assert lead.get("/account", follow_redirects=False).status_code == 401
    assert robot.get("/account").status_code == 401
    assert login(client_for(None), "leon", users["lead"].password).status_code == 401
    admin.post(f"/admin/users/{users['lead'].id}/active",
               data={"active": "yes", "csrf_token": admin.csrf})
    assert robot.get("/account").status_code == 200
    assert login(client_for(None), "leon", users["lead"].password).status_code == 303


def test_reset_password_ends_the_users_sessions(client_for, users):
    analyst, admin = client_for("analyst"), client_for("admin")
    short = admin.post(f"/admin/users/{users['analyst'].id}/password",
                       data={"password": "short", "csrf_token": admin.csrf})
    assert short.status_code == 400
    done = admin.post(f"/admin/users/{users['analyst'].id}/password",
                      data={"password": "reset-password-9", "csrf_token": admin.csrf},
                      follow_redirects=False)
    assert done.status_code == 303
    assert analyst.get("/account", follow_redirects=False).status_code == 401
    assert login(client_for(None), "anna", "reset-password-9").status_code == 303


def test_revoke_token_from_the_page(client_for, users, store, review_app):
    admin = client_for("admin")
    made = admin.post(f"/admin/users/{users['analyst'].id}/tokens",
                      data={"name": "script", "csrf_token": admin.csrf})
    token = re.search(r'id="new-token">(kyr_[^<]+)<', made.text).group(1)
    assert token not in admin.get("/admin/users").text  # shown once
    with store.reader() as session:
        token_id = session.scalar(select(ApiToken.id))
    admin.post(f"/admin/tokens/{token_id}/revoke", data={"csrf_token": admin.csrf})
    assert token_client(review_app, token).get("/account").status_code == 401
    missing = admin.post("/admin/tokens/999/revoke", data={"csrf_token": admin.csrf})
    assert missing.status_code == 400 and "no token 999" in missing.text


def test_the_last_admin_stays(client_for, users):
    admin = client_for("admin")
    for path, data in ((f"/admin/users/{users['admin'].id}/role", {"role": "lead"}),
                       (f"/admin/users/{users['admin'].id}/active", {"active": "no"})):
        response = admin.post(path, data={**data, "csrf_token": admin.csrf})
        assert response.status_code == 400 and "last active admin" in response.text
    unknown = admin.post("/admin/users/999/role", data={"role": "lead", "csrf_token": admin.csrf})
    assert unknown.status_code == 400 and "no user 999" in unknown.text
    for huge in ("2147483648", "99999999999999999999", "0", "-1"):
        response = admin.post(f"/admin/users/{huge}/role",
                              data={"role": "lead", "csrf_token": admin.csrf})
        assert response.status_code == 422, huge


def test_display_names_shown_to_others_not_usernames(client_for, users):
    lead = client_for("lead")
    page = lead.get("/account").text
    assert "Pseudonym L" in page
