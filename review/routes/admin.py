"""Admin pages: accounts (`/admin/users`: add, change role, disable or enable, reset password,
API tokens) and the audit log (`/admin/audit`, with CSV and JSON Lines exports).

The audit log's query and export come from review/audit.py (`query_events(session, filters,
limit, offset)` and `export_events(session, filters, fmt)`).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from crawler.store.models import User
from review.users import (ROLES, UserError, add_user, display_names, issue_token, list_users,
                          revoke_token, set_active, set_password, set_role, tokens_of)
from review.web import get_config, get_store, render, require_role

router = APIRouter(prefix="/admin")
Admin = Annotated[User, Depends(require_role("admin"))]
# Row ids are INTEGER columns: a larger number names nothing (422), never a database error.
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
DONE = {"added", "role", "enabled", "disabled", "password", "revoked"}


def _users_page(request: Request, problem: str | None = None, issued=None, done: str = "",
                status_code: int = 200) -> Response:
    with get_store(request).reader() as session:
        users = list_users(session)
        tokens = tokens_of(session)
    return render(request, "admin_users.html", users=users, tokens=tokens, roles=ROLES,
                  problem=problem, issued=issued, done=done if done in DONE else "",
                  status_code=status_code)


@router.get("/users", include_in_schema=False)
def users_page(request: Request, _admin: Admin, done: str = ""):
    return _users_page(request, done=done)


def _change(request: Request, admin: User, change, done: str) -> Response:
    try:
        with get_store(request).session() as session:
            change(session, f"user:{admin.username}")
    except UserError as exc:
        return _users_page(request, problem=str(exc), status_code=400)
    return RedirectResponse(f"/admin/users?done={done}", status_code=303)


def _user(session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise UserError(f"no user {user_id}")
    return user


@router.post("/users", include_in_schema=False)
def users_add(request: Request, admin: Admin,
              username: str = Form(..., max_length=200), role: str = Form(..., max_length=16),
              password: str = Form(..., max_length=1024),
              display_name: str = Form("", max_length=500)):
    return _change(request, admin, lambda session, actor: add_user(
        session, actor, username.strip().lower(), role, password, display_name or None),
        "added")


@router.post("/users/{user_id}/role", include_in_schema=False)
def users_role(request: Request, user_id: RowId, admin: Admin,
               role: str = Form(..., max_length=16)):
    return _change(request, admin, lambda session, actor: set_role(
        session, actor, _user(session, user_id), role), "role")


@router.post("/users/{user_id}/active", include_in_schema=False)
def users_active(request: Request, user_id: RowId, admin: Admin,
                 active: str = Form(..., max_length=8)):
    wanted = active == "yes"
    return _change(request, admin, lambda session, actor: set_active(
        session, actor, _user(session, user_id), wanted), "enabled" if wanted else "disabled")


@router.post("/users/{user_id}/password", include_in_schema=False)
def users_password(request: Request, user_id: RowId, admin: Admin,
                   password: str = Form(..., max_length=1024)):
    return _change(request, admin, lambda session, actor: set_password(
        session, actor, _user(session, user_id), password), "password")


@router.post("/users/{user_id}/tokens", include_in_schema=False)
def users_token(request: Request, user_id: RowId, admin: Admin,
                name: str = Form(..., max_length=200)):
    try:
        with get_store(request).session() as session:
            owner = _user(session, user_id)
            issued = issue_token(session, f"user:{admin.username}", owner, name)
            shown = {"id": issued.row.id, "token": issued.token, "user": owner.username}
    except UserError as exc:
        return _users_page(request, problem=str(exc), status_code=400)
    return _users_page(request, issued=shown)  # shown once: never stored, never redirected


@router.post("/tokens/{token_id}/revoke", include_in_schema=False)
def tokens_revoke(request: Request, token_id: RowId, admin: Admin):
    return _change(request, admin, lambda session, actor: revoke_token(session, actor, token_id),
                   "revoked")


AUDIT_PARAMS = ("actor", "action", "subject_type", "subject_id", "from", "to")


def audit_params(request: Request) -> dict[str, str]:
    """The audit filters given in the query string, as review/audit.py parses them: `actor`
    (exact, "user:NAME"), `action` (a prefix), `subject_type`, `subject_id`, `from` and `to`
    (dates or times, UTC unless they say otherwise)."""
    return {name: request.query_params[name] for name in AUDIT_PARAMS
            if request.query_params.get(name, "").strip()}


Params = Annotated[dict, Depends(audit_params)]


@router.get("/audit", include_in_schema=False)
def audit_page(request: Request, _admin: Admin, params: Params, page: int = 1):
    from review.audit import AuditError, query_events

    if not 1 <= page <= 100_000:
        raise HTTPException(422, "page: a whole number from 1 to 100000")
    size = get_config(request).review.page_size
    try:
        with get_store(request).reader() as session:
            rows = list(query_events(session, params, size + 1, (page - 1) * size))
            names = display_names(session)
    except AuditError as exc:
        raise HTTPException(422, str(exc)) from None
    return render(request, "audit.html", events=rows[:size], more=len(rows) > size, page=page,
                  filters=params, names=names, query=urlencode(params))


def _export(request: Request, params: dict, fmt: str, media: str) -> Response:
    from review.audit import AuditError, export_events

    session = get_store(request).readers()
    try:
        lines = export_events(session, params, fmt)  # a bad filter is refused here, at once
    except AuditError as exc:
        session.close()
        raise HTTPException(422, str(exc)) from None

    def stream():
        try:
            yield from lines
        finally:
            session.close()

    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return StreamingResponse(stream(), media_type=media, headers={
        "content-disposition": f'attachment; filename="kyran-audit-{stamp}.{fmt}"'})


@router.get("/audit.csv", include_in_schema=False)
def audit_csv(request: Request, _admin: Admin, params: Params):
    return _export(request, params, "csv", "text/csv; charset=utf-8")


@router.get("/audit.jsonl", include_in_schema=False)
def audit_jsonl(request: Request, _admin: Admin, params: Params):
    return _export(request, params, "jsonl", "application/jsonl; charset=utf-8")
