"""The entity page (`/entities/{kind}/{value}`, analysts and up): one indicator (wallet, bot,
handle, domain, phone, URL …) with every source and post carrying it, the posts on a timeline
(newest first, grouped by UTC day), and the candidates related to it.

Values are scraped, hence hostile: the template shows them escaped, on one line and defanged,
never as a link to where they point. Images of the posts come only from our own captures
(review/routes/media.py).
"""

from __future__ import annotations

from datetime import date
from itertools import groupby
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Path, Request

from crawler.store.models import User
from crawler.store.views import EvidencePost, entity_view
from review.routes.media import image_captures
from review.web import get_store, render, require_role

router = APIRouter()
Analyst = Annotated[User, Depends(require_role("analyst"))]
TIMELINE_POSTS = 100


def entity_href(kind: str, value: str) -> str:
    """The page of an entity: every character of the value that could end or redirect the path
    percent-encoded (a value of "." or ".." too, which a browser would otherwise resolve)."""
    def part(text: str) -> str:
        quoted = quote(text, safe="")
        return quoted.replace(".", "%2E") if quoted in (".", "..") else quoted
    return f"/entities/{part(kind)}/{part(value)}"


def _moment(item: EvidencePost):
    return item.post.posted_at or item.post.first_seen


def timeline(posts: list[EvidencePost]) -> list[tuple[date | None, list[EvidencePost]]]:
    """Posts newest first, grouped by the UTC day they were posted (or first seen)."""
    ordered = sorted(posts, key=lambda item: (_moment(item) is not None, _moment(item),
                                              item.post.id), reverse=True)
    return [(day, list(group)) for day, group in groupby(
        ordered, key=lambda item: _moment(item).date() if _moment(item) else None)]


@router.get("/entities/{kind}/{value:path}", include_in_schema=False)
def entity_page(request: Request, _user: Analyst,
                kind: Annotated[str, Path(min_length=1, max_length=32)],
                value: Annotated[str, Path(min_length=1, max_length=512)]):
    with get_store(request).reader() as session:
        views = entity_view(session, kind, value, posts=TIMELINE_POSTS)
        if not views:
            raise HTTPException(status_code=404, detail="no such entity")
        view = views[0]
        images = image_captures(session, [item.post for item in view.posts])
        response = render(request, "entity.html", view=view, days=timeline(view.posts),
                          images=images, limit=TIMELINE_POSTS, entity_href=entity_href)
    return response
