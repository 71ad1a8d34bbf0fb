"""The local world liveness tests check: fictional channels served like t.me (crawler.fixtures),
a few web pages with chosen statuses, and servers that hang up or never answer."""

from __future__ import annotations

import socket
import threading
from datetime import datetime, timedelta, timezone

from crawler.fixtures.server import FixtureServer
from crawler.fixtures.tme_pages import FakeChannel, FakePost
from crawler.fixtures.tme_world import FakeTelegram
from crawler.store.models import Candidate, Entity, Post, Source

START = datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc)


def make_world() -> FakeTelegram:
    world = FakeTelegram()
    for number, (name, preview) in enumerate([("shop_up", "public"), ("shop_hidden", "public"),
                                              ("shop_emptied", "public"),
                                              ("shop_removed", "public")]):
        world.add_channel(FakeChannel(name, 1700000000 + number, f"Shop {number}",
                                      preview=preview),
                          [FakePost(i, START + timedelta(hours=i), f"post {i}")
                           for i in range(1, 4)])
    return world


class World:
    """`tme`: the fake Telegram; `pages`: web path -> status; `missing`: names t.me answers 404
    for."""

    def __init__(self) -> None:
        self.tme = make_world()
        self.pages: dict[str, int] = {"/market": 200, "/listing/7": 200}
        self.missing: set[str] = set()
        self.server = FixtureServer(self.handle)

    def handle(self, method, target, headers):
        path = target.split("?", 1)[0]
        if path in self.pages:
            status = self.pages[path]
            return status, [("Content-Type", "text/html")], f"<p>{status}</p>".encode()
        parts = [p for p in path.split("/") if p]
        if len(parts) == 2 and parts[0] == "s" and parts[1] in self.missing:
            return 404, [("Content-Type", "text/plain")], b"not found"
        status, answer_headers, body = self.tme.handle(target)
        return status, list(answer_headers.items()), body

    def __enter__(self) -> World:
        self.server.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.stop()

    @property
    def url(self) -> str:
        return self.server.url


class BadServer:
    """A TCP server on a free port that hangs up at once (`mode="close"`) or reads and never
    answers (`mode="silent"`)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            if self.mode == "close":
                conn.close()
            else:
                self.held.append(conn)

    def __enter__(self) -> BadServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def add_source(session, handle: str, status: str = "reported", platform: str = "telegram",
               kind: str = "channel") -> Source:
    source = Source(platform=platform, handle=handle, kind=kind)
    session.add(source)
    session.flush()
    session.add(Candidate(subject_type="source", subject_id=source.id, category="sale",
                          status=status))
    return source


def add_entity(session, kind: str, value: str, status: str = "confirmed") -> Entity:
    entity = Entity(kind=kind, value=value)
    session.add(entity)
    session.flush()
    session.add(Candidate(subject_type="entity", subject_id=entity.id, category="sale",
                          status=status))
    return entity


def add_web_post(session, source: Source, url: str, status: str = "escalated") -> Post:
    post = Post(source_id=source.id, external_id=url, url=url, text="x", content_hash="0" * 64)
    session.add(post)
    session.flush()
    session.add(Candidate(subject_type="post", subject_id=post.id, category="sale",
                          status=status))
    return post
