"""The bulk workspace (leads and admins): choose candidates by the queue's filters (GET /bulk
with by=filter) or by hand (POST /bulk with the queue's checkboxes or pasted ids), preview them,
name one decision (confirm with a policy, dismiss with a reason, escalate) on a confirmation
page that says what and to how many, then apply it: one event per candidate, the ones that can
no longer take it skipped and listed with why.

The ids travel from preview to apply with a signed digest (review/bulk.py), so exactly what was
previewed is decided. Every POST carries the CSRF token (the router's dependency).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from crawler.config_evidence import RECIPIENTS
from crawler.defang import one_line
from crawler.store.models import Candidate, User
from review.bulk import (ACTIONS, BulkError, BulkRequest, apply_bulk, check_seal, existing_ids,
                         ids_by_filter, parse_ids, seal)
from review.decisions import MAX_BULK, DecisionError
from review.queries import (CATEGORIES, PLATFORMS, SORTS, STATUSES, QueryError, QueueFilters,
                            rows_for)
from review.routes.queue import filter_params
from review.web import get_config, get_store, render, require_role

router = APIRouter()
Lead = Annotated[User, Depends(require_role("lead"))]
SKIPPED_SHOWN = 200  # skipped candidates listed on the result page; the rest are counted


def _page(request: Request, template: str = "bulk.html", status: int = 200, **context):
    config = get_config(request)
    params = request.query_params
    base = {"statuses": STATUSES, "categories": CATEGORIES, "platforms": PLATFORMS,
            "sorts": list(SORTS), "filters": filter_params(params),
            "sort": params.get("sort") or "priority", "max_bulk": MAX_BULK,
            "actions": ACTIONS, "policies": config.review.policies,
            "reasons": config.review.dismiss_reasons, "selection": None, "error": None,
            "wanted": None, "recipients": RECIPIENTS}  # the export action's choice
    base.update(context)
    return render(request, template, status_code=status, **base)


def _selection(request: Request, user: User, ids: list[int], by: str, left_out: int = 0):
    """What a preview shows and carries: the count, the first page of rows, the sealed ids."""
    config, store = get_config(request), get_store(request)
    first = ids[:config.review.page_size]
    with store.reader() as session:
        found = {c.id: c for c in session.scalars(select(Candidate).where(
            Candidate.id.in_(first)))} if first else {}
        rows = rows_for(session, [found[i] for i in first if i in found],
                        datetime.now(timezone.utc))
    for row in rows:  # scraped: no controls, no bidi, defanged
        row.subject = one_line(row.subject)
    return {"ids": ids, "ids_field": ",".join(map(str, ids)), "count": len(ids), "rows": rows,
            "by": by, "left_out": left_out,
            "seal": seal(request.app.state.codec.key, user.id, ids)}


@router.get("/bulk", response_class=HTMLResponse)
def bulk_page(request: Request, user: Lead):
    """The selection form; with by=filter, the preview of every candidate the filters match."""
    params = request.query_params
    if params.get("by") != "filter":
        return _page(request)
    try:
        filters = QueueFilters.from_params(params)
        with get_store(request).reader() as session:
            ids = ids_by_filter(session, filters, user, params.get("sort") or "priority")
    except (QueryError, BulkError) as exc:
        return _page(request, status=400, error=str(exc))
    return _page(request, selection=_selection(request, user, ids, "filter"))


@router.post("/bulk", response_class=HTMLResponse)
async def bulk_by_hand(request: Request, user: Lead):
    """The preview of the ids posted: the queue's checkboxes (ids) or pasted (ids_text)."""
    form = await request.form()
    values = [str(v) for v in form.getlist("ids") + form.getlist("ids_text")]
    try:
        ids = parse_ids(values)
        if not ids:
            raise BulkError("no candidates selected: tick some in the queue or paste their ids")
    except BulkError as exc:
        return _page(request, status=400, error=str(exc))
    with get_store(request).reader() as session:
        found = existing_ids(session, ids)
    if not found:
        return _page(request, status=400, error="none of these ids names a candidate")
    return _page(request, selection=_selection(request, user, found, "hand",
                                               left_out=len(ids) - len(found)))


async def _sealed_step(request: Request, user: User, step):
    """Read the form, check its ids against their seal and run `step(user, ids, wanted, by)`;
    a bad seal answers the selection form with one line, a decision that cannot be asked
    answers the preview again with it."""
    form = await request.form()
    by = "filter" if form.get("by") == "filter" else "hand"
    try:
        ids = parse_ids([str(form.get("ids") or "")])
        check_seal(request.app.state.codec.key, str(form.get("seal") or ""), user.id, ids)
        if not ids:
            raise BulkError("no candidates selected")
    except BulkError as exc:
        return _page(request, status=400, error=str(exc))
    wanted = BulkRequest.from_form(form)
    try:
        return step(user, ids, wanted, by)
    except DecisionError as exc:
        return _page(request, status=exc.status, error=str(exc), wanted=wanted,
                     selection=_selection(request, user, ids, by))


@router.post("/bulk/confirm", response_class=HTMLResponse)
async def bulk_confirm(request: Request, user: Lead):
    """The confirmation step: the action, the count and the policy or reason, named."""
    def confirm(user: User, ids: list[int], wanted: BulkRequest, by: str):
        wanted.check(user, get_config(request).review)
        return _page(request, "bulk_confirm.html", wanted=wanted,
                     selection=_selection(request, user, ids, by))

    return await _sealed_step(request, user, confirm)


@router.post("/bulk/apply", response_class=HTMLResponse)
async def bulk_apply(request: Request, user: Lead):
    """Apply the confirmed decision to the sealed ids; the result page."""
    def apply(user: User, ids: list[int], wanted: BulkRequest, _by: str):
        with get_store(request).session() as session:
            result = apply_bulk(session, user, ids, wanted, review=get_config(request).review)
        return _page(request, "bulk_result.html", result=result, wanted=wanted,
                     shown=result.skipped[:SKIPPED_SHOWN])

    return await _sealed_step(request, user, apply)
