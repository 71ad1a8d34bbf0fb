"""The watchlist (`/sources`) and one source (`/sources/{id}`): analysts read, leads act.

The list shows status, last crawl, last seen, when and how a source went away, region and watch
priority. A lead adds a Telegram channel (validated by crawler/usernames.py) or a web site by
hand with a reason (kept in `Source.watch_reason`, and an event `watchlist.add`), and pauses or
resumes watching (`Source.watched`; events `watchlist.pause` / `watchlist.resume`). Every form
carries the CSRF token (checked for every router by create_app).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select

from crawler.store.ingest import add_event, watch
from crawler.store.models import Candidate, Event, Post, Source, User
from crawler.usernames import UsernameError, parse_username
from review.web import get_config, get_store, render, require_role

router = APIRouter()
Analyst = Annotated[User, Depends(require_role("analyst"))]
Lead = Annotated[User, Depends(require_role("lead"))]
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
PLATFORMS = ("telegram", "web")
STATUSES = ("unknown", "active", "no_preview", "empty", "gone", "blocked")
DONE = {"added", "paused", "resumed", "known"}


class WatchError(ValueError):
    """Bad input for the watchlist; one line for the person who typed it."""


def site_host(raw: str) -> str:
    """The host name of a web site given as `shop.example` or `https://shop.example/path`."""
    text = raw.strip()
    if not text or len(text) > 255 or any(ch.isspace() for ch in text):
        raise WatchError("a site is a host name or an http(s) address without spaces")
    try:
        parts = urlsplit(text if "://" in text else f"http://{text}")
        host = (parts.hostname or "").rstrip(".")
    except ValueError:  # e.g. an unclosed IPv6 bracket
        raise WatchError(f"{ascii(text[:80])} is not a web site address") from None
    labels = host.split(".")
    if parts.scheme not in ("http", "https") or len(labels) < 2 or not all(
            label and len(label) <= 63 and all(ch.isalnum() or ch == "-" for ch in label)
            and label.isascii() for label in labels):
        raise WatchError(f"{ascii(text[:80])} is not a web site address")
    return host.lower()


def add_to_watchlist(session, platform: str, raw: str, reason: str, priority: int,
                     region: str, actor: str) -> tuple[Source, bool]:
    """Put a source on the watchlist by hand; (source, newly added). A source already known
    is watched again with the reason recorded; its other settings stay."""
    reason = " ".join(reason.split())
    if not reason:
        raise WatchError("say why this source is watched (a reason is required)")
    if platform == "telegram":
        try:
            handle, kind = parse_username(raw), "channel"
        except UsernameError as exc:
            raise WatchError(str(exc)) from None
    elif platform == "web":
        handle, kind = site_host(raw), "site"
    else:
        raise WatchError(f"platform is one of {', '.join(PLATFORMS)}")
    known = session.scalar(select(Source.id).where(Source.platform == platform,
                                                   Source.handle == handle))
    source = watch(session, platform, handle, via="manual", priority=priority, actor=actor,
                   kind=kind)
    source.watch_reason = reason
    source.watched = True
    if known is None:
        source.watch_priority = priority
        source.region = " ".join(region.split())[:64] or None
    session.flush()
    add_event(session, actor, "watchlist.add", "source", source.id, platform=platform,
              handle=handle, reason=reason, priority=priority, new=known is None)
    return source, known is None


@router.get("/sources", include_in_schema=False)
def sources_page(request: Request, _user: Analyst,
                 status: Annotated[str, Query(max_length=16)] = "",
                 watched: Annotated[str, Query(pattern="^(|yes|no)$")] = "",
                 page: Annotated[int, Query(ge=1, le=100_000)] = 1, done: str = ""):
    if status and status not in STATUSES:
        raise HTTPException(status_code=422, detail=f"status is one of {', '.join(STATUSES)}")
    return _list(request, status, watched, page, done=done)


def _list(request: Request, status: str = "", watched: str = "", page: int = 1, done: str = "",
          problem: str | None = None, form: dict | None = None, status_code: int = 200):
    size = get_config(request).review.page_size
    query = select(Source)
    if status:
        query = query.where(Source.status == status)
    if watched:
        query = query.where(Source.watched.is_(watched == "yes"))
    with get_store(request).reader() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = list(session.scalars(query.order_by(
            Source.watched.desc(), Source.watch_priority.desc(), Source.id)
            .limit(size).offset((page - 1) * size)))
    pages = max(1, -(-total // size))
    filters = {k: v for k, v in (("status", status), ("watched", watched)) if v}
    return render(request, "sources.html", sources=rows, total=total, page=page, pages=pages,
                  status=status, watched=watched, statuses=STATUSES, platforms=PLATFORMS,
                  query=lambda n: urlencode({**filters, "page": n}), done=done if done in DONE
                  else "", problem=problem, form=form or {}, status_code=status_code)


@router.post("/sources", include_in_schema=False)
def add_source(request: Request, lead: Lead,
               platform: Annotated[str, Form(max_length=16)],
               handle: Annotated[str, Form(max_length=300)],
               reason: Annotated[str, Form(max_length=2000)],
               priority: Annotated[int, Form(ge=0, le=100)] = 50,
               region: Annotated[str, Form(max_length=64)] = "") -> Response:
    try:
        with get_store(request).session() as session:
            source, new = add_to_watchlist(session, platform, handle, reason, priority, region,
                                           f"user:{lead.username}")
            source_id = source.id
    except WatchError as exc:
        form = {"platform": platform, "handle": handle, "reason": reason, "region": region,
                "priority": priority}
        return _list(request, problem=str(exc), form=form, status_code=400)
    return RedirectResponse(f"/sources/{source_id}?done={'added' if new else 'known'}",
                            status_code=303)


@router.get("/sources/{source_id}", include_in_schema=False)
def source_page(request: Request, _user: Analyst, source_id: RowId, done: str = ""):
    with get_store(request).reader() as session:
        source = session.get(Source, source_id)
        if source is None:
            raise HTTPException(status_code=404, detail="no such source")
        posts = session.scalar(select(func.count()).where(Post.source_id == source_id)) or 0
        candidates = list(session.scalars(
            select(Candidate).where(Candidate.subject_type == "source",
                                    Candidate.subject_id == source_id)))
        events = list(session.scalars(
            select(Event).where(Event.subject_type == "source", Event.subject_id == source_id)
            .order_by(Event.id.desc()).limit(50)))
        return render(request, "source.html", source=source, posts=posts,
                      candidates=candidates, events=events,
                      done=done if done in DONE else "")


@router.post("/sources/{source_id}/watch", include_in_schema=False)
def set_watched(request: Request, lead: Lead, source_id: RowId,
                action: Annotated[str, Form(pattern="^(pause|resume)$")]) -> Response:
    with get_store(request).session() as session:
        source = session.get(Source, source_id)
        if source is None:
            raise HTTPException(status_code=404, detail="no such source")
        wanted = action == "resume"
        if source.watched != wanted:
            source.watched = wanted
            add_event(session, f"user:{lead.username}", f"watchlist.{action}", "source",
                      source_id)
    return RedirectResponse(f"/sources/{source_id}?done={action}d", status_code=303)
