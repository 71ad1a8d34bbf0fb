"""Rows for the observability tests (metrics, status, alerts, retention): sources, posts with
real captures, verdicts, candidates, job runs and account states written straight to a store."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from crawler.store.ingest import record_capture
from crawler.store.models import Candidate, Post, PostCapture, Source, Verdict
from crawler.store.models_ops import JobRun, TelegramAccountState, TelegramPeer

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


def add_source(session, handle: str, platform: str = "telegram", kind: str = "channel",
               external_id: str | None = None, **fields) -> Source:
    source = Source(platform=platform, kind=kind, handle=handle,
                    external_id=external_id or handle, **fields)
    session.add(source)
    session.flush()
    return source


def add_post(session, source: Source, external_id: str, text: str = "text",
             capture_ref=None) -> Post:
    capture = record_capture(session, capture_ref)
    post = Post(source_id=source.id, external_id=external_id, url=f"https://t.me/"
                f"{source.handle}/{external_id}", text=text, content_hash=external_id,
                capture_id=capture.id if capture else None)
    session.add(post)
    session.flush()
    if capture is not None:
        session.add(PostCapture(post_id=post.id, capture_id=capture.id))
        session.flush()
    return post


def add_verdict(session, post: Post, category: str = "sale", score: float = 0.9) -> Verdict:
    verdict = Verdict(subject_type="post", subject_id=post.id, category=category, score=score,
                      model_version="rules-1")
    session.add(verdict)
    session.flush()
    return verdict


def add_candidate(session, subject_type: str, subject_id: int, category: str = "sale",
                  priority: int = 90, status: str = "open", reasons=None) -> Candidate:
    candidate = Candidate(subject_type=subject_type, subject_id=subject_id, category=category,
                          priority=priority, status=status, score=0.9,
                          reasons=reasons if reasons is not None else
                          [{"rule": "substance+delivery", "contribution": 0.8,
                            "words": ["закладки"]}])
    session.add(candidate)
    session.flush()
    return candidate


def add_run(session, job: str, status: str, started: datetime, seconds: int = 10,
            summary: str | None = None) -> JobRun:
    run = JobRun(job_id=job, status=status, started_at=started,
                 finished_at=None if status == "running" else started + timedelta(
                     seconds=seconds), summary=summary)
    session.add(run)
    session.flush()
    return run


def add_account(session, name: str, **fields) -> TelegramAccountState:
    account = TelegramAccountState(name=name, **fields)
    session.add(account)
    session.flush()
    return account


def add_peer(session, source: Source, account: str, joined: bool = False,
             last_polled: datetime | None = None, resolved_at: datetime = NOW) -> TelegramPeer:
    peer = TelegramPeer(source_id=source.id, account=account, access_hash=1234567890123,
                        joined=joined, last_polled=last_polled, resolved_at=resolved_at)
    session.add(peer)
    session.flush()
    return peer
