"""Benchmark: the Telegram monitor from the client boundary through the processing chain.

Three figures, each printed beside its baseline measured in the same run:

  throughput  the same fictional channels (``crawler.fixtures.tme_world``, by default 20 x 300
              posts) read by the monitor as Telethon TL messages from a simulated account (the
              fake boundary of the tests: real TL objects, real monitor code, SQLite store,
              fsynced captures, the whole chain), beside the preview spider crawling them as
              t.me/s pages from the local fixture server (`kyran crawl telegram`, as
              bench_crawl.py's run A). Both stores are checked to hold every post.
  freshness   joined channels: the time from a shop's post appearing at the client boundary to
              its candidate in the queue, one post at a time and a burst of one post in each
              channel at once, beside the aim (60 s) and the polled path (the poll interval).
  capacity    channels one account can watch at a given freshness under the token-bucket
              defaults (history_per_minute 10, resolve_per_hour 20, metadata_refresh 12h,
              max_joined_per_account 200), beside Telethon's flood estimate (~20 GetHistory a
              minute, DESIGN.md), derived from the call counts of the throughput run; and what
              the measured chain throughput allows.

    .venv/bin/python bench/bench_monitor.py [--channels 20] [--posts 300] [--live 30] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

SHOP_AD = ("🔥 Мефедрон VHQ в наличии 🔥\n1г — {price} тг\nКлады по Алматы: магнит, прикоп\n"
           "Заказ через бота @{bot}, оплата BTC")
DEFAULTS = {"history_per_minute": 10.0, "flood_estimate_per_minute": 20.0,
            "metadata_refresh_s": 12 * 3600, "max_joined": 200, "resolve_per_hour": 20.0}


def utf16(text: str, start: int, end: int) -> tuple[int, int]:
    before = len(text[:start].encode("utf-16-le")) // 2
    return before, len(text[start:end].encode("utf-16-le")) // 2


def mtproto_world(preview_world, names: list[str]):
    """The preview world's public channels as an MTProto world: the same posts as TL Messages
    (text, views, dates, signatures, replies, forwards, hidden links as MessageEntityTextUrl)."""
    from telethon.tl import types

    from crawler.fixtures.tme_pages import _place_links
    from tests.monitors.fake_telegram import FakeTelegram
    from monitors.telegram.limits import system_clock as clock

    world = FakeTelegram(clock)
    ids = {ch.username.lower(): ch.numeric_id for ch in preview_world.channels}
    for name in names:
        ch = preview_world.channel(name)
        channel = world.channel(ch.numeric_id, ch.username, ch.title, about=ch.description,
                                participants=ch.subscribers)
        for post in preview_world.posts(name):
            peer = types.PeerChannel(ch.numeric_id)
            if post.service:
                message = types.MessageService(id=post.id, peer_id=peer, date=post.date,
                                               action=types.MessageActionChannelCreate(ch.title))
            else:
                text, spans = _place_links(post.text, post.links)
                text = text.strip()
                entities = []
                for start, end, href in spans:
                    if end <= len(text):
                        entities.append(types.MessageEntityTextUrl(*utf16(text, start, end), href))
                fwd = None
                if post.forwarded_from or post.forwarded_from_name:
                    source = ids.get((post.forwarded_from or "").lower())
                    fwd = types.MessageFwdHeader(
                        date=post.date, from_id=types.PeerChannel(source) if source else None,
                        from_name=None if source else (post.forwarded_from_name
                                                       or post.forwarded_from),
                        channel_post=post.forwarded_post_id if source else None)
                message = types.Message(
                    id=post.id, peer_id=peer, date=post.date, message=text, post=True,
                    views=post.views, post_author=post.author, fwd_from=fwd,
                    entities=entities or None,
                    edit_date=post.date if post.edited else None,
                    reply_to=types.MessageReplyHeader(reply_to_msg_id=post.reply_to)
                    if post.reply_to else None)
            channel.messages[post.id] = message
            channel.next_id = max(channel.next_id, post.id + 1)
    return world


def write_config(workdir: Path, telegram: str) -> Path:
    path = workdir / "kyran.toml"
    path.write_text('[store]\nurl = "sqlite:///kyran.sqlite"\ncaptures_dir = "captures"\n'
                    f"[telegram]\n{telegram}\n[telegram.accounts.main]\n", encoding="utf-8")
    return path


class Harness:
    """A monitor on a fresh SQLite store in a temp dir, over the fake boundary."""

    def __init__(self, world, telegram: str, names: list[str]) -> None:
        from crawler.config import load_config
        from crawler.store.captures import CaptureWriter
        from crawler.store.db import open_store
        from crawler.store.ingest import watch
        from monitors.telegram import TelegramMonitor
        from pipelines.chain import ProcessingChain

        self.workdir = Path(tempfile.mkdtemp(prefix="bench-monitor-"))
        self.config = load_config(write_config(self.workdir, telegram), environ={})
        self.store = open_store(f"sqlite:///{self.workdir / 'kyran.sqlite'}")
        with self.store.session() as session:
            for name in names:
                watch(session, "telegram", name)
        self.captures = CaptureWriter(self.workdir / "captures")
        self.chain = ProcessingChain(self.store, self.config, "component:telegram-monitor")
        self.monitor = TelegramMonitor(self.config, self.store, self.chain, self.captures,
                                       {"main": world.boundary("main")})

    def posts_per_source(self) -> dict[str, int]:
        from sqlalchemy import func, select

        from crawler.store.models import Post, Source

        with self.store.reader() as session:
            query = select(Source.handle, func.count(Post.id)).join(Post).group_by(Source.handle)
            return dict(session.execute(query).all())

    def close(self) -> None:
        self.captures.close()
        self.store.dispose()
        shutil.rmtree(self.workdir, ignore_errors=True)


def throughput(args, say) -> dict:
    import bench_crawl

    from crawler.fixtures.server import FixtureServer
    from crawler.fixtures.tme_world import FakeTelegram

    preview = FakeTelegram.generate(seed=args.seed, channels=args.channels,
                                    posts_per_channel=args.posts)
    names = [ch.username for ch in preview.channels if ch.preview == "public"]
    expected = {name.lower(): sum(not p.service for p in preview.posts(name)) for name in names}
    world = mtproto_world(preview, names)
    total = sum(expected.values())
    say(f"world: {len(names)} public channels, {total} posts")

    harness = Harness(world, f"resolve_per_hour = 3600\nhistory_per_minute = 600\n"
                             f"backfill_max_messages = {args.posts * 5}\n", names)
    try:
        cpu0, t0 = time.process_time(), time.perf_counter()
        summary = asyncio.run(harness.monitor.run_once())
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        stored = harness.posts_per_source()
    finally:
        harness.close()
    calls = world.called("main")
    monitor = {"wall_s": wall, "cpu_s": cpu, "posts": sum(stored.values()),
               "messages_per_s": summary["messages_read"] / wall,
               "posts_per_s": sum(stored.values()) / wall, "calls": dict(calls),
               "ok": stored == expected}
    say(f"monitor: {wall:.1f}s, {monitor['posts']} posts, calls {dict(calls)}")

    cache = bench_crawl.PageCache(preview)
    cache.warm(names)
    pages = sum(math.ceil(len(preview.posts(n)) / bench_crawl.PAGE) for n in names)
    max_pages = max(math.ceil(len(preview.posts(n)) / bench_crawl.PAGE) for n in names) + 1
    with FixtureServer(cache.handler) as server:
        result = bench_crawl.crawl("A", cache, server, names, expected, pages, max_pages, None,
                                   args.timeout)
    busy = max(result.wall_s - result.startup_s - result.tail_s, 1e-9)
    spider = {"wall_s": result.wall_s, "busy_s": busy, "cpu_s": result.crawl_cpu_s,
              "posts": result.posts, "posts_per_s": result.posts / result.wall_s,
              "posts_per_busy_s": result.posts / busy, "ok": result.ok,
              "problems": result.problems}
    say(f"spider: {result.wall_s:.1f}s, {result.posts} posts")
    return {"posts": total, "channels": len(names), "monitor": monitor, "spider": spider,
            "history_calls": calls.get("GetHistoryRequest", 0)}


async def _freshness(world, harness, count: int) -> dict:
    from sqlalchemy import select

    from crawler.store.models import Candidate, Post, Source

    def candidate_for(channel_id: int) -> bool:
        with harness.store.reader() as session:
            source_id = session.scalar(select(Source.id).where(
                Source.external_id == str(channel_id)))
            post_ids = select(Post.id).where(Post.source_id == source_id)
            return session.scalar(select(Candidate.id).where(
                ((Candidate.subject_type == "source") & (Candidate.subject_id == source_id))
                | ((Candidate.subject_type == "post") & Candidate.subject_id.in_(post_ids)))
                .limit(1)) is not None

    async def wait(condition, timeout=120.0) -> None:
        deadline = time.perf_counter() + timeout
        while not await asyncio.to_thread(condition):
            if time.perf_counter() > deadline:
                raise TimeoutError("no candidate within 120 s")
            await asyncio.sleep(0.002)

    stop = asyncio.Event()
    task = asyncio.create_task(harness.monitor.run(stop))
    channels = list(world.channels.values())
    await wait(lambda: len(world.members["main"]) == len(channels))
    single, burst = [], []
    half = count // 2
    for i, channel in enumerate(channels[:half]):  # one post at a time
        start = time.perf_counter()
        world.post(channel, SHOP_AD.format(price=15000 + i, bot=f"shop{i:03d}_bot"))
        await wait(lambda c=channel: candidate_for(c.id))
        single.append(time.perf_counter() - start)
    start = time.perf_counter()
    for i, channel in enumerate(channels[half:]):  # a burst: every other channel at once
        world.post(channel, SHOP_AD.format(price=20000 + i, bot=f"burst{i:03d}_bot"))
    for channel in channels[half:]:
        await wait(lambda c=channel: candidate_for(c.id))
        burst.append(time.perf_counter() - start)
    stop.set()
    t0 = time.perf_counter()
    await task
    return {"single_s": single, "burst_s": burst, "stop_s": time.perf_counter() - t0}


def freshness(args, say) -> dict:
    from monitors.telegram.limits import system_clock
    from tests.monitors.fake_telegram import FakeTelegram

    world = FakeTelegram(system_clock)
    names = [f"fresh_shop_{i:03d}" for i in range(args.live)]
    for i, name in enumerate(names):
        world.channel(9_000_000 + i, name, f"Shop {i}")
    harness = Harness(world, "join = true\nresolve_per_hour = 3600\nhistory_per_minute = 600\n",
                      names)
    try:
        figures = asyncio.run(_freshness(world, harness, args.live))
    finally:
        harness.close()
    say(f"freshness: median {statistics.median(figures['single_s']) * 1000:.0f} ms one at a "
        f"time, last of a burst of {len(figures['burst_s'])} {max(figures['burst_s']):.2f} s")
    return figures


def capacity(through: dict) -> list[dict]:
    """Channels one account watches at freshness F (the poll interval): polled channels cost one
    GetHistory per F (a page holds 100 messages) and one GetFullChannel per metadata_refresh;
    joined channels cost one read per max(4 F, 1 h) (the safety sweep) and the metadata
    refresh."""
    monitor = through["monitor"]
    per_call = through["history_calls"] / max(through["channels"], 1)  # calls per channel read
    rows = []
    for label, minutes in (("5m", 5), ("15m", 15), ("1h", 60)):
        row = {"freshness": label}
        for key, rate in (("defaults", DEFAULTS["history_per_minute"]),
                          ("flood_estimate", DEFAULTS["flood_estimate_per_minute"])):
            budget = rate * minutes
            metadata = minutes * 60 / DEFAULTS["metadata_refresh_s"]
            joined = DEFAULTS["max_joined"]
            joined_cost = joined * (minutes / max(4 * minutes, 60) + metadata)  # the sweep
            polled = max(0.0, budget - joined_cost) / (1 + metadata)
            row[key] = {"polled": int(polled), "joined_live": joined,
                        "polled_without_joining": int(budget / (1 + metadata))}
        # the chain is not the limit: posts/s measured, at 20 posts a channel a day
        row["chain_bound_channels_at_20_posts_a_day"] = int(
            monitor["posts_per_s"] * 86400 / 20)
        row["calls_per_channel_first_read"] = round(per_call, 2)
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--channels", type=int, default=20)
    ap.add_argument("--posts", type=int, default=300)
    ap.add_argument("--live", type=int, default=30, help="joined channels in the freshness run")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    say = (lambda *a: print(*a, file=sys.stderr, flush=True)) if args.json else \
        (lambda *a: print(*a, flush=True))

    through = throughput(args, say)
    fresh = freshness(args, say)
    cap = capacity(through)
    ok = through["monitor"]["ok"] and through["spider"]["ok"]
    if args.json:
        print(json.dumps({"throughput": through, "freshness": fresh, "capacity": cap,
                          "cpus": os.cpu_count(), "loadavg": os.getloadavg()}, indent=2))
        return 0 if ok else 1

    m, s = through["monitor"], through["spider"]
    print(f"\nthroughput, {through['posts']} posts in {through['channels']} channels "
          "(whole chain, SQLite, fsynced captures):")
    print(f"  monitor (boundary -> chain)   {m['wall_s']:6.1f} s wall  {m['cpu_s']:6.1f} s CPU  "
          f"{m['posts_per_s']:6.0f} posts/s  {'ok' if m['ok'] else 'WRONG COUNTS'}")
    print(f"  preview spider (baseline)     {s['wall_s']:6.1f} s wall  {s['cpu_s']:6.1f} s CPU  "
          f"{s['posts_per_s']:6.0f} posts/s ({s['posts_per_busy_s']:.0f} without start-up)  "
          f"{'ok' if s['ok'] else 'FAILED: ' + '; '.join(s['problems'])}")
    print(f"  ratio monitor/spider          {m['posts_per_s'] / s['posts_per_s']:.2f}x posts/s, "
          f"{(m['posts'] / m['cpu_s']) / (s['posts'] / s['cpu_s']):.2f}x posts per CPU second "
          f"({m['posts'] / m['cpu_s']:.0f} against {s['posts'] / s['cpu_s']:.0f}; the steadier "
          "figure on a shared machine)")
    single, burst = fresh["single_s"], sorted(fresh["burst_s"])
    print("\nfreshness, joined channels (post at the boundary -> candidate in the queue):")
    print(f"  one post at a time ({len(single)})      median {statistics.median(single):.3f} s, "
          f"max {max(single):.3f} s")
    print(f"  burst of {len(burst)} posts at once      median {statistics.median(burst):.3f} s, "
          f"last {burst[-1]:.3f} s")
    print("  baseline: the aim             60 s;  polled channels: up to the poll interval "
          "(15 min by default) + one read")
    print(f"  stop after the last post      {fresh['stop_s']:.2f} s")
    print("\ncapacity, channels per account (polled at the freshness, plus 200 joined live):")
    print("  freshness   defaults (10/min)   flood estimate (20/min)   polled only (defaults)"
          "   chain bound (20 posts/channel/day)")
    for row in cap:
        d, f = row["defaults"], row["flood_estimate"]
        print(f"  {row['freshness']:>9}   {d['polled']:>6} + 200 live   {f['polled']:>10} + 200 "
              f"live   {d['polled_without_joining']:>18}   "
              f"{row['chain_bound_channels_at_20_posts_a_day']:>20}")
    first = math.ceil(through["channels"] / DEFAULTS["resolve_per_hour"] * 60)
    print(f"  first start: resolving {through['channels']} new channels takes ~{first} min at "
          "resolve_per_hour = 20 (3 at once), then never again (access hashes are kept)")
    print(f"\n{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
