"""Exporting evidence packages from the review app (leads and admins), as `kyran export` does.

Choose the candidates — the bulk workspace's sealed selection (its "Export" action), or every
confirmed candidate not yet reported (`/export`) — and the recipient profile; the preview names
the count, the subjects and the candidates left out (not confirmed); confirming starts the build
in the worker thread (review/export_jobs.py) and leads to a "building…" page that reloads
itself until the package is ready to download (or says in one line why it could not be made).
The ids travel from preview to build sealed (review/bulk.py's seal under an export key), so
exactly what was previewed is exported. Every POST carries the CSRF token (the router's
dependency).

`POST /api/exports` (a lead's token or session) builds a package for given ids, filters or all
confirmed, and answers its id and download URL when it is built.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import datetime, timezone
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from crawler.config_evidence import RECIPIENTS
from crawler.defang import one_line
from crawler.store.models import Candidate, User
from evidence.build import BuildError, BuildResult
from evidence.collect import EXPORTABLE, Selection, SelectionError, candidate_ids
from review.api.models import RequestModel
from review.bulk import BulkError, check_seal, parse_ids, seal
from review.decisions import MAX_BULK, MAX_ID
from review.export_jobs import jobs_of
from review.routes.api import ERRORS
from review.routes.bulk import _selection
from review.web import get_config, get_store, render, require_role

router = APIRouter()
Lead = Annotated[User, Depends(require_role("lead"))]
SKIPPED_SHOWN = 200
REFRESH_SECONDS = 2


def _export_key(request: Request) -> bytes:
    """The app's key, derived for export: a bulk decision's seal does not start a build."""
    return hashlib.sha256(b"kyran.export|" + request.app.state.codec.key).digest()


def _page(request: Request, status: int = 200, **context):
    base = {"recipients": RECIPIENTS, "recipient": None, "selection": None, "skipped": [],
            "error": None, "max_bulk": MAX_BULK}
    base.update(context)
    return render(request, "export.html", status_code=status, **base)


def _recipient(form) -> str:
    recipient = str(form.get("recipient") or "")
    if recipient not in RECIPIENTS:
        raise BulkError(f"recipient: expected one of {', '.join(RECIPIENTS)}")
    return recipient


def _exportable(session, ids: list[int]) -> tuple[list[int], list[tuple[int, str]]]:
    """Those of `ids` that can be exported, and the others with why."""
    status: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for candidate_id, state in session.execute(
                select(Candidate.id, Candidate.status).where(Candidate.id.in_(chunk))):
            status[candidate_id] = state
    kept = [i for i in ids if status.get(i) in EXPORTABLE]
    skipped = [(i, f"is {status[i]}, not confirmed" if i in status else "no such candidate")
               for i in ids if status.get(i) not in EXPORTABLE]
    return kept, skipped


@router.get("/export", response_class=HTMLResponse)
def export_page(request: Request, _user: Lead):
    """Export every confirmed candidate not yet reported; or go to the bulk workspace."""
    return _page(request)


@router.post("/export/preview", response_class=HTMLResponse)
async def export_preview(request: Request, user: Lead):
    """The count, subjects and recipient of the package to be built, with the sealed ids."""
    form = await request.form()
    return await run_in_threadpool(_preview, request, user, form)


def _preview(request: Request, user: User, form):
    limit = min(MAX_BULK, get_config(request).evidence.max_batch)
    skipped: list[tuple[int, str]] = []
    try:
        recipient = _recipient(form)
        with get_store(request).reader() as session:
            if form.get("scope") == "all_confirmed":
                ids, by = candidate_ids(session, Selection(all_confirmed=True), limit), "all"
            else:
                ids = parse_ids([str(form.get("ids") or "")])
                check_seal(request.app.state.codec.key, str(form.get("seal") or ""), user.id,
                           ids)
                ids, skipped = _exportable(session, ids)
                by = "filter" if form.get("by") == "filter" else "hand"
        if not ids:
            raise BulkError("none of the selected candidates is confirmed: nothing to export")
        if len(ids) > limit:
            raise BulkError(f"{len(ids)} candidates, at most {limit} in one package from the "
                            "web: narrow the selection")
    except (BulkError, SelectionError) as exc:
        return _page(request, status=400, error=str(exc))
    selection = _selection(request, user, ids, by)
    selection["seal"] = seal(_export_key(request), user.id, ids)
    return _page(request, selection=selection, recipient=recipient,
                 skipped=skipped[:SKIPPED_SHOWN], skipped_count=len(skipped))


@router.post("/export/build", response_class=HTMLResponse)
async def export_build(request: Request, user: Lead):
    """Start building the previewed package; to its "building…" page."""
    form = await request.form()
    try:
        recipient = _recipient(form)
        ids = parse_ids([str(form.get("ids") or "")])
        check_seal(_export_key(request), str(form.get("seal") or ""), user.id, ids)
        if not ids:
            raise BulkError("no candidates selected")
    except BulkError as exc:
        return _page(request, status=400, error=str(exc))
    job = jobs_of(request.app).start(get_store(request), get_config(request), user, ids,
                                     recipient)
    return RedirectResponse(f"/export/jobs/{job.id}", status_code=303)


@router.get("/export/jobs/{job_id}", response_class=HTMLResponse)
async def export_job(request: Request, job_id: str, user: Lead):
    """Building (the page reloads itself), done (the download) or failed (why)."""
    job = jobs_of(request.app).get(job_id[:64], user.id)
    if job is None:
        raise HTTPException(status_code=404, detail="no such export (finished exports are "
                            "listed under Packages)")
    return render(request, "export_job.html", job=job, refresh=REFRESH_SECONDS)


class ExportIn(RequestModel):
    """Which candidates (ids, or filters, or all confirmed) and for whom."""

    recipient: Literal["telegram", "regulator", "generic"]
    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        default_factory=list, max_length=10_000, description="Candidate ids.")
    status: Literal["confirmed", "reported", "taken_down"] | None = Field(
        None, description="Filter: candidates in this status (default confirmed).")
    category: Literal["sale", "recruitment"] | None = None
    platform: Literal["telegram", "web"] | None = None
    since: datetime | None = Field(None, description="Filter: decided at or after.")
    all_confirmed: bool = Field(False, description="Every confirmed candidate not yet reported.")
    plain: bool = Field(False, description="Plain report and request texts only: no templates, "
                        "PDF, screenshots, WACZ or timestamp.")

    @field_validator("since")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        try:
            return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)) \
                .astimezone(timezone.utc)
        except (OverflowError, ValueError):
            raise ValueError("since: not a time that can be compared") from None


class ExportOut(BaseModel):
    package_id: str
    download_url: str = Field(description="GET it with the same token or session.")
    file_name: str
    sha256: str
    size: int
    subjects: int
    posts: int
    missing_captures: int
    key_fingerprint: str
    candidates: list[int]
    notes: list[str] = Field(description="What the package left out and why (e.g. no PDF: "
                             "Chromium is not installed).")


def _finished(result: BuildResult, notes: list[str]) -> ExportOut:
    return ExportOut(package_id=result.package_id, file_name=result.path.name,
                     download_url=f"/packages/{result.package_id}/download",
                     sha256=result.sha256, size=result.size, subjects=result.subjects,
                     posts=result.items, missing_captures=result.missing,
                     key_fingerprint=result.fingerprint, candidates=result.candidate_ids,
                     notes=list(notes))


@router.post("/api/exports", response_model=ExportOut, status_code=201, tags=["api"],
             responses=ERRORS, summary="Build an evidence package (lead)")
async def api_export(request: Request, body: ExportIn, user: Lead) -> ExportOut:
    """Build a signed evidence package of confirmed candidates — by `ids`, by filters, or
    `all_confirmed` — for `recipient`, mark them reported, and answer when it is built."""
    selection = Selection(ids=tuple(body.ids), status=body.status, category=body.category,
                          platform=body.platform, since=body.since,
                          all_confirmed=body.all_confirmed)
    job = jobs_of(request.app).start(get_store(request), get_config(request), user, None,
                                     body.recipient, selection=selection, plain=body.plain)
    try:
        result = await asyncio.wrap_future(job.future)
    except (BuildError, SelectionError) as exc:
        raise HTTPException(status_code=400, detail=one_line(str(exc))) from None
    return _finished(result, job.notes)
