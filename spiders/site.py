"""`site`: one spider template for marketplaces, forums and classifieds, configured per target.

A target is a `[sites.NAME]` table of kyran.toml (see `crawler.config.SiteTarget`): start URLs,
allowed domains, which links to follow, the pagination link, which pages hold posts, and where
each post's text, title, author, date and price are. Run it with ``kyran crawl site NAME`` or
``scrapy crawl site -a target=NAME``. A target with a proxy (Privoxy/Tor HTTP, or socks5h) has
all its requests routed through it, robots.txt included.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone

from parsel import Selector, SelectorList
from scrapy import Request
from scrapy.http import TextResponse

from crawler.config import load_config
from crawler.items import PostBatch, PostItem
from crawler.middlewares import CAPTURE_META
from spiders.base import KyranSpider, describe_failure
from spiders.html_text import decode_page, html_to_text


def select(node: Selector | TextResponse, selector: str) -> SelectorList:
    if selector.startswith("xpath:"):
        return node.xpath(selector[len("xpath:"):])
    return node.css(selector)


def select_text(node, selector: str | None) -> str | None:
    """The text a field selector points at: strings as they are, elements as clean text."""
    if not selector:
        return None
    parts = []
    for match in select(node, selector):
        value = match.get()
        parts.append(value.strip() if isinstance(match.root, str) else html_to_text(value))
    text = "\n".join(part for part in parts if part)
    return text or None


DATE_FORMATS = ("%d.%m.%Y %H:%M", "%d.%m.%Y", "%Y-%m-%d %H:%M", "%d/%m/%Y")


def parse_date(text: str | None) -> datetime | None:
    """A post's date from ISO 8601 or the day-first formats of local sites, in UTC (UTC when
    no zone). None when it is not a date, or when it falls outside the years 1-9999 once moved
    to UTC (``9999-12-31T23:00-05:00``): the date is the site's own text, the post is kept."""
    if not text:
        return None
    text = text.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        for pattern in DATE_FORMATS:
            try:
                moment = datetime.strptime(text, pattern)
                break
            except ValueError:
                continue
        else:
            return None
    if not moment.tzinfo:
        return moment.replace(tzinfo=timezone.utc)
    try:
        return moment.astimezone(timezone.utc)
    except OverflowError:
        return None


class SiteSpider(KyranSpider):
    name = "site"

    def __init__(self, *args, target: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.target_name = target
        self.pages_seen = 0

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        config = load_config(crawler.settings.get("KYRAN_CONFIG"))
        if not spider.target_name:
            raise ValueError("site spider: give a target: -a target=NAME")
        if spider.target_name not in config.sites:
            known = ", ".join(sorted(config.sites)) or "none configured"
            raise ValueError(f"site spider: no target {spider.target_name!r} in [sites] "
                             f"of the configuration (known: {known})")
        spider.target = config.sites[spider.target_name]
        spider.allowed_domains = spider.target.allowed_domains
        spider.proxy = spider.target.proxy
        spider.post_url = re.compile(spider.target.post_url_pattern or ".")
        return spider

    @property
    def obey_robots(self) -> bool:
        own = self.target.obey_robots
        return self.settings.getbool("ROBOTSTXT_OBEY") if own is None else own

    def _request_meta(self) -> dict:
        return {} if self.obey_robots else {"dont_obey_robotstxt": True}

    async def start(self):
        for url in self.target.start_urls:
            yield self._request(url)

    def _request(self, url: str, response=None):
        self.pages_seen += 1
        meta = self._request_meta()
        if response is not None:
            return response.follow(url, callback=self.parse, errback=self.failed, meta=meta)
        return Request(url, callback=self.parse, errback=self.failed, meta=meta)

    def failed(self, failure):
        """One line per failed page (after Scrapy's retries); the crawl goes on."""
        self.logger.error("site %s: %s failed: %s", self.target_name, failure.request.url,
                          describe_failure(failure))
        self.crawler.stats.inc_value("kyran/site/failed_pages")

    def parse(self, response):
        if not isinstance(response, TextResponse):
            self.logger.info("skipping %s: not a text page", response.url)
            return
        page = self._page_selector(response)
        if self.post_url.search(response.url):
            posts = list(self._posts(response, page))
            if posts:
                self.crawler.stats.inc_value("kyran/site/posts", len(posts))
                yield PostBatch(posts)
        if response.meta.get("depth", 0) >= self.target.max_depth:
            return
        selectors = list(self.target.follow)
        if self.target.next_page:
            selectors.append(self.target.next_page)
        for selector in selectors:
            for href in self._hrefs(page, selector):
                if self.pages_seen >= self.target.max_pages:
                    self.crawler.stats.inc_value("kyran/site/page_limit_reached")
                    return
                yield self._request(href, response)

    def _page_selector(self, response: TextResponse) -> Selector:
        """The page, decoded with the declared charset only when the bytes really are in it."""
        declared = response.encoding
        text, used = decode_page(response.body, declared)
        if used != declared:
            self.logger.info("%s: declared charset %s is wrong, read as %s",
                             response.url, declared, used)
            self.crawler.stats.inc_value("kyran/site/charset_fixed")
        return Selector(text=text, base_url=response.url)

    def _hrefs(self, page: Selector, selector: str) -> list[str]:
        found = []
        for match in select(page, selector):
            value = match.get() if isinstance(match.root, str) else match.attrib.get("href")
            if value:
                found.append(value.strip())
        return found

    def _posts(self, response: TextResponse, page: Selector):
        target = self.target
        nodes = list(select(page, target.item)) if target.item else [page]
        capture = response.meta.get(CAPTURE_META)
        for position, node in enumerate(nodes):
            text = select_text(node, target.text) or ""
            own_id = select_text(node, target.item_id)
            if own_id:
                external_id = own_id
            else:
                external_id = response.url + (f"#{position}" if target.item else "")
            if len(external_id) > 255:
                external_id = "sha256:" + hashlib.sha256(external_id.encode()).hexdigest()
            links = [response.urljoin(href) for href in node.css("a::attr(href)").getall()]
            yield PostItem(
                source_key=self.target_name, platform="web", external_id=external_id,
                url=response.url, text=text, title=select_text(node, target.title),
                author=select_text(node, target.author), price=select_text(node, target.price),
                posted_at=parse_date(select_text(node, target.date)),
                links=list(dict.fromkeys(links)), capture=capture,
            )
