"""Retention: raw captures of posts that never scored are dropped after
`retention.unscored_captures_after`; evidence and anything under review is never dropped.

A capture older than the cutoff is dropped only when every post it showed (as the post's
capture, an earlier capture, or an earlier text's) is unprotected. A post is protected when
- its verdict has a category other than none;
- a candidate that is not dismissed names it (or its near-duplicate cluster), its source, or
  an entity it carries;
- an event names it: any event on the post but an edit, or a candidate's event listing it
  among its posts (decisions and evidence);
and a capture an event names (`capture_id`, e.g. a quarantined page) is kept. A capture no post
points at is kept too: it is not ours to judge here.

Dropping: the capture rows go (`post.capture_id` is set NULL and `post_capture` links cascade),
and their WARC file is compacted: the records still referenced are copied, checked against
their SHA-256, to a new file (`NAME.compact-TOKEN.warc.gz`, synced), and in one transaction the
dropped rows are deleted, the kept rows repointed and an event `retention.dropped` records the
file, the captures and the posts; then the old file is removed. A crash leaves either an
unreferenced new file (removed on the next run) or an old file the event names (removed on the
next run): nothing referenced is ever lost. Only files untouched since the cutoff are compacted
(no crawl still writes to them).
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from crawler.store.captures import CaptureError, read_record_bytes, safe_capture_path
from crawler.store.db import Store
from crawler.store.ingest import QUARANTINE, add_event
from crawler.durable import fsync_dir
from crawler.store.models import (Candidate, Capture, Event, Post, PostCapture, PostEntity,
                                  PostRevision, Verdict)

log = logging.getLogger(__name__)

ACTOR = "component:retention"
DROPPED = "retention.dropped"
COMPACT_NAME = re.compile(r"\.compact-[0-9a-f]+(?=\.warc\.gz$)")
BATCH = 500


@dataclass
class RetentionReport:
    cutoff: str
    dry_run: bool
    captures_dropped: int = 0
    posts_touched: int = 0
    files_compacted: int = 0
    files_removed: int = 0
    bytes_freed: int = 0
    leftovers_removed: int = 0
    files_skipped: list[str] = field(default_factory=list)  # "path: why"
    _posts: set[int] = field(default_factory=set, repr=False)

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if not k.startswith("_")}


def _referencing_posts(session: Session, capture_ids: list[int]) -> dict[int, set[int]]:
    """capture id -> ids of the posts it showed."""
    posts: dict[int, set[int]] = defaultdict(set)
    for query in (select(Post.capture_id, Post.id).where(Post.capture_id.in_(capture_ids)),
                  select(PostCapture.capture_id, PostCapture.post_id)
                  .where(PostCapture.capture_id.in_(capture_ids)),
                  select(PostRevision.capture_id, PostRevision.post_id)
                  .where(PostRevision.capture_id.in_(capture_ids))):
        for capture_id, post_id in session.execute(query):
            posts[capture_id].add(post_id)
    return posts


def _protected_by_events(session: Session) -> tuple[set[int], set[int]]:
    """(post ids, capture ids) that events name: never dropped."""
    posts: set[int] = set()
    captures: set[int] = set()
    for subject_type, subject_id, action, payload in session.execute(
            select(Event.subject_type, Event.subject_id, Event.action, Event.payload).where(
                Event.subject_type.in_(["candidate", "post"]) | (Event.action == QUARANTINE))):
        payload = payload if isinstance(payload, dict) else {}
        if subject_type == "post" and action != "post.edited" and subject_id is not None:
            posts.add(subject_id)
        for key in ("posts", "post_ids"):
            posts.update(i for i in payload.get(key) or [] if isinstance(i, int))
        for key, into in (("post_id", posts), ("capture_id", captures)):
            if isinstance(payload.get(key), int):
                into.add(payload[key])
    return posts, captures


def _protected_posts(session: Session, post_ids: set[int]) -> set[int]:
    """Those of `post_ids` that are evidence or under review."""
    ids = list(post_ids)
    protected: set[int] = set()
    live = Candidate.status != "dismissed"
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        protected.update(session.scalars(select(Verdict.subject_id).where(
            Verdict.subject_type == "post", Verdict.subject_id.in_(chunk),
            Verdict.category != "none")))
        rows = session.execute(select(Post.id, Post.source_id, Post.cluster_id)
                               .where(Post.id.in_(chunk))).all()
        post_subjects = {pid for pid, _, _ in rows} | {c for _, _, c in rows if c}
        flagged_posts = set(session.scalars(select(Candidate.subject_id).where(
            live, Candidate.subject_type == "post", Candidate.subject_id.in_(post_subjects))))
        flagged_sources = set(session.scalars(select(Candidate.subject_id).where(
            live, Candidate.subject_type == "source",
            Candidate.subject_id.in_({s for _, s, _ in rows}))))
        for pid, source_id, cluster in rows:
            if pid in flagged_posts or cluster in flagged_posts or source_id in flagged_sources:
                protected.add(pid)
        protected.update(session.scalars(
            select(PostEntity.post_id).join(Candidate, (Candidate.subject_type == "entity")
                                            & (Candidate.subject_id == PostEntity.entity_id))
            .where(live, PostEntity.post_id.in_(chunk))))
    return protected


def droppable(session: Session, cutoff: datetime) -> tuple[dict[int, Capture], set[int]]:
    """Captures older than `cutoff` that only unprotected posts point at, and those posts."""
    event_posts, event_captures = _protected_by_events(session)
    chosen: dict[int, Capture] = {}
    touched: set[int] = set()
    last = 0
    while True:
        batch = session.scalars(select(Capture).where(Capture.fetched_at < cutoff,
                                                      Capture.id > last)
                                .order_by(Capture.id).limit(BATCH)).all()
        if not batch:
            return chosen, touched
        last = batch[-1].id
        posts = _referencing_posts(session, [c.id for c in batch])
        everyone = set().union(*posts.values()) if posts else set()
        protected = _protected_posts(session, everyone) | event_posts
        for capture in batch:
            shown = posts.get(capture.id)
            if shown and not shown & protected and capture.id not in event_captures:
                chosen[capture.id] = capture
                touched |= shown


def _compact_name(relpath: str) -> str:
    base = COMPACT_NAME.sub("", relpath)
    stem = base[:-len(".warc.gz")] if base.endswith(".warc.gz") else base
    return f"{stem}.compact-{secrets.token_hex(4)}.warc.gz"


def _clean_leftovers(store: Store, root: Path) -> int:
    """Remove what a crashed run left: compacted files no row points at, and old files an
    event says were dropped that are still there."""
    removed = 0
    with store.session() as session:
        referenced = set(session.scalars(select(Capture.path).distinct()))
        olds = {e.payload.get("file") for e in session.scalars(
            select(Event).where(Event.action == DROPPED)) if isinstance(e.payload, dict)}
    candidates = {str(p.relative_to(root)) for p in root.rglob("*.compact-*.warc.gz")}
    candidates |= {p for p in olds if isinstance(p, str)}
    for relpath in sorted(candidates - referenced):
        try:
            path = safe_capture_path(root, relpath)
        except CaptureError:
            continue
        if path.is_file():
            path.unlink()
            removed += 1
            log.info("retention: removed %s, left by an interrupted run", relpath)
    return removed


def _compact_file(store: Store, root: Path, relpath: str, dropped: dict[int, Capture],
                  posts_of: dict[int, set[int]], cutoff: datetime, report: RetentionReport
                  ) -> None:
    path = safe_capture_path(root, relpath)
    if path.exists() and datetime.fromtimestamp(path.stat().st_mtime, timezone.utc) >= cutoff:
        report.files_skipped.append(f"{relpath}: written to since the cutoff")
        return
    drop_ids = sorted(dropped)
    with store.session() as session:
        kept = session.scalars(select(Capture).where(Capture.path == relpath,
                                                     Capture.id.not_in(drop_ids))
                               .order_by(Capture.offset)).all()
    new_relpath, moves = None, []
    if kept and path.exists():
        new_relpath = _compact_name(relpath)
        new_path = safe_capture_path(root, new_relpath)
        try:
            with open(new_path, "xb") as out:
                for capture in kept:
                    data = read_record_bytes(root, relpath, capture.offset, capture.length,
                                             capture.sha256)
                    moves.append((capture.id, out.tell()))
                    out.write(data)
                out.flush()
                os.fsync(out.fileno())
            fsync_dir(new_path.parent)
        except CaptureError as exc:
            new_path.unlink(missing_ok=True)
            report.files_skipped.append(f"{relpath}: a record to keep is damaged ({exc})")
            return
    size = path.stat().st_size if path.exists() else 0
    touched = sorted(set().union(*(posts_of[i] for i in drop_ids)))
    with store.session() as session:
        # Looked at again in the transaction that drops: a crawl may have flagged a post since.
        now_posts = _referencing_posts(session, drop_ids)
        event_posts, event_captures = _protected_by_events(session)
        everyone = set().union(*now_posts.values()) if now_posts else set()
        if (_protected_posts(session, everyone) | event_posts) & everyone or \
                event_captures & set(drop_ids):
            report.files_skipped.append(f"{relpath}: a post became evidence meanwhile")
            session.rollback()
            if new_relpath:
                safe_capture_path(root, new_relpath).unlink(missing_ok=True)
            return
        session.execute(delete(Capture).where(Capture.id.in_(drop_ids)))
        for capture_id, offset in moves:
            session.execute(update(Capture).where(Capture.id == capture_id)
                            .values(path=new_relpath, offset=offset))
        add_event(session, ACTOR, DROPPED, "store", None, file=relpath, new_file=new_relpath,
                  captures=drop_ids, posts=touched[:1000], posts_count=len(touched),
                  kept=len(moves))
    new_size = safe_capture_path(root, new_relpath).stat().st_size if new_relpath else 0
    if path.exists():
        path.unlink()
        fsync_dir(path.parent)
    report.captures_dropped += len(drop_ids)
    report._posts.update(touched)
    report.posts_touched = len(report._posts)
    report.bytes_freed += max(0, size - new_size)
    if new_relpath:
        report.files_compacted += 1
    else:
        report.files_removed += 1


def run_retention(store: Store, captures_root: Path, older_than: int,
                  now: datetime | None = None, dry_run: bool = False) -> RetentionReport:
    """Drop unscored captures older than `older_than` seconds; see the module's docstring."""
    now = now or datetime.now(timezone.utc)
    cutoff = now - timedelta(seconds=older_than)
    root = Path(captures_root)
    report = RetentionReport(cutoff=cutoff.isoformat(timespec="seconds"), dry_run=dry_run)
    if not dry_run and root.is_dir():
        report.leftovers_removed = _clean_leftovers(store, root)
    with store.session() as session:
        chosen, touched = droppable(session, cutoff)
        posts_of = _referencing_posts(session, list(chosen)) if chosen else {}
    by_file: dict[str, dict[int, Capture]] = defaultdict(dict)
    for capture in chosen.values():
        by_file[capture.path][capture.id] = capture
    if dry_run:
        report.captures_dropped, report.posts_touched = len(chosen), len(touched)
        report.files_compacted = len(by_file)
        return report
    for relpath in sorted(by_file):
        try:
            _compact_file(store, root, relpath, by_file[relpath], posts_of, cutoff, report)
        except CaptureError as exc:  # a path outside the capture directory: leave it
            report.files_skipped.append(f"{relpath}: {exc}")
    for skipped in report.files_skipped:
        log.warning("retention: skipped %s", skipped)
    return report
