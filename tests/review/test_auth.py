"""Login, logout, sessions, lock-out and API tokens, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from crawler.store.models import Event, User
from review.auth import SESSION_COOKIE
from tests.review.conftest import login, token_client


def events(store, action: str) -> list[Event]:
    with store.reader() as session:
        return list(session.scalars(select(Event).where(Event.action == action)))


def test_login_sets_a_signed_httponly_strict_cookie_and_logout_ends_it(client_for, users, store):
    client = client_for(None)
    response = login(client, "anna", users["analyst"].password)
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    assert client.get("/account").status_code == 200
    assert "Pseudonym A" in client.get("/account").text
    assert [e.actor for e in events(store, "login")] == ["user:anna"]
    stolen = client.cookies.get(SESSION_COOKIE)
    out = client.post("/logout", data={"csrf_token": client.csrf}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert client.get("/account", follow_redirects=False).status_code == 401
    assert len(events(store, "logout")) == 1
    assert stolen != client.cookies.get(SESSION_COOKIE)


def test_pages_redirect_browsers_to_login_and_back(client_for, users):
    client = client_for(None)
    response = client.get("/account?x=1", headers={"accept": "text/html"},
                          follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/account%3Fx%3D1"
    client.get("/login")
    back = client.post("/login", data={"username": "anna", "password": users["analyst"].password,
                                       "next": "/account?x=1", "csrf_token": client.csrf},
                       follow_redirects=False)
    assert back.headers["location"] == "/account?x=1"


def test_next_never_leaves_the_site(client_for, users):
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example", "evil"):
        client = client_for(None)
        client.get("/login")
        response = client.post("/login", data={
            "username": "anna", "password": users["analyst"].password, "next": target,
            "csrf_token": client.csrf}, follow_redirects=False)
        assert response.headers["location"] == "/", target


def test_wrong_password_and_unknown_user_fail_alike(client_for, users, store):
    client = client_for(None)
    assert login(client, "anna", "nope-nope-nope").status_code == 401
    unknown = login(client, "nobody", "nope-nope-nope")
    assert unknown.status_code == 401
    assert "Неверное имя пользователя или пароль" in unknown.text
    assert len(events(store, "login.failed")) == 2


def test_lockout_after_failures_refuses_even_the_right_password(client_for, users, store):
    client = client_for(None)
    for _ in range(3):  # login_attempts = 3 in the test config
        login(client, "anna", "wrong-password-x")
    refused = login(client, "anna", users["analyst"].password)
    assert refused.status_code == 401
    assert "заблокирована" in refused.text
    assert len(events(store, "login.locked")) == 1
    with store.reader() as session:
        assert session.scalar(select(User).where(User.username == "anna")).locked_until


def test_address_limiter_answers_429(client_for, users):
    client = client_for(None)
    for number in range(12):  # 4 x login_attempts failures from one address, spread over users
        login(client, f"nobody{number}", "wrong-password-x")
    response = login(client, "leon", users["lead"].password)
    assert response.status_code == 429


def test_disabled_user_session_stops_at_once(client_for, store):
    client = client_for("analyst")
    assert client.get("/account").status_code == 200
    with store.session() as session:
        session.scalar(select(User).where(User.username == "anna")).active = False
    assert client.get("/account", follow_redirects=False).status_code == 401


def test_session_expires_after_idle_hours(client_for, review_app):
    client = client_for("analyst")
    review_app.state.codec.max_age = -1  # every signature is now older than allowed
    assert client.get("/account", follow_redirects=False).status_code == 401


def test_forged_or_tampered_cookie_is_refused(client_for):
    client = client_for("analyst")
    value = client.cookies.get(SESSION_COOKIE)
    client.cookies.set(SESSION_COOKIE, value[:-3] + ("AAA" if value[-3:] != "AAA" else "BBB"))
    assert client.get("/account", follow_redirects=False).status_code == 401


def test_password_change_ends_other_sessions(client_for):
    first, second = client_for("analyst"), client_for("analyst")
    changed = first.post("/account/password", data={
        "current": "analyst-password-1", "new": "a-brand-new-pass", "repeat": "a-brand-new-pass",
        "csrf_token": first.csrf}, follow_redirects=False)
    assert changed.status_code == 303
    assert first.get("/account").status_code == 200
    assert second.get("/account", follow_redirects=False).status_code == 401


def test_account_settings_change_language_blur_and_display_name(client_for, store):
    client = client_for("analyst")
    saved = client.post("/account", data={"locale": "en", "display_name": "  Night  Owl ",
                                          "csrf_token": client.csrf}, follow_redirects=False)
    assert saved.status_code == 303
    page = client.get("/account").text
    assert "My settings" in page and "Night Owl" in page
    with store.reader() as session:
        user = session.scalar(select(User).where(User.username == "anna"))
        assert (user.locale, user.blur_media, user.display_name) == ("en", False, "Night Owl")
    bad = client.post("/account", data={"locale": "xx", "csrf_token": client.csrf})
    assert bad.status_code == 400


def test_api_token_acts_as_its_user_until_revoked(review_app, users, store):
    from review.users import find_user, issue_token, revoke_token

    with store.session() as session:
        issued = issue_token(session, "component:test", find_user(session, "leon"), "robot")
        token, token_id = issued.token, issued.row.id
    robot = token_client(review_app, token)
    assert robot.get("/account").status_code == 200
    assert robot.post("/account", data={"locale": "en"},
                      follow_redirects=False).status_code == 303  # no CSRF needed
    assert "set-cookie" not in robot.get("/account").headers
    with store.session() as session:
        revoke_token(session, "component:test", token_id)
    assert robot.get("/account").status_code == 401
    wrong = token_client(review_app, "kyr_not-a-token")
    assert wrong.get("/account").status_code == 401
