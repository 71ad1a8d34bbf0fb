"""What every page and API route of the review app uses: `render` (a template with the user, the
CSRF token, `t` and the config), and the FastAPI dependencies `current_user`, `require_role`,
`csrf_protect`, `get_store` and `get_config`.

Who is asking comes from the session cookie (see review/auth.py) or an `Authorization: Bearer`
API token. Requests made with a token are exempt from CSRF checks: a browser never adds that
header to a cross-site request by itself.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from crawler.config import KyranConfig
from crawler.store.db import Store
from crawler.store.models import User
from review.auth import SessionData, fingerprint, user_for_token
from review.i18n import negotiate
from review.users import RANK, display

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class LoginRequired(Exception):
    """No valid session or token: pages redirect to /login, the API answers 401."""


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_config(request: Request) -> KyranConfig:
    return request.app.state.config


def session_data(request: Request) -> SessionData:
    data = getattr(request.state, "session", None)
    if data is None:
        data = SessionData()
        request.state.session = data
    return data


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _load_user(request: Request) -> User | None:
    store = get_store(request)
    token = bearer_token(request)
    if token is not None:
        request.state.via_token = True
        with store.session() as session:
            found = user_for_token(session, token)
        return found[0] if found else None
    data = session_data(request)
    if data.user_id is None:
        return None
    with store.reader() as session:
        user = session.scalar(select(User).where(User.id == data.user_id))
    if user is None or not user.active or data.fingerprint != fingerprint(user):
        request.state.session = SessionData()  # a stale login: end it
        return None
    return user


def current_user(request: Request) -> User:
    """The logged-in user (session or API token); LoginRequired otherwise."""
    cached = getattr(request.state, "user", None)
    if cached is not None:
        return cached
    user = _load_user(request)
    if user is None:
        raise LoginRequired()
    request.state.user = user
    return user


# `user: CurrentUser` in a route's parameters: the logged-in user, as current_user gives it.
CurrentUser = Annotated[User, Depends(current_user)]


def optional_user(request: Request) -> User | None:
    try:
        return current_user(request)
    except LoginRequired:
        return None


def require_role(role: str):
    """A dependency giving the current user when their role is `role` or above (analyst <
    lead < admin); 403 otherwise."""
    if role not in RANK:
        raise ValueError(f"unknown role {role!r}")

    def dependency(user: Annotated[User, Depends(current_user)]) -> User:
        if RANK.get(user.role, -1) < RANK[role]:
            raise HTTPException(status_code=403, detail=f"this needs the {role} role")
        return user

    dependency.__name__ = f"require_{role}"
    return dependency


async def csrf_protect(request: Request) -> None:
    """Refuse a state-changing request from a session without the session's CSRF token (form
    field `csrf_token` or header `X-CSRF-Token`). Token-authenticated requests are exempt."""
    if request.method not in UNSAFE_METHODS or bearer_token(request) is not None:
        return
    sent = request.headers.get("x-csrf-token")
    if not sent:
        kind = request.headers.get("content-type", "")
        if kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            try:
                form = await request.form()
            except Exception:  # a malformed body: refused like a missing token
                form = {}
            value = form.get("csrf_token")
            sent = value if isinstance(value, str) else None
    if not request.app.state.codec.csrf_ok(session_data(request), sent):
        raise HTTPException(status_code=403, detail="missing or wrong CSRF token; reload the "
                            "page and try again")


def locale_of(request: Request) -> str:
    user = getattr(request.state, "user", None)
    if user is not None and user.locale:
        return user.locale
    return negotiate(request.headers.get("accept-language"))


def translator(request: Request):
    return request.app.state.translator.bound(locale_of(request))


def csrf_token(request: Request) -> str:
    return request.app.state.codec.csrf_token(session_data(request))


def render(request: Request, template: str, **context) -> HTMLResponse:
    """Render `template` with `user`, `csrf_token`, `t`, `config`, `locale` and `display` (the
    name others see) added; `status_code` in context sets the response's status."""
    status_code = context.pop("status_code", 200)
    if getattr(request.state, "user", None) is None and \
            getattr(request.state, "session", None) is not None:
        optional_user(request)  # show who is logged in on pages that do not require it
    base = {
        "user": getattr(request.state, "user", None),
        "csrf_token": csrf_token(request),
        "t": translator(request),
        "config": get_config(request),
        "locale": locale_of(request),
        "display": display,
    }
    base.update(context)
    return request.app.state.templates.TemplateResponse(request, template, base,
                                                        status_code=status_code)
