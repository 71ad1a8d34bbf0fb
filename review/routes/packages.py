"""The evidence packages this organisation exported and imported (leads and admins): the
Packages page (`/packages`), the download of an exported package kept under `[evidence]
out_dir`, and `GET /api/packages`.

A download's path is made from the package id alone (a UUID, checked), never from a name in the
store or the request; a package exported elsewhere (`kyran export --out`) or removed since is
listed without a download. Imported packages are listed with their sending organisation.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from crawler.store.models import User
from crawler.store.models_ops import EvidencePackage
from evidence import names
from review.routes.api import ERRORS
from review.web import get_config, get_store, render, require_role

router = APIRouter()
Lead = Annotated[User, Depends(require_role("lead"))]
PAGE_SIZE = 50


def package_path(config, package_id: str) -> Path | None:
    """Where the exported package `package_id` is kept, if it is a UUID and the file is there."""
    try:
        name = names.package_file_name(package_id)
    except names.BadName:
        return None
    path = config.resolve(config.evidence.out_dir) / name
    return path if path.is_file() else None


class PackageOut(BaseModel):
    package_id: str
    direction: str = Field(description="Exported (out) or imported (in).")
    recipient: str | None = Field(description="The recipient profile of an exported package.")
    organisation: str | None = Field(description="The sending organisation of an imported one.")
    created_at: datetime
    created_by: str | None
    subjects: int
    posts: int
    sha256: str | None
    size: int | None
    key_fingerprint: str | None
    download_url: str | None = Field(description="Exported packages kept here: GET the ZIP.")


class PackagesPageOut(BaseModel):
    rows: list[PackageOut]
    total: int
    page: int
    page_size: int


def packages_page(session, config, direction: str | None, page: int,
                  page_size: int) -> tuple[list[PackageOut], int]:
    """A page of packages, newest first, and how many there are."""
    where = [EvidencePackage.direction == direction] if direction else []
    total = session.scalar(select(func.count()).select_from(EvidencePackage).where(*where))
    found = session.scalars(select(EvidencePackage).where(*where).order_by(
        EvidencePackage.created_at.desc(), EvidencePackage.id.desc())
        .offset((page - 1) * page_size).limit(page_size))
    rows = []
    for p in found:
        kept = p.direction == "out" and package_path(config, p.package_id) is not None
        rows.append(PackageOut(
            package_id=p.package_id, direction=p.direction, recipient=p.recipient,
            organisation=p.organisation, created_at=p.created_at, created_by=p.created_by,
            subjects=p.subjects, posts=p.posts, sha256=p.sha256, size=p.size,
            key_fingerprint=p.key_fingerprint,
            download_url=f"/packages/{p.package_id}/download" if kept else None))
    return rows, total


@router.get("/packages", response_class=HTMLResponse)
def packages(request: Request, _user: Lead,
             page: Annotated[int, Query(ge=1, le=1_000_000)] = 1):
    """Exported and imported packages, newest first, with a link to the takedown figures."""
    with get_store(request).reader() as session:
        rows, total = packages_page(session, get_config(request), None, page, PAGE_SIZE)
    return render(request, "packages.html", rows=rows, total=total, page=page,
                  pages=max(1, -(-total // PAGE_SIZE)))


@router.get("/packages/{package_id}/download", include_in_schema=False)
def download(request: Request, package_id: str, _user: Lead):
    """The exported package's ZIP, as an attachment named from its id."""
    with get_store(request).reader() as session:
        known = session.scalar(select(EvidencePackage.id).where(
            EvidencePackage.package_id == package_id[:64], EvidencePackage.direction == "out"))
    path = package_path(get_config(request), package_id) if known else None
    if path is None:
        raise HTTPException(status_code=404, detail="no exported package with this id is kept "
                            "here (exported elsewhere with --out, or removed)")
    return FileResponse(path, media_type="application/zip", filename=path.name,
                        content_disposition_type="attachment")


@router.get("/api/packages", response_model=PackagesPageOut, tags=["api"], responses=ERRORS,
            summary="Exported and imported evidence packages (lead)")
def api_packages(request: Request, _user: Lead,
                 direction: Literal["out", "in"] | None = None,
                 page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
                 page_size: Annotated[int, Query(ge=1, le=500)] = PAGE_SIZE) -> PackagesPageOut:
    """Newest first; `direction` out (exported) or in (imported)."""
    with get_store(request).reader() as session:
        rows, total = packages_page(session, get_config(request), direction, page, page_size)
    return PackagesPageOut(rows=rows, total=total, page=page, page_size=page_size)
