"""The captures behind a post, newest first, each checked against the SHA-256 indexed when it was
written: a post whose newest record was damaged still reaches an older one that verifies, and a
reader is told which records are damaged.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from crawler.store.captures import CaptureError, read_record_bytes
from crawler.store.models import Capture, Post, PostCapture


@dataclass(slots=True)
class CheckedCapture:
    capture: Capture
    error: str | None  # None: the record is there and matches its hash

    @property
    def verified(self) -> bool:
        return self.error is None


def captures_of(session: Session, post: Post) -> list[Capture]:
    """Every capture that showed the post, newest first."""
    linked = select(PostCapture.capture_id).where(PostCapture.post_id == post.id)
    return list(session.scalars(
        select(Capture).where(or_(Capture.id.in_(linked), Capture.id == post.capture_id))
        .order_by(Capture.fetched_at.desc(), Capture.id.desc())))


def check_captures(root: Path, captures: list[Capture]) -> list[CheckedCapture]:
    """Each capture with the reason it cannot be trusted (missing, altered, cut), if any."""
    checked = []
    for capture in captures:
        try:
            read_record_bytes(root, capture.path, capture.offset, capture.length, capture.sha256)
            checked.append(CheckedCapture(capture, None))
        except CaptureError as exc:
            checked.append(CheckedCapture(capture, str(exc)))
    return checked


def newest_verified(checked: list[CheckedCapture]) -> CheckedCapture | None:
    return next((c for c in checked if c.verified), None)
