"""Walks the app's whole route table (every part's routes, once merged): every route but
/login, /healthz and /static needs a session or an API token; every state-changing route
refuses a session without its CSRF token; /admin/* refuses analysts and leads."""

from __future__ import annotations

import re

import fastapi.routing
from fastapi.routing import APIRoute

OPEN = {"/login", "/healthz"}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def flat_routes(app) -> list:
    """Every route of the app with its full path: FastAPI 0.16x keeps included routers whole
    (`iter_route_contexts` flattens them); older releases flatten `app.routes` themselves."""
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)
    return list(flatten(app.routes)) if flatten else list(app.routes)


def routes(app):
    found = []
    for route in flat_routes(app):
        if isinstance(route, APIRoute) or getattr(route, "methods", None):
            for method in sorted(route.methods or ()):
                if method != "HEAD":
                    found.append((method, route.path))
    assert len(found) >= 10
    return found


def test_every_route_but_login_healthz_static_needs_a_login(review_app, client_for):
    anonymous = client_for(None)
    csrf = anonymous.csrf  # an anonymous session's token: CSRF passes, the login check must not
    for method, path in routes(review_app):
        if path in OPEN:
            continue
        url = concrete(path)
        response = anonymous.request(method, url, headers={"X-CSRF-Token": csrf},
                                     follow_redirects=False)
        assert response.status_code == 401, (method, path, response.status_code)
        page = anonymous.request(method, url, headers={"accept": "text/html",
                                                       "X-CSRF-Token": csrf},
                                 follow_redirects=False)
        if method == "GET" and not path.startswith("/api"):  # the API answers 401 to all
            assert page.status_code == 303, (method, path)
            assert page.headers["location"].startswith("/login?next=")
        else:
            assert page.status_code == 401, (method, path)
        tokenless = anonymous.request(method, url, headers={"Authorization": "Bearer kyr_x"},
                                      follow_redirects=False)
        assert tokenless.status_code == 401, (method, path)


def test_every_unsafe_route_refuses_a_session_without_csrf(review_app, client_for):
    admin = client_for("admin")
    unsafe = [(m, p) for m, p in routes(review_app) if m in UNSAFE]
    assert unsafe
    for method, path in unsafe:
        response = admin.request(method, concrete(path), follow_redirects=False)
        assert response.status_code == 403, (method, path, response.status_code)


def test_admin_routes_refuse_analysts_and_leads(review_app, client_for):
    clients = {role: client_for(role) for role in ("analyst", "lead")}
    admin_routes = [(m, p) for m, p in routes(review_app) if p.startswith("/admin")]
    assert len(admin_routes) >= 8
    for role, client in clients.items():
        for method, path in admin_routes:
            response = client.request(method, concrete(path),
                                      headers={"X-CSRF-Token": client.csrf},
                                      follow_redirects=False)
            assert response.status_code == 403, (role, method, path, response.status_code)


def test_static_files_need_no_login(client_for):
    assert client_for(None).get("/static/kyran.css").status_code == 200
