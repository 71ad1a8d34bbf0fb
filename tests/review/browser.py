"""Playwright fixtures for the review app's browser tests: real headless Chromium (Debian's, at
/usr/bin/chromium: browser downloads are not possible here), pages that record every dialog,
console error, uncaught page error and the host of every request, screenshots under the test's
tmp_path, and the app served by uvicorn on port 0 in a thread (the address read back).

Use from a test module:  `from tests.review.browser import chromium, watched, live_server  #
noqa: F401`.
"""

from __future__ import annotations

import json
import uuid
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu"]
CORPUS = Path(__file__).resolve().parents[1] / "data" / "xss_corpus.jsonl"


def xss_corpus() -> list[dict]:
    """[{"id": name, "text": hostile text}] from tests/data/xss_corpus.jsonl."""
    with CORPUS.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


@dataclass
class Watched:
    """A page and everything it did that a test may want to refuse."""

    page: object
    out: Path
    dialogs: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def hosts(self) -> set[str]:
        return {urlsplit(url).netloc for url in self.requests
                if urlsplit(url).scheme not in ("data", "blob", "about")}

    def shot(self, name: str) -> Path:
        path = self.out / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def assert_quiet(self, allowed_host: str) -> None:
        """No dialog, no console error, no page error, no request to any other host."""
        assert self.dialogs == [], f"dialogs opened: {self.dialogs}"
        assert self.page_errors == [], f"page errors: {self.page_errors}"
        assert self.console_errors == [], f"console errors: {self.console_errors}"
        foreign = self.hosts() - {allowed_host}
        assert not foreign, f"requests to other hosts: {sorted(foreign)}"


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def open_watched(browser, out: Path) -> Watched:
    """A fresh context (its own cookies) and page, recording what it does."""
    out.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    watched = Watched(page, out)

    def on_dialog(dialog) -> None:
        watched.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    def on_console(msg) -> None:
        # Chromium asks every site for /favicon.ico by itself: its 404 is not the page's doing
        if msg.type == "error" and not (msg.text.startswith("Failed to load resource")
                                        and msg.location.get("url", "").endswith("/favicon.ico")):
            watched.console_errors.append(f"{msg.text} at {msg.location.get('url')}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: watched.page_errors.append(str(exc)))
    context.on("request", lambda request: watched.requests.append(request.url))
    return watched


@pytest.fixture
def watched(chromium, tmp_path) -> Iterator[Watched]:
    page = open_watched(chromium, tmp_path / "screenshots")
    yield page
    page.page.context.close()


@contextmanager
def serve(app, **options) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on 127.0.0.1, port 0, in a thread; yields its base URL
    (https when `options` give uvicorn an `ssl_certfile`)."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                           access_log=False, lifespan="off", **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    started = threading.Event()
    for _ in range(300):  # until the socket is bound (bounded: 30 s)
        if server.started:
            started.set()
            break
        thread.join(0.1)
        if not thread.is_alive():
            break
    if not started.is_set():
        server.should_exit = True
        raise RuntimeError("uvicorn did not start")
    host, port = server.servers[0].sockets[0].getsockname()[:2]
    try:
        yield f"{'https' if options.get('ssl_certfile') else 'http'}://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def add_flagged_source(session, *, handle: str, title: str, texts: list[str],
                       spans: list[list[tuple[int, int]]] | None = None, priority: int = 50,
                       category: str = "sale", entities: list[tuple[str, str]] = ()) -> int:
    """A Telegram channel with flagged posts (verdict hits at `spans` of each text), linked
    entities, and an open candidate on the channel; the candidate's id."""
    from datetime import datetime, timezone

    from crawler.store.models import (Candidate, Entity, Event, Post, PostEntity, Source,
                                      Verdict)

    now = datetime.now(timezone.utc)
    source = Source(platform="telegram", kind="channel", external_id=f"-100{uuid.uuid4().int % 10**12}",
                    handle=handle[:255], title=title, subscribers=1234, status="active",
                    region="almaty", last_seen=now)
    session.add(source)
    session.flush()
    for number, text in enumerate(texts):
        post = Post(source_id=source.id, external_id=str(number + 1),
                    url=f"https://t.me/{handle[:60]}/{number + 1}", posted_at=now, text=text,
                    content_hash=f"{source.id}-{number}")
        session.add(post)
        session.flush()
        matches = [{"concept": "substance", "term": text[s:e], "text": text[s:e], "span": [s, e],
                    "weight": 1.0, "field": "text"}
                   for s, e in ((spans or [[]] * len(texts))[number] or [(0, min(8, len(text)))])]
        session.add(Verdict(subject_type="post", subject_id=post.id, category=category,
                            score=0.9, hits=[{"rule": f"{category}.substance_with_delivery",
                                              "category": category, "concepts": ["substance"],
                                              "contribution": 0.9, "matches": matches}],
                            indicators=[], scores={category: 0.9}, model_version="test"))
        for kind, value in entities:
            entity = session.query(Entity).filter_by(kind=kind, value=value[:512]).one_or_none()
            if entity is None:
                entity = Entity(kind=kind, value=value[:512])
                session.add(entity)
                session.flush()
            session.add(PostEntity(post_id=post.id, entity_id=entity.id))
    candidate = Candidate(subject_type="source", subject_id=source.id, category=category,
                          status="open", priority=priority, score=0.9,
                          reasons=[{"rule": f"{category}.substance_with_delivery",
                                    "contribution": 0.9, "words": [title[:40]]}],
                          last_evidence_at=now)
    session.add(candidate)
    session.flush()
    session.add(Event(actor="component:queue", action="candidate.opened",
                      subject_type="candidate", subject_id=candidate.id,
                      payload={"category": category}))
    return candidate.id


def log_in(watched: Watched, base: str, username: str, password: str) -> None:
    page = watched.page
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
