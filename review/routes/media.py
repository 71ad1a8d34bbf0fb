"""Images from our own captures, never from where they were found.

`/media/{capture_id}` serves the payload of a captured HTTP response whose recorded content
type is an image (PNG, JPEG, GIF, WebP; never SVG, which can carry script), verified against
its SHA-256, with `Content-Security-Policy: sandbox` and `nosniff`. Pages show such images
through the `media.html` partial: blurred and greyscale until clicked for users whose
`blur_media` setting is on (CSS and a `<details>` toggle, no script).

`image_captures(session, posts)` finds, for each post with media, the capture of its media URL.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.store.captures import CaptureError, read_capture
from crawler.store.models import Capture, Post, User
from review.web import get_config, get_store, require_role

router = APIRouter()
LOG = logging.getLogger("kyran.review")
Analyst = Annotated[User, Depends(require_role("analyst"))]
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


def content_type(headers: list[tuple[str, str]]) -> str:
    for name, value in headers:
        if name.lower() == "content-type":
            return value.split(";")[0].strip().lower()
    return ""


def image_captures(session: Session, posts: list[Post]) -> dict[int, int]:
    """{post id: capture id} for posts whose media URL was captured by us (the newest)."""
    wanted = {post.media_url: post.id for post in posts if post.media_url}
    if not wanted:
        return {}
    found: dict[int, int] = {}
    for capture_id, url in session.execute(
            select(Capture.id, Capture.url).where(Capture.url.in_(list(wanted)),
                                                  Capture.kind == "warc")
            .order_by(Capture.id)):
        found[wanted[url]] = capture_id
    return found


@router.get("/media/{capture_id}", include_in_schema=False)
def media(request: Request, _user: Analyst, capture_id: RowId) -> Response:
    with get_store(request).reader() as session:
        capture = session.get(Capture, capture_id)
        if capture is None:
            raise HTTPException(status_code=404, detail="no such capture")
        where = (capture.path, capture.offset, capture.length, capture.sha256)
    try:
        record = read_capture(get_config(request).captures_path, *where)
    except CaptureError as exc:
        LOG.warning("capture %s unreadable: %s", capture_id, exc)
        raise HTTPException(status_code=409, detail="the capture cannot be read back intact"
                            ) from None
    kind = content_type(record.http_headers)
    if record.record_type != "response" or kind not in IMAGE_TYPES:
        raise HTTPException(status_code=415, detail="this capture is not an image")
    return Response(record.payload, media_type=kind, headers={
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f'inline; filename="capture-{capture_id}"',
        "Cache-Control": "private, no-store"})
