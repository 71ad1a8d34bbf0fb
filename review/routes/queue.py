"""The queue page: candidates by priority with filters, sorts and counts per queue, and "take
next", which atomically claims the top unclaimed candidate matching the filters and opens it.

Bad filter values answer 400 with one line on the page (never a traceback); every value reaches
the database as a bound parameter (`review.queries`).
"""

from __future__ import annotations

from typing import Annotated

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from crawler.defang import one_line
from crawler.store.models import User
from review.claims import take_next
from review.counts import CountsCache
from review.decisions import DecisionError
from review.queries import (CATEGORIES, PLATFORMS, SORTS, STATUSES, QueryError, QueueFilters,
                            queue_page)
from review.web import csrf_protect, get_config, get_store, render, require_role

router = APIRouter()
Analyst = Annotated[User, Depends(require_role("analyst"))]

FILTER_FIELDS = ("status", "category", "platform", "region", "score_min", "score_max", "mine",
                 "assigned_to", "source", "rule", "text", "spot_check")


def filter_params(params) -> dict[str, str]:
    """The filter fields a request carries, non-empty, for links and for "take next"."""
    return {name: str(params[name]).strip() for name in FILTER_FIELDS
            if str(params.get(name) or "").strip()}


def counts_cache(request: Request) -> CountsCache:
    """The app's cache of the counts per queue (made on first use)."""
    state = request.app.state
    if getattr(state, "queue_counts", None) is None:
        state.queue_counts = CountsCache()
    return state.queue_counts


def _page_number(value: str | None) -> int:
    if value in (None, ""):
        return 1
    if not str(value).isdigit() or not 1 <= int(value) <= 1_000_000:
        raise QueryError("page: expected a whole number from 1")
    return int(value)


@router.get("/queue", response_class=HTMLResponse)
def queue(request: Request, user: Analyst):
    config, store = get_config(request), get_store(request)
    params = request.query_params
    kept = filter_params(params)
    context = {"filters": kept, "statuses": STATUSES, "categories": CATEGORIES,
               "platforms": PLATFORMS, "sorts": list(SORTS), "sort": params.get("sort") or
               "priority", "page": None, "counts": None, "error": None,
               "empty": params.get("empty") == "1"}
    status = 200
    with store.reader() as session:
        context["counts"] = counts_cache(request).get(session, user, review=config.review)
        try:
            filters = QueueFilters.from_params(params)
            context["page"] = queue_page(session, filters, context["sort"],
                                         _page_number(params.get("page")),
                                         config.review.page_size, user=user)
            for row in context["page"].rows:  # scraped: no controls, no bidi, defanged
                row.subject = one_line(row.subject)
        except QueryError as exc:
            context["error"], status = str(exc), 400
    context["link"] = lambda **change: "/queue?" + urlencode(
        {**kept, "sort": context["sort"], **change})
    return render(request, "queue.html", status_code=status, **context)


@router.get("/", include_in_schema=False)
def home(user: Analyst) -> RedirectResponse:
    """The queue is where analysts start (after logging in)."""
    return RedirectResponse("/queue", status_code=303)


@router.post("/queue/next", dependencies=[Depends(csrf_protect)])
async def next_candidate(request: Request, user: Analyst):
    """Claim the top candidate matching the form's filters and open it."""
    form = await request.form()
    kept = filter_params(form)
    return take_next_response(request, user, kept)


def take_next_response(request: Request, user: User, kept: dict[str, str]):
    """303 to the claimed candidate, or back to the queue saying it is empty; 400 for bad
    filters, with one line."""
    config, store = get_config(request), get_store(request)
    try:
        filters = QueueFilters.from_params(kept)
        with store.session() as session:
            candidate = take_next(session, user, filters, review=config.review)
            claimed = candidate.id if candidate is not None else None
    except (QueryError, DecisionError) as exc:
        raise HTTPException(getattr(exc, "status", 400), str(exc)) from None
    if claimed is None:
        return RedirectResponse("/queue?" + urlencode({**kept, "empty": "1"}), status_code=303)
    suffix = ("?" + urlencode(kept)) if kept else ""
    return RedirectResponse(f"/candidates/{claimed}{suffix}", status_code=303)
