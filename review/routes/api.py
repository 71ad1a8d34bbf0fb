"""The JSON API under /api: the queue (`GET /api/queue`, `/api/queue/counts`), candidates with
their evidence and events, decisions (one, take next, bulk), entities and the watchlist.

The same libraries as the pages and the command line do the work (review/queries.py,
review/claims.py, review/decisions.py, crawler/store/views.py), so every door records the same
events; the roles are the pages' (an analyst reads and decides; a lead also bulk-decides and
changes the watchlist). Sessions and `Authorization: Bearer` tokens both work; a session's
writes need its CSRF token (`X-CSRF-Token`). Every refusal is `{"error": "one line"}` with a 4xx
status; the models in review/api/models.py describe every request and response.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Query

from crawler.config import KyranConfig
from crawler.store.db import Store
from crawler.store.models import User
from crawler.store.views import candidate_view, entity_view
from review.api import convert
from review.api import models as m
from review.api.watchlist import WatchlistError, add_source, set_watched, sources_page
from review.claims import take_next
from review.decisions import DecisionError, bulk_decide, decide
from review.queries import MAX_ID, QueryError, QueueFilters, queue_counts, queue_page
from review.web import get_config, get_store, require_role

ERRORS = {status: {"model": m.ErrorOut, "description": text} for status, text in (
    (400, "Bad input"), (401, "No session or token"), (403, "Role or CSRF token missing"),
    (404, "Not found"), (409, "Conflict with the candidate's state"),
    (422, "A parameter or the body does not match the schema"))}

router = APIRouter(prefix="/api", tags=["api"], responses=ERRORS)

Analyst = Annotated[User, Depends(require_role("analyst"))]
Lead = Annotated[User, Depends(require_role("lead"))]
StoreDep = Annotated[Store, Depends(get_store)]
ConfigDep = Annotated[KyranConfig, Depends(get_config)]
CandidateId = Annotated[int, Path(ge=1, le=MAX_ID, description="A candidate's id.")]
SourceId = Annotated[int, Path(ge=1, le=MAX_ID, description="A source's id.")]
Text = Annotated[str | None, Query(max_length=200)]


def refuse(exc: Exception) -> HTTPException:
    """A library's one-line refusal as an HTTP error (its status, 400 by default)."""
    message = str(exc).replace("\n", " ").replace("\r", " ")
    return HTTPException(status_code=getattr(exc, "status", 400), detail=message)


def _text(value: str | None, name: str) -> str | None:
    try:
        return m.clean_text(value, name)
    except ValueError as exc:
        raise refuse(exc) from None


@router.get("/queue", response_model=m.QueuePageOut, summary="A page of the queue")
def api_queue(
    user: Analyst, store: StoreDep, config: ConfigDep,
    status: Annotated[str | None, Query(max_length=200, description=(
        "One status, several comma-separated, or `all` (default open)"))] = None,
    category: Literal["sale", "recruitment", "none"] | None = None,
    platform: Literal["telegram", "web"] | None = None,
    region: Text = None,
    score_min: Annotated[float | None, Query(allow_inf_nan=False)] = None,
    score_max: Annotated[float | None, Query(allow_inf_nan=False)] = None,
    mine: bool = False,
    assigned_to: Annotated[str | None, Query(max_length=200, description=(
        "A username or user id"))] = None,
    source: Annotated[str | None, Query(max_length=200, description=(
        "A handle, source id or external id"))] = None,
    rule: Text = None,
    text: Annotated[str | None, Query(max_length=200, description="Words in the subject")] = None,
    spot_check: bool = False,
    sort: Literal["priority", "age", "newest", "score"] = "priority",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int | None, Query(ge=1, le=500)] = None,
) -> m.QueuePageOut:
    """Candidates matching the filters, in `sort` order; the same filters as the queue page."""
    params = {"status": status, "category": category, "platform": platform, "region": region,
              "assigned_to": assigned_to, "source": source, "rule": rule, "text": text}
    params = {k: _text(v, k) for k, v in params.items() if v is not None}
    try:
        filters = QueueFilters.from_params(params)
        filters = QueueFilters(**{**filters.__dict__, "score_min": score_min,
                                  "score_max": score_max, "mine": mine,
                                  "spot_check": spot_check})
        with store.reader() as session:
            result = queue_page(session, filters, sort, page,
                                page_size or config.review.page_size, user=user)
            return convert.page_out(result)
    except QueryError as exc:
        raise refuse(exc) from None


@router.get("/queue/counts", response_model=m.CountsOut, summary="Counts per queue")
def api_counts(user: Analyst, store: StoreDep, config: ConfigDep) -> m.CountsOut:
    """How many are open, escalated, yours, and in the spot-check sample (leads)."""
    with store.reader() as session:
        counts = queue_counts(session, user, review=config.review)
    return m.CountsOut(open=counts.open, escalated=counts.escalated, mine=counts.mine,
                       spot_check=counts.spot_check)


@router.get("/candidates/{candidate_id}", response_model=m.CandidateDetailOut,
            summary="A candidate with its evidence")
def api_candidate(candidate_id: CandidateId, user: Analyst, store: StoreDep,
                  posts: Annotated[int, Query(ge=1, le=100)] = 10) -> m.CandidateDetailOut:
    """The candidate, its evidence posts (text, verdict hits with spans, indicators), the
    indicators linked to them, and its full event history."""
    with store.reader() as session:
        view = candidate_view(session, candidate_id, posts=posts)
        if view is None:
            raise HTTPException(404, f"no candidate {candidate_id}")
        return convert.detail_out(session, view)


@router.post("/candidates/{candidate_id}/decision", response_model=m.DecisionOut,
             summary="Decide a candidate")
def api_decide(candidate_id: CandidateId, body: m.DecisionIn, user: Analyst, store: StoreDep,
               config: ConfigDep) -> m.DecisionOut:
    """Confirm (with a policy, and a category if the candidate's is neither sale nor
    recruitment), dismiss (with a reason), escalate, note; assign and reopen (lead)."""
    try:
        with store.session() as session:
            outcome = decide(session, user, candidate_id, body.action, policy=body.policy,
                             reason=body.reason, note=body.note, category=body.category,
                             assignee=body.assignee, review=config.review, via="api")
            session.flush()
            return m.DecisionOut(candidate=convert.candidate_out(session, outcome.candidate),
                                 event=convert.event_out(outcome.event))
    except DecisionError as exc:
        raise refuse(exc) from None


@router.post("/take-next", response_model=m.TakeNextOut, summary="Claim the next candidate")
def api_take_next(user: Analyst, store: StoreDep, config: ConfigDep,
                  body: Annotated[m.TakeNextIn | None, Body()] = None) -> m.TakeNextOut:
    """Atomically claim the top takeable candidate matching the filters (null when none):
    two callers never get the same one."""
    filters = None
    if body is not None and body.filters is not None:
        given = body.filters.model_dump(exclude_none=True)
        try:
            strings = {k: v for k, v in given.items() if isinstance(v, str)}
            filters = QueueFilters.from_params(strings)
            filters = QueueFilters(**{**filters.__dict__,
                                      **{k: given.get(k) for k in ("score_min", "score_max")},
                                      "mine": given.get("mine", False)})
        except QueryError as exc:
            raise refuse(exc) from None
    try:
        with store.session() as session:
            candidate = take_next(session, user, filters, review=config.review)
            out = None if candidate is None else convert.candidate_out(session, candidate)
    except (DecisionError, QueryError) as exc:
        raise refuse(exc) from None
    return m.TakeNextOut(candidate=out)


@router.post("/bulk-decision", response_model=m.BulkDecisionOut, summary="Decide many (lead)")
def api_bulk(body: m.BulkDecisionIn, user: Lead, store: StoreDep,
             config: ConfigDep) -> m.BulkDecisionOut:
    """One decision with one reason for every listed candidate, all or nothing: one event
    each."""
    try:
        with store.session() as session:
            outcomes = bulk_decide(session, user, body.ids, body.action, policy=body.policy,
                                   reason=body.reason, note=body.note, category=body.category,
                                   assignee=body.assignee, review=config.review, via="api")
            session.flush()
            return m.BulkDecisionOut(decided=len(outcomes),
                                     candidates=[o.candidate.id for o in outcomes],
                                     events=[o.event.id for o in outcomes])
    except DecisionError as exc:
        raise refuse(exc) from None


@router.get("/entities/{kind}/{value:path}", response_model=m.EntityOut,
            summary="An indicator with its posts and sources")
def api_entity(user: Analyst, store: StoreDep,
               kind: Annotated[str, Path(max_length=32)],
               value: Annotated[str, Path(max_length=512)],
               posts: Annotated[int, Query(ge=1, le=100)] = 20) -> m.EntityOut:
    """A wallet, bot, handle, domain, phone or URL: every source and post carrying it and the
    candidates it is part of."""
    kind, value = _text(kind, "kind"), _text(value, "value")
    with store.reader() as session:
        views = entity_view(session, kind, value, posts=posts)
        if not views:
            raise HTTPException(404, f"no {kind[:32]} entity with that value")
        return convert.entity_out(session, views[0])


@router.get("/sources", response_model=m.SourcesPageOut, summary="The watchlist")
def api_sources(user: Analyst, store: StoreDep,
                watched: Literal["true", "false", "all"] = "true",
                platform: Literal["telegram", "web"] | None = None,
                page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
                page_size: Annotated[int, Query(ge=1, le=500)] = 50) -> m.SourcesPageOut:
    """Sources by watch priority: watched ones (default), paused ones, or all."""
    flag = None if watched == "all" else watched == "true"
    with store.reader() as session:
        rows, total = sources_page(session, flag, platform, page, page_size)
        return m.SourcesPageOut(rows=[convert.source_out(s) for s in rows], total=total,
                                page=page, page_size=page_size)


@router.post("/sources", response_model=m.SourceChangeOut, status_code=201,
             summary="Watch a source (lead)")
def api_add_source(body: m.SourceIn, user: Lead, store: StoreDep) -> m.SourceChangeOut:
    """Add a Telegram channel (username or t.me link) or a site by hand, with the reason."""
    try:
        with store.session() as session:
            source, event = add_source(session, user, body.platform, body.handle, body.reason,
                                       body.priority, body.region)
            return m.SourceChangeOut(source=convert.source_out(source),
                                     event=convert.event_out(event) if event else None)
    except WatchlistError as exc:
        raise refuse(exc) from None


def _watch(store: Store, user: User, source_id: int, watched: bool,
           body: m.SourceChangeIn | None) -> m.SourceChangeOut:
    try:
        with store.session() as session:
            source, event = set_watched(session, user, source_id, watched,
                                        body.reason if body else None)
            return m.SourceChangeOut(source=convert.source_out(source),
                                     event=convert.event_out(event) if event else None)
    except WatchlistError as exc:
        raise refuse(exc) from None


@router.post("/sources/{source_id}/pause", response_model=m.SourceChangeOut,
             summary="Stop watching a source (lead)")
def api_pause(source_id: SourceId, user: Lead, store: StoreDep,
              body: Annotated[m.SourceChangeIn | None, Body()] = None) -> m.SourceChangeOut:
    """Stop crawling it (its posts and evidence are kept)."""
    return _watch(store, user, source_id, False, body)


@router.post("/sources/{source_id}/resume", response_model=m.SourceChangeOut,
             summary="Watch a paused source again (lead)")
def api_resume(source_id: SourceId, user: Lead, store: StoreDep,
               body: Annotated[m.SourceChangeIn | None, Body()] = None) -> m.SourceChangeOut:
    """Crawl it again."""
    return _watch(store, user, source_id, True, body)

