"""`telegram_preview`: crawls public channels through Telegram's web preview (t.me/s/NAME).

Channels come from spider arguments (`-a channels=a,b`), a file (`-a channels_file=PATH`, one
name per line, `#` comments), or the watchlist in the store when neither is given. Each channel's
pages are read newest first, paging back with `?before=ID`:

- incrementally, down to the channel's crawl cursor (the newest post up to which the store is
  complete), so a crawl that was killed is redone from where the store stands;
- on a first visit, to `first_visit_max_pages` pages or `first_visit_since`, whichever is first.

A channel without a public preview (a redirect to t.me/NAME) is recorded as `no_preview`; one
whose page has no posts (private or deleted) as `empty`; one that answers under a new username
with a known numeric id is a rename, handled by the store.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from pathlib import Path

import scrapy
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select

from crawler.config import load_config
from crawler.items import ChannelItem, CrawlCheckpoint, PostBatch
from crawler.middlewares import CAPTURE_META
from crawler.store.db import open_store
from crawler.store.models import Source
from spiders.base import KyranSpider, describe_failure
from spiders.tme_parser import parse_preview

CHANNEL_NAME = re.compile(r"^[A-Za-z0-9_]{4,64}$")


class PreviewArgs(BaseModel):
    """Validated spider arguments."""

    model_config = ConfigDict(extra="forbid")
    channels: list[str] = Field(default_factory=list)
    channels_file: Path | None = None
    max_pages: int | None = Field(None, ge=1)

    @field_validator("channels", mode="before")
    @classmethod
    def _split(cls, value):
        if isinstance(value, str):
            value = [part for part in re.split(r"[,\s]+", value) if part]
        return value

    @field_validator("channels")
    @classmethod
    def _names(cls, names: list[str]) -> list[str]:
        cleaned = []
        for name in names:
            name = name.strip().lstrip("@")
            name = re.sub(r"^(https?://)?(t\.me|telegram\.me)/(s/)?", "", name).strip("/")
            if not CHANNEL_NAME.match(name):
                raise ValueError(f"{name!r} is not a Telegram username (4-64 of A-Z, 0-9, _)")
            cleaned.append(name.lower())
        return cleaned


class TelegramPreviewSpider(KyranSpider):
    name = "telegram_preview"
    custom_settings = {"ROBOTSTXT_OBEY": False}  # t.me/s is meant to be read by browsers

    def __init__(self, *args, channels=None, channels_file=None, max_pages=None, **kwargs):
        super().__init__(*args, **kwargs)
        try:
            self.args = PreviewArgs(channels=channels or [], channels_file=channels_file,
                                    max_pages=max_pages)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise ValueError(f"telegram_preview: {first['loc'][0]}: {first['msg']}") from None

    def _channel_names(self, config) -> list[str]:
        names = list(self.args.channels)
        if self.args.channels_file is not None:
            text = self.args.channels_file.read_text(encoding="utf-8")
            lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
            names += PreviewArgs(channels=[line for line in lines if line]).channels
        return list(dict.fromkeys(names))

    def _plan(self, config, names: list[str]) -> list[tuple[str, int | None]]:
        """(name, crawl cursor) for each channel to visit; the watchlist when no names given."""
        store = open_store(config.database_url)
        try:
            with store.reader() as session:
                query = select(Source.handle, Source.crawl_cursor).where(
                    Source.platform == "telegram", Source.handle.is_not(None))
                if names:
                    cursors = dict(session.execute(query.where(Source.handle.in_(names))).all())
                    return [(name, cursors.get(name)) for name in names]
                query = query.where(Source.watched.is_(True), Source.kind == "channel",
                                    Source.status.not_in(["gone", "blocked"]))
                rows = session.execute(query.order_by(Source.watch_priority.desc())).all()
                return [(handle, cursor) for handle, cursor in rows]
        finally:
            store.dispose()

    async def start(self):
        config = load_config(self.settings.get("KYRAN_CONFIG"))
        self.options = config.telegram_preview
        self.base_url = self.settings.get("KYRAN_TELEGRAM_BASE_URL") or self.options.base_url
        names = self._channel_names(config)
        plan = self._plan(config, names)
        if not plan:
            self.logger.warning("no channels to crawl: give -a channels=NAME or watch some")
        for name, cursor in plan:
            yield self._page_request(name, None, {"cursor": cursor, "page": 1, "newest": None})

    def _page_request(self, name: str, before: int | None, state: dict) -> scrapy.Request:
        url = f"{self.base_url}/s/{name}" + (f"?before={before}" if before else "")
        return scrapy.Request(
            url, callback=self.parse_page, errback=self.failed,
            meta={"channel": name, "state": state, "dont_redirect": True,
                  "handle_httpstatus_list": [301, 302, 303, 307, 308]},
            dont_filter=True,
        )

    def parse_page(self, response):
        name = response.meta["channel"]
        state = dict(response.meta["state"])
        capture = response.meta.get(CAPTURE_META)
        if 300 <= response.status < 400:
            location = response.headers.get("Location", b"").decode("latin-1")
            self.logger.info("%s has no public preview (redirect to %s)", name, location)
            self.crawler.stats.inc_value("kyran/telegram/no_preview")
            yield ChannelItem(username=name, status="no_preview", capture=capture)
            self.finished(name, "no preview")
            return
        page = parse_preview(response.body, response.url, name)
        channel = page.channel
        channel.capture = capture
        if not page.posts and state["page"] == 1:
            self.logger.info("%s has no posts in its preview (private, deleted or empty)", name)
        if state["page"] == 1:
            yield channel
        handle = (page.username or name).lower()
        for post in page.posts:
            post.source_key = handle
            post.capture = capture
        if page.posts:
            yield PostBatch(page.posts)
        if page.posts and state["newest"] is None:
            state["newest"] = max(int(post.external_id) for post in page.posts)
        step = self._next_step(page, state)
        if step != "more":
            self.finished(name, step if page.posts or state["page"] > 1 else "no posts")
        if step == "more":
            state["page"] += 1
            yield self._page_request(name, page.before, state)
        elif step == "complete" and state["newest"] is not None:
            yield CrawlCheckpoint(source_key=handle, cursor=state["newest"])
        elif step == "incomplete":
            self.crawler.stats.inc_value("kyran/telegram/incomplete_channels")
            self.logger.warning(
                "%s: stopped after %d pages before reaching %s; the crawl cursor stays where it "
                "was, so the next run reads these pages again%s", name, state["page"],
                "the last stored post" if state["cursor"] is not None else "its first-visit depth",
                " (raise telegram_preview.max_pages if this repeats)"
                if state["page"] >= self._page_limit else "")

    @property
    def _page_limit(self) -> int:
        return self.args.max_pages or self.options.max_pages

    def _next_step(self, page, state) -> str:
        """more: read the next older page; complete: every post from the newest down to where
        this visit is meant to stop is read (the cursor may advance); incomplete: the visit
        stopped short (a page cap, a page without posts), so the cursor must not advance."""
        if not page.posts:
            return "complete" if state["page"] == 1 and page.recognised else "incomplete"
        if not page.before:
            return "complete"  # the channel's first post
        oldest = min(int(post.external_id) for post in page.posts)
        if state["cursor"] is not None and oldest <= state["cursor"]:
            return "complete"
        if state["page"] >= self._page_limit:
            return "incomplete"
        if state["cursor"] is None:
            if state["page"] >= self.options.first_visit_max_pages:
                return "complete"  # a first visit reads this deep by design
            since: date | None = self.options.first_visit_since
            if since is not None:
                dates = [post.posted_at for post in page.posts if post.posted_at is not None]
                cutoff = datetime(since.year, since.month, since.day, tzinfo=timezone.utc)
                if dates and min(dates) < cutoff:
                    return "complete"
        return "more"

    def failed(self, failure):
        request = failure.request
        self.logger.error("telegram_preview: %s failed: %s", request.url,
                          describe_failure(failure))
        self.crawler.stats.inc_value("kyran/telegram/failed_pages")
        self.finished(request.meta["channel"], f"failed: {describe_failure(failure)}")
