"""Logging in and out, and the user's own settings (`/account`: language, blurred media,
display name, password).

Login is limited twice: per account (`review.login_attempts` failures in a row lock it for
`review.lockout_minutes`) and per client address (four times as many failures in that window).
A successful login starts a new session (a new nonce, so a planted cookie is worthless).
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from crawler.store.models import User
from review.auth import SessionData, attempt_login, check_password, fingerprint
from review.users import LOCALES, UserError, set_password, update_settings
from review.web import CurrentUser, get_config, get_store, render, session_data

router = APIRouter()


def safe_next(target: str | None) -> str:
    """Only a path on this site: never another host (//evil, /\\evil, https://…)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")) \
            or any(ch in target for ch in "\r\n\\") or len(target) > 2000:
        return "/"
    return target


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/login", include_in_schema=False)
def login_page(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", next=safe_next(next), problem=None, username="")


@router.post("/login", include_in_schema=False)
def login(request: Request, username: str = Form("", max_length=200),
          password: str = Form("", max_length=1024), next: str = Form("/", max_length=2000)):
    config, limiter = get_config(request).review, request.app.state.login_limiter
    address = client_address(request)
    username = username.strip().lower()
    if limiter.blocked(address):
        return render(request, "login.html", next=safe_next(next), problem="login.too_many",
                      username=username, status_code=429)
    with get_store(request).session() as session:
        result = attempt_login(session, username, password, config.login_attempts,
                               config.lockout_minutes, address)
    if result.user is None:
        limiter.failed(address)
        return render(request, "login.html", next=safe_next(next), problem=result.problem,
                      username=username, status_code=401)
    limiter.succeeded(address)
    request.state.session = SessionData(user_id=result.user.id,
                                        fingerprint=fingerprint(result.user))
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout", include_in_schema=False)
def logout(request: Request, user: CurrentUser):
    with get_store(request).session() as session:
        from crawler.store.ingest import add_event

        add_event(session, f"user:{user.username}", "logout", "user", user.id)
    request.state.session = SessionData()
    return RedirectResponse("/login", status_code=303)


@router.get("/account", include_in_schema=False)
def account_page(request: Request, user: CurrentUser, done: str = ""):
    return render(request, "account.html", locales=LOCALES, problem=None,
                  done=done if done in ("saved", "password") else "")


@router.post("/account", include_in_schema=False)
def account_save(request: Request, user: CurrentUser,
                 locale: str = Form(..., max_length=8), blur_media: str = Form("off"),
                 display_name: str = Form("", max_length=500)):
    try:
        with get_store(request).session() as session:
            row = session.get(User, user.id)
            update_settings(session, row, locale, blur_media == "on", display_name)
    except UserError as exc:
        return render(request, "account.html", locales=LOCALES, problem=str(exc), done="",
                      status_code=400)
    return RedirectResponse("/account?done=saved", status_code=303)


@router.post("/account/password", include_in_schema=False)
def account_password(request: Request, user: CurrentUser,
                     current: str = Form(..., max_length=1024),
                     new: str = Form(..., max_length=1024),
                     repeat: str = Form(..., max_length=1024)):
    t = request.app.state.translator.bound(user.locale)
    problem = None
    if not check_password(user.password_hash, current):
        problem = t("account.wrong_password")
    elif new != repeat:
        problem = t("account.mismatch")
    if problem is None:
        try:
            with get_store(request).session() as session:
                row = session.get(User, user.id)
                set_password(session, f"user:{user.username}", row, new)
                new_fingerprint = fingerprint(row)
        except UserError as exc:
            problem = str(exc)
    if problem is not None:
        return render(request, "account.html", locales=LOCALES, problem=problem, done="",
                      status_code=400)
    # This session goes on (with the new fingerprint); every other session of the user ends.
    data = session_data(request)
    request.state.session = SessionData(nonce=data.nonce, user_id=user.id,
                                        fingerprint=new_fingerprint)
    return RedirectResponse("/account?done=password", status_code=303)
