"""Fixtures for the review app's tests, shared by every part: the app on the store under test
(SQLite and PostgreSQL), one user of each role, and logged-in TestClients.

    def test_x(client_for, users):
        lead = client_for("lead")              # a TestClient logged in as the lead
        lead.post("/x", data={..., "csrf_token": lead.csrf})
        lead.post("/api/x", json=..., headers={"X-CSRF-Token": lead.csrf})
        anonymous = client_for(None)
        robot = token_client(review_app, token)  # Authorization: Bearer
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from tests.conftest import write_config

PASSWORDS = {"analyst": "analyst-password-1", "lead": "lead-password-22",
             "admin": "admin-password-333"}


@dataclass
class Account:
    username: str
    password: str
    role: str
    id: int
    display_name: str


@pytest.fixture
def review_config_file(tmp_path, db_url):
    return write_config(tmp_path / "kyran.toml", db_url,
                        f'\n[review]\nsecret_key_file = "{tmp_path}/secret.key"\n'
                        'login_attempts = 3\nlockout_minutes = 5\n')


@pytest.fixture
def review_config(review_config_file):
    from crawler.config import load_config

    return load_config(str(review_config_file))


@pytest.fixture
def review_app(review_config, store):
    from review.app import create_app

    return create_app(review_config, store)


@functools.cache
def _hash(password: str) -> str:
    from review.auth import hash_password

    return hash_password(password)


def make_user(store, username: str, role: str, password: str,
              display_name: str | None = None) -> Account:
    """An account as `kyran user add` makes it (argon2 hashes computed once per password: each
    takes a third of a second)."""
    from crawler.store.ingest import add_event
    from crawler.store.models import User

    with store.session() as session:
        user = User(username=username, role=role, password_hash=_hash(password), active=True,
                    display_name=display_name, locale="ru", blur_media=True, failed_logins=0)
        session.add(user)
        session.flush()
        add_event(session, "component:test", "user.add", "user", user.id, username=username,
                  role=role)
        return Account(username, password, role, user.id, user.display_name or username)


@pytest.fixture
def users(store) -> dict[str, Account]:
    """One account per role: analyst (shown as "Pseudonym A"), lead and admin."""
    return {
        "analyst": make_user(store, "anna", "analyst", PASSWORDS["analyst"], "Pseudonym A"),
        "lead": make_user(store, "leon", "lead", PASSWORDS["lead"], "Pseudonym L"),
        "admin": make_user(store, "adam", "admin", PASSWORDS["admin"], "Pseudonym X"),
    }


class ReviewClient(TestClient):
    """A TestClient whose `csrf` is the current session's CSRF token."""

    @property
    def csrf(self) -> str:
        from review.auth import SESSION_COOKIE, SessionData

        codec = self.app.state.codec
        data = codec.decode(self.cookies.get(SESSION_COOKIE)) or SessionData()
        if self.cookies.get(SESSION_COOKIE) is None:
            self.get("/login")  # start an anonymous session to hold the nonce
            data = codec.decode(self.cookies.get(SESSION_COOKIE))
        return codec.csrf_token(data)


def login(client: ReviewClient, username: str, password: str):
    """Log `client` in; the response of the login POST (303 on success)."""
    client.get("/login")
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": client.csrf}, follow_redirects=False)


@pytest.fixture
def client_for(review_app, users):
    """client_for(role) → a ReviewClient logged in as that role's user; None → anonymous."""
    made: list[ReviewClient] = []

    def factory(role: str | None) -> ReviewClient:
        client = ReviewClient(review_app, raise_server_exceptions=False)
        made.append(client)
        if role is not None:
            account = users[role]
            response = login(client, account.username, account.password)
            assert response.status_code == 303, response.text
        return client

    yield factory
    for client in made:
        client.close()


def token_client(app, token: str) -> TestClient:
    """A client that authenticates with an API token (no session, no CSRF)."""
    return TestClient(app, raise_server_exceptions=False,
                      headers={"Authorization": f"Bearer {token}"})
