"""The raw capture behind a post, one click from the candidate page, never live.

`/captures/{id}` reads the stored WARC record back (its SHA-256 verified, as /media does) and
shows its URL, status and headers, and the payload as escaped text (the source view): the body
without its Content-Encoding, in the charset its headers or markup declare (w3lib, as Scrapy
reads it), control and bidi characters removed and links defanged; a JSON (MTProto) capture
pretty-printed. An HTML capture is also shown rendered, in an `<iframe sandbox>` whose document,
`/captures/{id}/rendered`, is served with `Content-Security-Policy: sandbox; default-src 'none';
img-src 'self' data:; style-src 'unsafe-inline'`: no script runs, nothing is fetched from
anywhere but this server, and only this app may frame it.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import Response
from w3lib.encoding import html_to_unicode

from crawler.content_coding import decode_body
from crawler.defang import one_line, safe
from crawler.store.captures import CapturedRecord, CaptureError, read_capture
from crawler.store.models import Capture, User
from review.routes.media import IMAGE_TYPES, content_type
from review.web import get_config, get_store, render, require_role

router = APIRouter()
LOG = logging.getLogger("kyran.review")
Analyst = Annotated[User, Depends(require_role("analyst"))]
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
HTML_TYPES = {"text/html", "application/xhtml+xml"}
MAX_SOURCE = 2_000_000  # characters of a payload shown as text; the rest is cut with a note
RENDERED_CSP = ("sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; "
                "form-action 'none'; base-uri 'none'; frame-ancestors 'self'")
CHARSET = re.compile(r"[A-Za-z0-9._:-]{1,40}")


def _load(request: Request, capture_id: int) -> tuple[Capture, CapturedRecord]:
    """The capture's row and its record read back intact: 404 or 409 otherwise."""
    with get_store(request).reader() as session:
        capture = session.get(Capture, capture_id)
        if capture is None:
            raise HTTPException(status_code=404, detail="no such capture")
        session.expunge(capture)
    try:
        record = read_capture(get_config(request).captures_path, capture.path, capture.offset,
                              capture.length, capture.sha256)
    except CaptureError as exc:
        LOG.warning("capture %s unreadable: %s", capture_id, exc)
        raise HTTPException(status_code=409, detail="the capture cannot be read back intact; "
                            "its file is missing or was altered") from None
    return capture, record


def _header(record: CapturedRecord, name: str) -> str | None:
    for key, value in record.http_headers:
        if key.lower() == name:
            return value
    return None


def body_text(record: CapturedRecord, kind: str) -> tuple[str, str]:
    """(text, charset): the payload decoded for reading; JSON pretty-printed."""
    body = decode_body(record.payload, _header(record, "content-encoding"))
    if kind == "mtproto-json" or content_type(record.http_headers) == "application/json":
        try:
            document = json.loads(body)
        except ValueError:
            pass
        else:
            return json.dumps(document, indent=1, ensure_ascii=False, sort_keys=True), "utf-8"
    charset, text = html_to_unicode(_header(record, "content-type"), body)
    return text, charset


@router.get("/captures/{capture_id}", include_in_schema=False)
def capture_page(request: Request, _user: Analyst, capture_id: RowId):
    capture, record = _load(request, capture_id)
    kind = content_type(record.http_headers)
    text, charset = body_text(record, capture.kind)
    cut = len(text) > MAX_SOURCE
    return render(
        request, "capture.html", capture=capture, url=one_line(record.url),
        record_type=record.record_type, status=record.status,
        headers=[(one_line(k), one_line(v)) for k, v in record.http_headers],
        warc_headers=[(one_line(k), one_line(v)) for k, v in record.warc_headers],
        content_type=one_line(kind), charset=one_line(charset), size=len(record.payload),
        source=safe(text[:MAX_SOURCE]), cut=cut, rendered=kind in HTML_TYPES,
        image=kind in IMAGE_TYPES and record.record_type == "response")


@router.get("/captures/{capture_id}/rendered", include_in_schema=False)
def capture_rendered(request: Request, _user: Analyst, capture_id: RowId) -> Response:
    """The captured HTML as a document that can run nothing and fetch nothing foreign."""
    _capture, record = _load(request, capture_id)
    if content_type(record.http_headers) not in HTML_TYPES:
        raise HTTPException(status_code=415, detail="this capture is not an HTML page")
    body = decode_body(record.payload, _header(record, "content-encoding"))
    charset, _text = html_to_unicode(_header(record, "content-type"), body[:4096])
    media_type = "text/html"
    if CHARSET.fullmatch(charset or ""):
        media_type += f"; charset={charset}"
    return Response(body, headers={
        "Content-Type": media_type,
        "Content-Security-Policy": RENDERED_CSP,
        "X-Frame-Options": "SAMEORIGIN",
        "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Content-Disposition": f'inline; filename="capture-{capture_id}.html"',
        "Cache-Control": "private, no-store"})
