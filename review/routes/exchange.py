"""`POST /api/packages`: a partner's Kyran pushes an evidence package here (`kyran push`).

Only an API token of a lead or admin may push (no session: a browser has no business here).
The upload is a form with the sender's organisation id (`organisation`) and the ZIP
(`package`); the body is counted as it streams in and refused past `[evidence] max_upload_mb`,
the file spooled to a temporary directory removed afterwards. The organisation must have a
trusted key here; the package is then imported as `kyran import` does (evidence/importer.py):
verified against that key, refused whole with nothing written when anything fails.

Answers: 200 with what was imported (or that it was imported before), 400 a malformed form,
401 no token, 403 a session or an untrusted organisation, 413 too large, 422 the package was
refused (`problems`: one line each).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from crawler.store.models import User
from review.api.models import ErrorOut
from evidence.importer import ImportRefused, import_package
from evidence.keys import KeyProblem, TrustedKeys, check_org_id
from review.web import bearer_token, get_config, get_store, require_role

router = APIRouter(prefix="/api", tags=["api"])
Lead = Annotated[User, Depends(require_role("lead"))]
FORM_OVERHEAD = 64 * 1024  # the multipart framing and the organisation field


class ImportOut(BaseModel):
    """What a pushed package brought in (`already_imported`: nothing changed)."""

    package_id: str
    organisation: str
    already_imported: bool
    candidates: int
    candidates_known: int
    sources: int
    posts: int
    posts_known: int
    captures: int
    captures_known: int
    indicators: int
    candidate_ids: list[int]
    summary: str


class RefusedOut(ErrorOut):
    """A refused package: the first problem in `error`, all of them in `problems`."""

    problems: list[str] = []


UPLOAD = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["organisation", "package"],
    "properties": {"organisation": {"type": "string", "maxLength": 64,
                                    "description": "The sender's organisation id"},
                   "package": {"type": "string", "format": "binary",
                               "description": "The package ZIP"}}}}}}}
ANSWERS = {200: {"model": ImportOut, "description": "Imported, or imported before"},
           **{status: {"model": ErrorOut, "description": text} for status, text in (
               (400, "Not a form with organisation and package"), (401, "No or a bad token"),
               (403, "A session, a role below lead, an untrusted organisation"),
               (413, "Larger than [evidence] max_upload_mb"))},
           422: {"model": RefusedOut, "description": "The package was refused"}}


class TooLarge(Exception):
    pass


def _capped(request: Request, cap: int) -> Request:
    """The same request whose body raises TooLarge once more than `cap` bytes came in."""
    received = 0

    async def receive():
        nonlocal received
        message = await request.receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > cap:
                raise TooLarge()
        return message

    return Request(request.scope, receive)


def _refuse(status: int, message: str, problems: list[str] | None = None) -> JSONResponse:
    body = {"error": message}
    if problems is not None:
        body["problems"] = problems
    return JSONResponse(body, status_code=status)


@router.post("/packages", summary="Receive a partner's evidence package", responses=ANSWERS,
             openapi_extra=UPLOAD)
async def receive_package(request: Request, user: Lead) -> JSONResponse:
    """A partner's Kyran pushes a signed package (`kyran push`): verified against the key
    trusted for the sending organisation, refused whole if anything fails, otherwise imported
    as origin-marked candidates without duplicates. Lead or admin API token only."""
    if bearer_token(request) is None:
        raise HTTPException(status_code=403, detail="pushing a package needs an API token")
    config = get_config(request)
    cap = config.evidence.max_upload_mb << 20
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > cap + FORM_OVERHEAD:
        return _refuse(413, f"the package is larger than {config.evidence.max_upload_mb} MiB")
    with tempfile.TemporaryDirectory(prefix="kyran-push-") as tmp:
        try:
            form = await _capped(request, cap + FORM_OVERHEAD).form(max_files=1, max_fields=4)
        except TooLarge:
            return _refuse(413, f"the package is larger than {config.evidence.max_upload_mb} "
                           "MiB")
        except Exception as exc:  # a malformed multipart body: one line, 400
            return _refuse(400, f"not a form upload ({type(exc).__name__})")
        try:
            organisation, upload = form.get("organisation"), form.get("package")
            if not isinstance(organisation, str) or not isinstance(upload, UploadFile):
                return _refuse(400, "expected the form fields organisation and package (a file)")
            try:
                check_org_id(organisation)
            except KeyProblem as exc:
                return _refuse(400, str(exc)[:300])
            trusted = TrustedKeys(config.resolve(config.evidence.trusted_keys_dir))
            if not trusted.path(organisation).is_file():
                return _refuse(403, f"organisation {organisation!r} has no trusted key here "
                               f"(kyran keys trust {organisation} KEYFILE)")
            path = Path(tmp) / "package.zip"
            with open(path, "xb") as out:
                await run_in_threadpool(shutil.copyfileobj, upload.file, out, 1 << 20)
        finally:
            await form.close()
        try:
            result = await run_in_threadpool(
                import_package, get_store(request), path, organisation, trusted,
                config.captures_path, actor=f"user:{user.username}",
                file_name=_file_name(upload.filename))
        except ImportRefused as exc:
            return _refuse(422, "package refused, nothing imported: " + exc.problems[0],
                           exc.problems)
    return JSONResponse(result.as_dict())


def _file_name(name: str | None) -> str:
    """The sender's file name as a record of what it was called, never used as a path."""
    cleaned = "".join(ch for ch in (name or "") if ch.isascii() and ch.isprintable())
    return Path(cleaned.replace("\\", "/")).name[:200] or "package.zip"
