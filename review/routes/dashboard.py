"""The leads' dashboard (`/dashboard`, lead and admin): decisions per day, the detector's
precision per category and per rule, time to decision, per-analyst throughput, top entities and
queue age, over a period of whole UTC days given as `?from=YYYY-MM-DD&to=YYYY-MM-DD`.

The figures come from review/stats.py through the app's `DashboardCache` (one per app, on
`app.state.dashboard_cache`); the charts are review/charts.py's server-drawn SVGs, inline.
Below them, from review/production.py: the spot-check sample (what detection misses) and the
takedown times of reported subjects (all time, not the period).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from crawler.store.models import User
from review.charts import dashboard_charts
from review.production import spot_check, takedowns
from review.routes.entities import entity_href
from review.stats import DashboardCache, Period, StatsError
from review.web import get_config, get_store, render, require_role, translator

router = APIRouter()
Lead = Annotated[User, Depends(require_role("lead"))]


def _cache(request: Request) -> DashboardCache:
    cache = getattr(request.app.state, "dashboard_cache", None)
    if cache is None:  # an app built without one: keep one per app all the same
        cache = request.app.state.dashboard_cache = DashboardCache()
    return cache


def duration(seconds: float | None) -> str:
    """A duration for people: 45 s, 12 min, 3.5 h, 2.1 d; an em dash when unknown."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


@router.get("/dashboard", include_in_schema=False)
def dashboard_page(request: Request, _lead: Lead,
                   start: Annotated[str | None, Query(alias="from", max_length=40)] = None,
                   end: Annotated[str | None, Query(alias="to", max_length=40)] = None):
    try:
        period = Period.parse(start, end)
    except StatsError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    now = datetime.now(timezone.utc)
    with get_store(request).reader() as session:
        board = _cache(request).get(session, period)
        sample = spot_check(session)
        downs = takedowns(session, get_config(request).evidence.rereport_after_days, now)
    oldest = board.queue.oldest_age(now)
    return render(request, "dashboard.html", board=board, period=period,
                  charts=dashboard_charts(board, translator(request)), duration=duration,
                  entity_href=entity_href, sample=sample, takedowns=downs,
                  oldest=duration(oldest.total_seconds()) if oldest is not None else "—")
