"""Dashboard figures on a big store: 1M posts, 100k candidates, ~330k events.

    python bench/bench_stats.py sqlite:///var/bench-stats.sqlite
    python bench/bench_stats.py "postgresql+psycopg://127.0.0.1:5432/test?options=-csearch_path%3Dbench_stats"

Fills the store once (a marker table row says it is filled; skipped afterwards), then times each
figure of `review.stats.dashboard` over the default 30 days, best and median of five runs, beside
the time of `SELECT 1` (the baseline: one round trip).
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, insert, select, text

from crawler.store.db import open_store
from crawler.store.models import Candidate, Entity, Event, Post, PostEntity, Source, User, Verdict
from review import stats

POSTS, CANDIDATES, SOURCES, ENTITIES, USERS = 1_000_000, 100_000, 5_000, 50_000, 20
NOW = datetime.now(timezone.utc).replace(microsecond=0)
RULES = [f"sale.rule_{n}" for n in range(30)] + [f"recruit.rule_{n}" for n in range(10)] + [
    "context.news", "context.prevention"]
CHUNK = 20_000


def chunks(rows):
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def fill(store) -> None:
    rng = random.Random(9)
    with store.session() as session:
        if session.scalar(select(func.count()).select_from(Candidate)):
            return
    started = time.monotonic()
    with store.session() as s:
        s.execute(insert(User), [{"id": n + 1, "username": f"analyst{n}", "password_hash": "x",
                                  "display_name": f"Fox {n}"} for n in range(USERS)])
        s.execute(insert(Source), [{"id": n + 1, "platform": "telegram", "handle": f"ch{n}",
                                    "external_id": str(n)} for n in range(SOURCES)])
        s.execute(insert(Entity), [{"id": n + 1, "kind": "telegram_bot", "value": f"bot{n}"}
                                   for n in range(ENTITIES)])
    flagged = set()

    def posts():
        for n in range(1, POSTS + 1):
            seen = NOW - timedelta(seconds=rng.randrange(90 * 86400))
            if rng.random() < 0.1:
                flagged.add(n)
            yield {"id": n, "source_id": rng.randrange(SOURCES) + 1, "external_id": str(n),
                   "url": f"https://t.me/x/{n}", "content_hash": "0" * 64, "text": "t" * 80,
                   "first_seen": seen, "last_seen": seen, "posted_at": seen}

    for batch in chunks(posts()):
        with store.session() as s:
            s.execute(insert(Post), batch)
    for batch in chunks({"subject_type": "post", "subject_id": n,
                         "category": ("sale" if n % 3 else "recruitment") if n in flagged
                         else "none", "score": 0.5, "model_version": "b", "hits": []}
                        for n in range(1, POSTS + 1)):
        with store.session() as s:
            s.execute(insert(Verdict), batch)
    links = {(n, rng.randrange(ENTITIES) + 1) for n in range(1, POSTS + 1)
             if n in flagged or rng.random() < 0.2}
    links |= {(n, rng.randrange(2000) + 1) for n in flagged}  # popular shops
    for batch in chunks({"post_id": p, "entity_id": e} for p, e in links):
        with store.session() as s:
            s.execute(insert(PostEntity), batch)
    candidates, events = [], []
    for n in range(1, CANDIDATES + 1):
        created = NOW - timedelta(seconds=rng.randrange(90 * 86400))
        roll = rng.random()
        status = ("confirmed" if roll < 0.35 else "dismissed" if roll < 0.6 else
                  "escalated" if roll < 0.63 else "in_review" if roll < 0.65 else "open")
        decided = None
        if status in ("confirmed", "dismissed"):
            decided = min(NOW, created + timedelta(seconds=rng.lognormvariate(9, 1.5)))
        who = rng.randrange(USERS) + 1
        candidates.append({
            "id": n, "subject_type": "post", "subject_id": n, "category": "sale",
            "status": status, "priority": rng.randrange(100), "score": rng.random(),
            "reasons": [{"rule": r, "contribution": 1.0, "words": ["w"]}
                        for r in rng.sample(RULES, 3)],
            "created_at": created, "updated_at": created, "decided_at": decided,
            "decided_by": who if decided else None})
        events.append({"actor": "component:queue", "action": "candidate.opened",
                       "subject_type": "candidate", "subject_id": n, "at": created,
                       "payload": {"score": 0.5, "reasons": [], "posts": [n]}})
        events.append({"actor": "component:queue", "action": "candidate.evidence",
                       "subject_type": "candidate", "subject_id": n, "at": created,
                       "payload": {"score": 0.5, "posts": [n]}})
        if decided:
            events.append({"actor": f"user:analyst{who - 1}",
                           "action": "decision.confirm" if status == "confirmed"
                           else "decision.dismiss", "subject_type": "candidate",
                           "subject_id": n, "at": decided, "payload": {"previous_status": "open"}})
        if roll > 0.99:
            events.append({"actor": f"user:analyst{who - 1}", "action": "decision.note",
                           "subject_type": "candidate", "subject_id": n, "at": created,
                           "payload": {"note": "n"}})
    for batch in chunks(candidates):
        with store.session() as s:
            s.execute(insert(Candidate), batch)
    events.sort(key=lambda e: e["at"])
    for batch in chunks(events):
        with store.session() as s:
            s.execute(insert(Event), batch)
    with store.engine.begin() as conn:
        if store.dialect == "postgresql":
            conn.execute(text("ANALYZE"))
        else:
            conn.execute(text("ANALYZE"))
    print(f"filled in {time.monotonic() - started:.0f} s: {POSTS} posts, {CANDIDATES} "
          f"candidates, {len(links)} post-entity links, {len(events)} events")


def timed(store, work, runs: int = 5) -> tuple[float, float]:
    took = []
    for _ in range(runs):
        with store.reader() as session:
            started = time.perf_counter()
            work(session)
            took.append((time.perf_counter() - started) * 1000)
    return min(took), statistics.median(took)


def main(url: str) -> None:
    store = open_store(url)
    fill(store)
    period = stats.Period.last()
    figures = {
        "baseline SELECT 1": lambda s: s.execute(text("SELECT 1")).scalar(),
        "per_day": lambda s: stats.per_day(s, period),
        "precision_by_category": lambda s: stats.precision_by_category(s, period),
        "precision_by_rule": lambda s: stats.precision_by_rule(s, period),
        "decision_times": lambda s: stats.decision_times(s, period),
        "throughput": lambda s: stats.throughput(s, period),
        "top_entities": lambda s: stats.top_entities(s, period),
        "queue_age": lambda s: stats.queue_age(s),
        "dashboard (all)": lambda s: stats.dashboard(s, period),
    }
    print(f"{store.dialect}: ms, best / median of 5")
    for name, work in figures.items():
        best, median = timed(store, work)
        print(f"  {name:24} {best:8.1f} {median:8.1f}")
    store.dispose()


if __name__ == "__main__":
    main(sys.argv[1])
