"""`/healthz`: is the app up and can it reach its store (JSON; 503 when the store fails). Open
to anyone: it says nothing but that."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from review.web import get_store

router = APIRouter()


@router.get("/healthz", include_in_schema=False)
def healthz(request: Request) -> JSONResponse:
    try:
        with get_store(request).reader() as session:
            session.execute(text("SELECT 1"))
    except Exception as exc:  # any failure of the store is "not healthy", said in one line
        return JSONResponse({"status": "failing", "store": type(exc).__name__},
                            status_code=503)
    return JSONResponse({"status": "ok", "store": "ok"})
