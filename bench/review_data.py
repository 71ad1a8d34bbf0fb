"""A synthetic store for the review app's benchmark and browser tests: N posts in N/100 channels,
M candidates (posts, channels and entities) with verdicts whose rule hits and indicators carry
character spans into the post text, entities linked to posts, and one event per candidate.

Rows go in by batches straight through the driver: PostgreSQL's COPY, SQLite's executemany (the
ORM would take an hour for a million posts). Ids continue after what the store holds and
PostgreSQL's sequences are moved past them, so the app can go on inserting afterwards.
Deterministic for a seed.

    .venv/bin/python bench/review_data.py URL --posts 1000000 --candidates 100000
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select  # noqa: E402

from crawler.store.db import Store, open_store  # noqa: E402
from crawler.store.models import Base  # noqa: E402

BATCH = 20_000
CITIES = ("almaty", "astana", "shymkent", "karaganda", "aktobe", "pavlodar")
SUBSTANCES = ("мефедрон", "меф", "альфа-пвп", "гашиш", "шишки", "соль", "кристаллы")
DELIVERY = ("закладки", "клады", "доставка", "тайники")
JOBS = ("работа курьером", "нужны кладмены", "ищем курьеров", "высокий доход")
FILLER = ("новости города", "погода", "скидки", "открытие магазина", "пробки на дорогах",
          "концерт в парке", "продам диван", "куплю телефон")
STATUSES = ("open",) * 14 + ("in_review", "escalated", "confirmed", "dismissed", "dismissed")
EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)
# The learned model's reasons as the chain stores them (eight, the page's list), so the candidate
# page renders its "why the model decided" list under load too.
REASONS = json.dumps([{"feature": f, "weight": w} for f, w in (
    ("shop words", 2.74), ("drop words", 1.93), ("rule sale.drop", 1.51), ("contact words", 1.3),
    ("quantity words", 1.25), ("substance words", 1.2), ("n-gram «клад»", 0.98),
    ("bot link", 0.94))], ensure_ascii=False)


def _ad(rng: random.Random, number: int) -> tuple[str, list[dict], list[dict], str]:
    """A flagged post's text, its rule hits, indicators (spans into the text), and category."""
    parts: list[str] = []
    spans: dict[str, tuple[int, int, str]] = {}

    def put(piece: str, key: str | None = None) -> None:
        start = sum(len(p) for p in parts)
        parts.append(piece)
        if key:
            spans[key] = (start, start + len(piece), piece)

    recruit = rng.random() < 0.3
    if recruit:
        put("🔥 ")
        put(rng.choice(JOBS), "job")
        put(" в городе " + rng.choice(CITIES).title() + ", ")
        put(rng.choice(DELIVERY), "delivery")
        put(f", от {rng.randint(100, 900)} 000 тг в неделю. Пиши ")
    else:
        put("✅ ")
        put(rng.choice(SUBSTANCES), "substance")
        put(" высшего качества, ")
        put(rng.choice(DELIVERY), "delivery")
        put(f" по всему городу, цена {rng.randint(5, 60)} 000 тг. Заказ ")
    bot = f"@shop{number % 5000}_bot"
    put(bot, "bot")
    put(" оплата ")
    wallet = "T" + hashlib.sha256(str(number % 7000).encode()).hexdigest()[:33]
    put(wallet, "wallet")
    put(" " + rng.choice(FILLER))
    text = "".join(parts)

    def match(key: str, concept: str) -> dict:
        start, end, words = spans[key]
        return {"concept": concept, "term": words, "text": words, "span": [start, end],
                "weight": 1.0, "field": "text"}

    if recruit:
        hits = [{"rule": "recruitment.job_with_courier", "category": "recruitment",
                 "concepts": ["job_offer", "courier_role"], "contribution": 0.8,
                 "matches": [match("job", "job_offer"), match("delivery", "courier_role")]}]
    else:
        hits = [{"rule": "sale.substance_with_delivery", "category": "sale",
                 "concepts": ["substance", "delivery"], "contribution": 0.9,
                 "matches": [match("substance", "substance"), match("delivery", "delivery")]}]
    indicators = [{"kind": "telegram_bot", "value": bot.lower(), "span": list(spans["bot"][:2]),
                   "field": "text"},
                  {"kind": "tron", "value": wallet, "span": list(spans["wallet"][:2]),
                   "field": "text"}]
    return text, hits, indicators, "recruitment" if recruit else "sale"


def _next_ids(store: Store) -> dict[str, int]:
    tables = ("source", "post", "verdict", "entity", "candidate", "event")
    with store.session() as session:
        return {name: (session.scalar(select(func.max(Base.metadata.tables[name].c.id))) or 0) + 1
                for name in tables}


def _insert(conn, table: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> int:
    """Insert rows in batches through the driver; returns how many."""
    count = 0
    raw = conn.connection.dbapi_connection
    if conn.dialect.name == "postgresql":
        names = ", ".join(f'"{c}"' for c in columns)
        with raw.cursor() as cursor, cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    sql = (f'INSERT INTO "{table}" ({", ".join(columns)}) '
           f'VALUES ({", ".join("?" * len(columns))})')
    cursor = raw.cursor()
    batch: list[tuple] = []
    for row in rows:
        batch.append(tuple(_sqlite_value(v) for v in row))
        if len(batch) >= BATCH:
            cursor.executemany(sql, batch)
            count += len(batch)
            batch.clear()
    if batch:
        cursor.executemany(sql, batch)
        count += len(batch)
    return count


def _sqlite_value(value):
    if isinstance(value, datetime):  # as SQLAlchemy stores it: UTC, no zone, microseconds
        return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def generate(store: Store, posts: int, candidates: int, seed: int = 1,
             log=lambda line: None) -> dict[str, int]:
    """Add `posts` posts and `candidates` candidates to the store; counts of rows added."""
    rng = random.Random(seed)
    ids = _next_ids(store)
    n_sources = max(1, posts // 100)
    flagged_every = max(1, posts // max(1, candidates * 2))  # twice as many flagged as candidates
    now = datetime.now(timezone.utc)
    counts: dict[str, int] = {}
    post_verdicts: list[tuple[int, int, list, list, str]] = []  # post id, source id, …

    def sources() -> Iterator[tuple]:
        for i in range(n_sources):
            sid = ids["source"] + i
            city = CITIES[i % len(CITIES)]
            yield (sid, "telegram", "channel", str(-1000000000000 - sid), f"chan{sid}_{city}",
                   f"Канал {sid} · {city}", rng.randint(50, 200_000), False, "active", True, 50,
                   "seed", 0, EPOCH, now, city)

    def post_rows() -> Iterator[tuple]:
        for i in range(posts):
            pid = ids["post"] + i
            sid = ids["source"] + i % n_sources
            if i % flagged_every == 0:
                text, hits, indicators, category = _ad(rng, i)
                post_verdicts.append((pid, sid, hits, indicators, category))
            else:
                text = " ".join(rng.choice(FILLER) for _ in range(rng.randint(3, 12)))
            posted = EPOCH + timedelta(seconds=i * 7)
            handle = f"chan{sid}"
            yield (pid, sid, str(i), f"https://t.me/{handle}/{i}", posted, False, text, "[]",
                   "[]", hashlib.sha256(f"{seed}:{i}".encode()).hexdigest(), posted, posted)

    started = time.monotonic()
    with store.engine.begin() as conn:
        counts["source"] = _insert(conn, "source", (
            "id", "platform", "kind", "external_id", "handle", "title", "subscribers", "verified",
            "status", "watched", "watch_priority", "discovered_via", "discovery_depth",
            "first_seen", "last_seen", "region"), sources())
        counts["post"] = _insert(conn, "post", (
            "id", "source_id", "external_id", "url", "posted_at", "edited", "text", "links",
            "mentions", "content_hash", "first_seen", "last_seen"), post_rows())
        log(f"sources and posts: {time.monotonic() - started:.1f} s")
        known = {(kind, value): eid for eid, kind, value in conn.exec_driver_sql(
            "SELECT id, kind, value FROM entity")}
        entity_ids: dict[tuple[str, str], int] = {}
        links: list[tuple[int, int]] = []
        for pid, _sid, _hits, indicators, _cat in post_verdicts:
            for ind in indicators:
                key = (ind["kind"], ind["value"])
                if key not in entity_ids and key not in known:
                    entity_ids[key] = ids["entity"] + len(entity_ids)
                links.append((pid, entity_ids.get(key) or known[key]))
        counts["verdict"] = _insert(conn, "verdict", (
            "id", "subject_type", "subject_id", "category", "score", "hits", "indicators",
            "scores", "model_version", "scored_at", "contributions"), (
            (ids["verdict"] + k, "post", pid, cat, round(0.5 + rng.random() / 2, 4),
             json.dumps(hits, ensure_ascii=False), json.dumps(ind), json.dumps({cat: 0.9}),
             "bench-1", now, REASONS) for k, (pid, _s, hits, ind, cat) in enumerate(post_verdicts)))
        counts["entity"] = _insert(conn, "entity", ("id", "kind", "value", "first_seen",
                                                     "last_seen"),
                                   ((eid, kind, value, EPOCH, now)
                                    for (kind, value), eid in entity_ids.items()))
        counts["post_entity"] = _insert(conn, "post_entity", ("post_id", "entity_id"), links)
        log(f"verdicts, entities: {time.monotonic() - started:.1f} s")
        taken = {sid for (sid,) in conn.exec_driver_sql(
            "SELECT subject_id FROM candidate WHERE subject_type = 'entity'")}
        rows, events = _candidates(rng, ids, candidates, post_verdicts, n_sources, [
            eid for eid in [*entity_ids.values(), *known.values()] if eid not in taken], now)
        counts["candidate"] = _insert(conn, "candidate", (
            "id", "subject_type", "subject_id", "category", "status", "decision", "priority",
            "score", "reasons", "last_evidence_at", "created_at", "updated_at"), rows)
        counts["event"] = _insert(conn, "event", ("id", "at", "actor", "action",
                                                  "subject_type", "subject_id", "payload"),
                                  events)
        if conn.dialect.name == "postgresql":
            for table in ("source", "post", "verdict", "entity", "candidate", "event"):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 1) FROM \"{table}\"))")
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    log(f"done: {time.monotonic() - started:.1f} s")
    return counts


def _candidates(rng, ids, count, post_verdicts, n_sources, entity_list, now):
    """Candidate rows and their events: mostly posts, a tenth channels, a twentieth entities."""
    n_sources_c = min(n_sources, count // 10)
    n_entities_c = min(len(entity_list), count // 20)
    n_posts_c = min(len(post_verdicts), count - n_sources_c - n_entities_c)
    subjects = ([("post", pv[0], pv[4]) for pv in post_verdicts[:n_posts_c]]
                + [("source", ids["source"] + i, "sale") for i in range(n_sources_c)]
                + [("entity", entity_list[i], "sale") for i in range(n_entities_c)])
    rows, events = [], []
    for k, (stype, sid, category) in enumerate(subjects):
        cid = ids["candidate"] + k
        status = rng.choice(STATUSES)
        created = now - timedelta(minutes=rng.randint(1, 60 * 24 * 30))
        reasons = json.dumps([{"rule": f"{category}.rule", "contribution": 0.9,
                               "words": ["закладки"]}], ensure_ascii=False)
        rows.append((cid, stype, sid, category, status,
                     category if status == "confirmed" else None, rng.randint(0, 100),
                     round(rng.random(), 4), reasons, created, created, created))
        events.append((ids["event"] + k, created, "component:queue", "candidate.opened",
                       "candidate", cid, json.dumps({"category": category})))
    return rows, events


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="store URL (sqlite:///… or postgresql+psycopg://…)")
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--candidates", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    store = open_store(args.url)
    try:
        counts = generate(store, args.posts, args.candidates, args.seed, log=print)
    finally:
        store.dispose()
    print(" ".join(f"{name}={n}" for name, n in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
