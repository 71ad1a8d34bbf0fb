"""Parser for Telegram's public web preview pages (``https://t.me/s/NAME``).

``parse_preview`` turns one page into a :class:`PreviewPage`: the channel as its header shows it
(``ChannelItem``), its posts oldest first (``PostItem``), the id to page back with ``?before=``,
and the username the page itself shows (which differs from the requested one after a rename).

How it works: the document is parsed once and walked once in document order. Every element's
class tokens are looked up in a small table (``_HANDLERS``); the Telegram class names are the
whole contract with the markup (see ``shared/reference/telegram-preview`` and
``crawler/fixtures/tme_pages.py``). The walk is written against a four-method tree adapter, so the
same extraction runs over lxml (``parse_preview``, the fast one) and over BeautifulSoup's
``html.parser`` (``parse_preview_bs4``, the benchmark baseline and a cross-check in tests).

Choices worth knowing:
- Service messages ("Channel created", "pinned a photo" ...) are skipped: they carry no
  advertising and would only add empty posts. They still count as proof the channel is readable.
- Text keeps what Telegram shows: ``<br>`` becomes a newline, emoji stay as characters, link
  labels stay as written (every href goes to ``links``), ``&nbsp;`` stays U+00A0.
- ``forwarded_from`` is the username from the forward link when it has one, else the shown name.
- Nothing raises on bad input: truncated pages yield the posts that were read (a post cut off
  before its footer has ``posted_at=None``); a page that is not a preview page at all yields
  ``recognised=False`` and channel status ``"unknown"``; a ``t.me/NAME`` page (where Telegram
  redirects channels without a public preview) yields status ``"no_preview"``.
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urljoin, urlsplit

from lxml import etree

from crawler.items import ChannelItem, PostItem
from spiders.tme_values import (
    AT_MENTION,
    BG_URL,
    COUNTER_TYPES,
    parse_time,
    telegram_name,
    decode_body,
    decode_data_view,
    parse_count,
)

__all__ = ["PreviewPage", "parse_preview", "parse_preview_bs4", "parse_count", "decode_data_view"]


@dataclass(slots=True)
class PreviewPage:
    """One parsed t.me/s page."""

    channel: ChannelItem
    posts: list[PostItem] = field(default_factory=list)  # page order: oldest first
    before: int | None = None  # pass as ?before= to read the previous (older) page
    username: str = ""  # the channel's username as the page shows it
    recognised: bool = True  # False: the document did not look like a t.me page at all


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _absolute(page_url: str, href: str) -> str:
    return href if href.startswith(("https://", "http://")) else urljoin(page_url, href)


# --- the tree adapters -----------------------------------------------------------------------

class _Tree:
    """What the walk needs from a tree: parse, elements (self and descendants in document
    order), classes, tag, get (an attribute), and text (shown text plus hrefs, ``<br>`` as a
    newline, unsupported-media notices left out)."""

    @classmethod
    def text(cls, el) -> tuple[str, list[str]]:
        parts: list[str] = []
        hrefs: list[str] = []
        cls._walk(el, parts, hrefs)
        return "".join(parts).strip(), hrefs


class _LxmlTree(_Tree):
    """Adapter over lxml elements."""

    _local = threading.local()

    @classmethod
    def parse(cls, text: str):
        parser = getattr(cls._local, "parser", None)
        if parser is None:
            parser = cls._local.parser = etree.HTMLParser(encoding="utf-8", recover=True)
        try:
            return etree.fromstring(text.encode("utf-8", "surrogatepass"), parser)
        except (etree.ParserError, etree.XMLSyntaxError, ValueError):
            return None

    @staticmethod
    def elements(el):
        return el.iter(etree.Element)

    @staticmethod
    def classes(el) -> list[str]:
        c = el.get("class")
        return c.split() if c else ()

    @staticmethod
    def tag(el) -> str:
        return el.tag

    @staticmethod
    def get(el, name: str) -> str | None:
        return el.get(name)

    @classmethod
    def _walk(cls, el, parts: list[str], hrefs: list[str]) -> None:
        if el.text:
            parts.append(el.text)
        for ch in el:
            tag = ch.tag
            if tag == "br":
                parts.append("\n")
            elif isinstance(tag, str) and "media_not_supported" not in (ch.get("class") or ""):
                if tag == "a" and (href := ch.get("href")):
                    hrefs.append(href)
                cls._walk(ch, parts, hrefs)
            if ch.tail:
                parts.append(ch.tail)


class _SoupTree(_Tree):
    """Adapter over BeautifulSoup tags (``html.parser``), mirroring ``_LxmlTree``."""

    @staticmethod
    def parse(text: str):
        from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning

        with warnings.catch_warnings():  # junk that looks like XML is still parsed as HTML
            warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
            return BeautifulSoup(text, "html.parser")

    @staticmethod
    def elements(el):
        yield el
        yield from el.find_all(True)

    @staticmethod
    def classes(el) -> list[str]:
        return el.get("class") or ()

    @staticmethod
    def tag(el) -> str:
        return el.name

    @staticmethod
    def get(el, name: str) -> str | None:
        v = el.get(name)
        return " ".join(v) if isinstance(v, list) else v

    @classmethod
    def _walk(cls, el, parts: list[str], hrefs: list[str]) -> None:
        from bs4 import NavigableString, Tag
        from bs4.element import PreformattedString

        for ch in el.children:
            if isinstance(ch, Tag):
                if ch.name == "br":
                    parts.append("\n")
                elif "media_not_supported" not in " ".join(ch.get("class") or ()):
                    if ch.name == "a" and (href := ch.get("href")):
                        hrefs.append(href)
                    cls._walk(ch, parts, hrefs)
            elif isinstance(ch, NavigableString) and not isinstance(ch, PreformattedString):
                parts.append(str(ch))


# --- the walk --------------------------------------------------------------------------------

_MEDIA = {
    "tgme_widget_message_photo_wrap": "photo",
    "tgme_widget_message_video_player": "video",
    "tgme_widget_message_roundvideo_player": "roundvideo",
    "tgme_widget_message_voice_player": "voice",
    "tgme_widget_message_document_wrap": "document",
    "tgme_widget_message_sticker_wrap": "sticker",
    "tgme_widget_message_poll": "poll",
    "tgme_widget_message_location_wrap": "location",
}
_HEADER = {  # class -> field, read only outside posts
    "tgme_channel_info_header_title": "title", "tgme_page_title": "title",
    "tgme_channel_info_header_username": "username",
    "tgme_channel_info_description": "description", "tgme_page_description": "description",
    "tgme_channel_info_counter": "counter", "tgme_page_extra": "counter",
    "verified-icon": "verified", "tgme_page_photo_image": "photo",
}
_POST = {  # class -> field, read only inside a post
    "tgme_widget_message_text": "text", "tgme_widget_message_views": "views",
    "tgme_widget_message_meta": "meta", "tgme_widget_message_from_author": "author",
    "tgme_widget_message_forwarded_from_name": "fwd", "tgme_widget_message_reply": "reply",
}


class _RawPost:
    __slots__ = ("data_post", "data_view", "service", "text", "hrefs", "views", "meta", "author",
                 "fwd", "fwd_href", "reply", "time", "media_kind", "media_url")

    def __init__(self, data_post: str | None, data_view: str | None, service: bool) -> None:
        self.data_post, self.data_view, self.service = data_post, data_view, service
        self.text = self.views = self.meta = self.author = self.fwd = self.fwd_href = None
        self.reply = self.time = self.media_kind = self.media_url = None
        self.hrefs: list[str] = []


def _media_url(tree, el, kind: str) -> str | None:
    if kind not in ("document", "location", "poll"):
        for sub in tree.elements(el):
            if tree.tag(sub) in ("video", "audio") and (src := tree.get(sub, "src")):
                return src
        for sub in tree.elements(el):
            style = tree.get(sub, "style")
            if style and (m := BG_URL.search(style)):
                return m.group(1)
    return tree.get(el, "href") if kind != "poll" else None


def _walk(tree, root) -> tuple[dict, list[_RawPost]]:
    head: dict = {"counters": [], "kinds": set()}
    posts: list[_RawPost] = []
    post: _RawPost | None = None
    for el in tree.elements(root):
        cls = tree.classes(el)
        if not cls:
            tag = tree.tag(el)
            if tag == "time" and post is not None and post.time is None:
                post.time = tree.get(el, "datetime")
            elif tag == "link" and tree.get(el, "rel") == "prev":
                head.setdefault("prev", tree.get(el, "href"))
            continue
        for c in cls:
            if c == "tgme_widget_message":
                post = _RawPost(tree.get(el, "data-post"), tree.get(el, "data-view"),
                                "service_message" in cls)
                posts.append(post)
            elif c in ("tgme_channel_info", "tgme_channel_history", "tgme_page"):
                head["kinds"].add(c)
            elif c == "tme_messages_more" and (b := tree.get(el, "data-before")):
                head.setdefault("before", b)
            elif c == "time" and post is not None and post.time is None:
                post.time = tree.get(el, "datetime")
            elif post is None and (key := _HEADER.get(c)):
                if key == "verified":
                    head["verified"] = True
                elif key == "photo":
                    img = next((e for e in tree.elements(el) if tree.tag(e) == "img"), None)
                    head.setdefault("photo", tree.get(img, "src") if img is not None else None)
                elif key == "counter":
                    head["counters"].append(tree.text(el)[0])
                elif key not in head:
                    head[key] = tree.text(el)[0]
            elif post is not None and (key := _POST.get(c)):
                if key == "text":
                    if post.text is None:
                        post.text, post.hrefs = tree.text(el)
                elif key == "fwd":
                    post.fwd, post.fwd_href = tree.text(el)[0], tree.get(el, "href")
                elif key == "reply":
                    post.reply = tree.get(el, "href")
                elif getattr(post, key) is None:
                    setattr(post, key, tree.text(el)[0])
            elif post is not None and post.media_kind is None and (kind := _MEDIA.get(c)):
                post.media_kind, post.media_url = kind, _media_url(tree, el, kind)
    return head, posts


# --- building the items ----------------------------------------------------------------------

def _subscribers(counters: list[str]) -> int | None:
    for text in counters:
        first = text.split(",")[0].strip()
        value, _, kind = first.rpartition(" ")
        if value and kind.lower().startswith(COUNTER_TYPES):
            return parse_count(value)
    return None


def _build(head: dict, raw: list[_RawPost], page_url: str, requested_name: str,
           recognised: bool) -> PreviewPage:
    split = urlsplit(page_url)
    base = f"{split.scheme or 'https'}://{split.netloc or 't.me'}"
    page_host = (split.hostname or "").lower()
    numeric_id = next((i for p in raw if (i := decode_data_view(p.data_view))), None)
    username = (head.get("username") or "").lstrip("@").strip()
    if not username:
        username = next((p.data_post.split("/")[0] for p in raw if p.data_post and "/" in
                         p.data_post), requested_name)
    posts: list[PostItem] = []
    for p in raw:
        name, _, ext_id = (p.data_post or "").rpartition("/")
        if p.service or not name or not ext_id:
            continue
        links = _dedupe([_absolute(page_url, h) for h in p.hrefs])
        text = p.text or ""
        mentions = [m.lower() for m in AT_MENTION.findall(text)]
        mentions += [n.lower() for u in links if (n := telegram_name(u, page_host))]
        fwd_url = _absolute(page_url, p.fwd_href) if p.fwd_href else None
        reply = urlsplit(p.reply).path.rstrip("/").rpartition("/")[2] if p.reply else None
        posts.append(PostItem(  # each post keeps its own claimed channel (name and id)
            source_key=name, external_id=ext_id, url=f"{base}/{name}/{ext_id}",
            source_numeric_id=decode_data_view(p.data_view), posted_at=parse_time(p.time),
            edited="edited" in (p.meta or ""), text=text, views=parse_count(p.views),
            forwarded_from=(fwd_url and telegram_name(fwd_url, page_host)) or p.fwd or None,
            forwarded_from_url=fwd_url, reply_to=reply or None, media_kind=p.media_kind,
            media_url=_absolute(page_url, p.media_url) if p.media_url else None,
            links=links, mentions=_dedupe(mentions), author=p.author or None,
        ))
    before = head.get("before")
    if before is None and head.get("prev"):
        before = (parse_qs(urlsplit(head["prev"]).query).get("before") or [None])[0]
    try:
        before_id = int(before) if before is not None else None
    except ValueError:
        before_id = None
    kinds = head["kinds"]
    recognised = recognised and bool(kinds or raw)
    if raw:
        status = "active"
    elif "tgme_page" in kinds and "tgme_channel_history" not in kinds:
        status = "no_preview"
    else:
        status = "empty" if recognised else "unknown"
    photo = head.get("photo")
    channel = ChannelItem(
        username=username, numeric_id=numeric_id, title=head.get("title") or None,
        description=head.get("description") or None, subscribers=_subscribers(head["counters"]),
        verified=bool(head.get("verified")), photo_url=urljoin(page_url, photo) if photo else None,
        status=status,
    )
    return PreviewPage(channel=channel, posts=posts, before=before_id, username=username,
                       recognised=recognised)


def _parse(tree, html, page_url, requested_name, encoding) -> PreviewPage:
    text = decode_body(html, encoding)
    root = tree.parse(text) if text.strip() else None
    if root is None:
        return _build({"counters": [], "kinds": set()}, [], page_url, requested_name, False)
    head, raw = _walk(tree, root)
    return _build(head, raw, page_url, requested_name, True)


def parse_preview(html: bytes | str, page_url: str, requested_name: str, *,
                  encoding: str | None = None) -> PreviewPage:
    """Parse a t.me/s/NAME page with lxml. ``encoding`` (e.g. from the HTTP header) is used for
    bytes when given; otherwise the charset is detected (see ``decode_body``). Never raises on
    malformed markup."""
    return _parse(_LxmlTree, html, page_url, requested_name, encoding)


def parse_preview_bs4(html: bytes | str, page_url: str, requested_name: str, *,
                      encoding: str | None = None) -> PreviewPage:
    """Same as :func:`parse_preview`, with BeautifulSoup's ``html.parser`` (the baseline)."""
    return _parse(_SoupTree, html, page_url, requested_name, encoding)
