"""`telegram_preview`: crawls public channels through Telegram's web preview (t.me/s/NAME).

Channels come from spider arguments (`-a channels=a,b`), a file (`-a channels_file=PATH`, one
name per line, `#` comments), or the watchlist in the store when neither is given. Each channel's
pages are read newest first, paging back with `?before=ID`:

- incrementally, down to the channel's crawl cursor (the newest post up to which the store is
  complete), so a crawl that was killed is redone from where the store stands;
- on a first visit, to `first_visit_max_pages` pages or `first_visit_since`, whichever is first.

The cursor only moves when every page of the visit was read whole (``PreviewPage.complete``) and
only to an id in line with the first page (``PreviewPage.newest``); each next page is asked with
``?before=`` the oldest id in line read, so the chain always goes down (``spiders.tme_ids``).

A channel without a public preview (a redirect to t.me/NAME) is recorded as `no_preview`; one
whose page has no posts (private or deleted) as `empty`; one that answers under a new username
with a known numeric id is a rename, handled by the store. A page whose header or posts claim
another channel, or whose posts carry different channel ids, is quarantined and not applied
(`spiders.tme_identity`).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from pathlib import Path

import scrapy
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select

from crawler.config import load_config
from crawler.items import ChannelItem, CrawlCheckpoint, IdentityConflict, PostBatch
from crawler.middlewares import CAPTURE_META
from crawler.store.db import open_store
from crawler.store.models import Source
from crawler.usernames import parse_username
from spiders.base import KyranSpider, describe_failure
from spiders.tme_identity import check_page, still_shows, stored_names_by_id
from spiders.tme_ids import cursor_is_absurd
from spiders.tme_parser import parse_preview


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
        return [parse_username(name) for name in names]  # UsernameError is a ValueError


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
        store = open_store(config.database_url, limits=config.store.limits())
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
        self.names_by_id = stored_names_by_id(config.database_url, config.store.limits())
        if not plan:
            self.logger.warning("no channels to crawl: give -a channels=NAME or watch some")
        for name, cursor in plan:
            yield self._page_request(name, None, {"cursor": cursor, "page": 1, "newest": None,
                                                  "problem": None, "reset": False})

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
        evidence = check_page(page, name, state.get("channel_id"))
        if evidence.conflict is not None:
            yield self._quarantine(name, evidence, response.url, capture)
            return
        former = self.names_by_id.get(evidence.channel_id)
        if former not in (None, name) and state.get("channel_id") is None:
            if not response.meta.get("rename_checked"):
                yield self._rename_check(name, former, evidence, response)
                return
            self.names_by_id[evidence.channel_id] = name
        state["channel_id"] = state.get("channel_id") or evidence.channel_id
        channel = page.channel
        channel.capture = capture
        channel.username, channel.numeric_id = name, evidence.channel_id
        if not page.posts and state["page"] == 1:
            self.logger.info("%s has no posts in its preview (private, deleted or empty)", name)
        if state["page"] == 1:
            yield channel
        handle = name  # what was requested, which the whole page has just confirmed
        for post in page.posts:
            post.source_key = handle
            post.capture = capture
        if page.posts:
            yield PostBatch(page.posts)
        step = self._next_step(page, state, response.url)
        if step != "more":
            self.finished(name, step if page.posts or state["page"] > 1 else "no posts")
        if step == "more":
            state["page"] += 1
            yield self._page_request(name, page.oldest, state)
        elif step == "complete" and not state["problem"] and state["newest"] is not None:
            yield CrawlCheckpoint(source_key=handle, cursor=state["newest"], reset=state["reset"])
        elif step == "incomplete" or state["problem"]:
            self.crawler.stats.inc_value("kyran/telegram/incomplete_channels")
            self.logger.warning(
                "%s: incomplete visit (%s); the crawl cursor stays where it was, so the next run "
                "reads these pages again", name, state["problem"] or self._stopped_short(state))

    def _stopped_short(self, state) -> str:
        return "stopped after %d pages before reaching %s%s" % (
            state["page"],
            "the last stored post" if state["cursor"] is not None else "its first-visit depth",
            "; raise telegram_preview.max_pages if this repeats"
            if state["page"] >= self._page_limit else "")

    def _quarantine(self, name: str, evidence, url: str, capture) -> IdentityConflict:
        """A page that contradicts whose it is: nothing of it is applied, the channel's crawl
        stops here (its cursor stays), and the conflict is kept for a person to look at."""
        self.crawler.stats.inc_value("kyran/telegram/quarantined_pages")
        self.finished(name, "quarantined")
        self.logger.warning(
            "%s: page quarantined, %s; nothing from it is applied and the channel's crawl cursor "
            "stays (see `kyran quarantine`)", name, evidence.conflict)
        return IdentityConflict(requested=name, reason=evidence.conflict, url=url,
                                claimed_names=evidence.names, claimed_ids=evidence.ids,
                                capture=capture)

    def _rename_check(self, name: str, former: str, evidence, pending) -> scrapy.Request:
        """Before a page's channel id renames the stored channel `former`, ask `former`'s own
        page whether it still shows that channel; the page waits in the request."""
        return scrapy.Request(
            f"{self.base_url}/s/{former}", callback=self._renamed, errback=self.failed,
            meta={"channel": name, "former": former, "evidence": evidence, "pending": pending,
                  "dont_redirect": True, "handle_httpstatus_list": [301, 302, 303, 307, 308, 404]},
            dont_filter=True)

    def _renamed(self, response):
        meta = response.meta
        name, former, evidence, pending = (meta["channel"], meta["former"], meta["evidence"],
                                           meta["pending"])
        if response.status == 200 and still_shows(
                parse_preview(response.body, response.url, former), former, evidence.channel_id):
            evidence.conflict = (f"its posts carry channel id {evidence.channel_id}, which "
                                 f"{former} still shows at its own page")
            yield self._quarantine(name, evidence, pending.url, pending.meta.get(CAPTURE_META))
            return
        pending.meta["rename_checked"] = True  # the former name no longer shows it: a rename
        yield from self.parse_page(pending)

    @property
    def _page_limit(self) -> int:
        return self.args.max_pages or self.options.max_pages

    def _next_step(self, page, state, url: str) -> str:
        """more: read the next older page, asked with ``?before=page.oldest`` (so the chain
        always goes down, whatever the page links to); complete: every post from the newest down
        to where this visit is meant to stop was seen (the cursor may advance unless a page was
        incomplete: ``state["problem"]``); incomplete: the visit stopped short (a page cap, a
        page without posts, a page that does not go down), so the cursor must not advance."""
        if not page.complete and not state["problem"]:
            state["problem"] = f"page {state['page']} ({url}): {page.problem}"
        if not page.posts:
            return "complete" if state["page"] == 1 and page.recognised else "incomplete"
        if page.oldest is None:  # no id in line: nothing below the ?before= asked, or unreadable
            state["problem"] = state["problem"] or (
                f"page {state['page']} ({url}) shows no post older than the page before it")
            return "incomplete"
        if state["page"] == 1:
            self._check_cursor(page, state)
            state["newest"] = page.newest
        if page.before is not None and page.before > page.oldest:
            self.logger.warning("%s links to a newer page (?before=%d), not down: paging on from "
                                "the oldest post read (%d)", url, page.before, page.oldest)
            self.crawler.stats.inc_value("kyran/telegram/links_not_down")
        if not page.before:
            return "complete"  # the channel's first post
        if state["cursor"] is not None and page.oldest <= state["cursor"]:
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

    def _check_cursor(self, page, state) -> None:
        """A stored cursor far above every post id the channel's newest page shows came from a
        bogus id: it would end every visit on its first page. Read the channel as on a first
        visit instead, and let the checkpoint replace the cursor."""
        ids = sorted(int(post.external_id) for post in page.posts
                     if page.oldest <= int(post.external_id) <= page.newest)
        if state["cursor"] is not None and cursor_is_absurd(state["cursor"], ids):
            self.logger.warning(
                "%s: the stored crawl cursor %d is far above the newest post shown (%d): it "
                "cannot be right; reading the channel as on a first visit and resetting it",
                page.username, state["cursor"], page.newest)
            self.crawler.stats.inc_value("kyran/telegram/cursor_reset")
            state["cursor"], state["reset"] = None, True

    def failed(self, failure):
        request = failure.request
        self.logger.error("telegram_preview: %s failed: %s", request.url,
                          describe_failure(failure))
        self.crawler.stats.inc_value("kyran/telegram/failed_pages")
        self.finished(request.meta["channel"], f"failed: {describe_failure(failure)}")
