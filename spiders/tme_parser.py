"""Parser for Telegram's public web preview pages (``https://t.me/s/NAME``).

``parse_preview`` turns one page into a :class:`PreviewPage`: the channel as its header shows it
(``ChannelItem``), its posts oldest first (``PostItem``), the id to page back with ``?before=``,
and the username the page itself shows (which differs from the requested one after a rename).

How it works: the document is parsed once and walked once in document order. Every element's
class tokens are looked up in a small table (``_HANDLERS``); the Telegram class names are the
whole contract with the markup (see ``shared/reference/telegram-preview`` and
``crawler/fixtures/tme_pages.py``). The walk is written against a four-method tree adapter
(``spiders.tme_trees``), so the same extraction runs over lxml (``parse_preview``, the fast one)
and over BeautifulSoup's ``html.parser`` (``parse_preview_bs4``, the benchmark baseline and a
cross-check in tests).

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
- A page whose posts cannot all be accounted for has ``complete=False`` and a ``problem``: the
  document is cut short (it does not end with ``</html>``), fewer posts were read than the markup
  announces (``data-post`` attributes: libxml2 silently drops everything nested deeper than 256),
  lxml reports a resource limit, or a post's id cannot be read. The crawl must not move its
  cursor past such a page. (``html.parser`` has no depth limit, so on such pages the two
  adapters may differ.)
- Names come from the page author: the header's username and the names in ``data-post`` are
  used only when ``crawler.usernames`` accepts them (else the requested name), and post ids only
  when they are plain numbers (``spiders.tme_ids``); ``newest``/``oldest`` are the ids in line
  with the page, the only ones fit to move the crawl cursor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urljoin, urlsplit

from crawler.items import ChannelItem, PostItem
from crawler.usernames import UsernameError, parse_username
from spiders.tme_ids import in_line, post_id
from spiders.tme_trees import LxmlTree, SoupTree
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
    username: str = ""  # the channel's username as the page shows it (when valid)
    claimed_username: str = ""  # the header's username as written, valid or not ("": none)
    recognised: bool = True  # False: the document did not look like a t.me page at all
    complete: bool = True  # False: some posts of the page could not be read (see ``problem``)
    problem: str | None = None  # why the page is not complete, one line
    newest: int | None = None  # highest post id in line with the page (may move the cursor)
    oldest: int | None = None  # lowest post id in line with the page (page back from here)


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _absolute(page_url: str, href: str) -> str:
    if href.startswith(("https://", "http://")):
        return href
    try:
        return urljoin(page_url, href)
    except ValueError:  # e.g. "//[::1": an invalid address is kept as written
        return href


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


def _query_id(url: str | None, key: str) -> int | None:
    try:
        return post_id((parse_qs(urlsplit(url).query).get(key) or [None])[0]) if url else None
    except ValueError:
        return None


def _reply_id(href: str | None) -> str | None:
    if not href:
        return None
    try:
        return urlsplit(href).path.rstrip("/").rpartition("/")[2] or None
    except ValueError:
        return None


def _valid_name(name: str) -> str | None:
    """``name`` as written when it is a username (``crawler.usernames``), else None."""
    try:
        return name if parse_username(name) == name.lower() else None
    except UsernameError:
        return None


def _username(head: dict, raw: list[_RawPost], requested_name: str) -> str:
    """The header's username if valid; without a header, the first valid ``data-post`` name;
    else the name that was asked for."""
    shown = (head.get("username") or "").strip()
    if shown:
        return _valid_name(shown.removeprefix("@")) or requested_name
    names = (p.data_post.rpartition("/")[0] for p in raw if p.data_post)
    return next((n for n in names if n and _valid_name(n)), requested_name)


_ANNOUNCED = re.compile(r"<[a-z][^<>]*?\sdata-post\s*=", re.IGNORECASE)


def _cut_short(text: str) -> bool:
    """Whether the document stops before its end (``</html>``, then only blanks and comments)."""
    end = text[-4096:].rstrip()  # the tail only: copying a whole page costs more than parsing it
    while end.endswith("-->") and (start := end.rfind("<!--")) >= 0:
        end = end[:start].rstrip()
    if not end and len(text) > 4096:
        return _cut_short(text[:-4096])
    return end[-7:].lower() != "</html>"


def _announced(text: str, read: int) -> int:
    """How many posts the markup announces: tags with a ``data-post`` attribute. The exact
    count (not fooled by post text that mentions ``data-post=``) only when a plain count says
    there may be more than were read."""
    plain = text.count("data-post=")
    return len(_ANNOUNCED.findall(text)) if plain > read else plain


def _build(head: dict, raw: list[_RawPost], page_url: str, requested_name: str,
           recognised: bool, problems: list[str], document: str = "") -> PreviewPage:
    split = urlsplit(page_url)
    base = f"{split.scheme or 'https'}://{split.netloc or 't.me'}"
    page_host = (split.hostname or "").lower()
    numeric_id = next((i for p in raw if (i := decode_data_view(p.data_view))), None)
    username = _username(head, raw, requested_name)
    posts: list[PostItem] = []
    ids: list[int] = []  # every readable id, service messages too, page order
    seen: set[int] = set()
    names: dict[str, str] = {}  # data-post name -> the name used in URLs (checked once a page)
    read = unreadable = 0
    for p in raw:
        if p.data_post is None:
            unreadable += not p.service
            continue
        read += 1
        name, _, raw_id = p.data_post.rpartition("/")
        pid = post_id(raw_id)
        if pid is None:
            unreadable += 1
            continue
        if pid in seen:  # the same post twice: the first one counts
            continue
        seen.add(pid)
        ids.append(pid)
        if p.service:
            continue
        claimed = name  # as written: the spider compares it with the name it asked for
        if name not in names:
            names[name] = _valid_name(name) or username
        name = names[name]
        links = _dedupe([_absolute(page_url, h) for h in p.hrefs])
        text = p.text or ""
        mentions = [m.lower() for m in AT_MENTION.findall(text)]
        mentions += [n.lower() for u in links if (n := telegram_name(u, page_host))]
        fwd_url = _absolute(page_url, p.fwd_href) if p.fwd_href else None
        posts.append(PostItem(  # each post keeps the channel it claims (name and id)
            source_key=claimed, external_id=str(pid), url=f"{base}/{name}/{pid}",
            source_numeric_id=decode_data_view(p.data_view), posted_at=parse_time(p.time),
            edited="edited" in (p.meta or ""), text=text, views=parse_count(p.views),
            forwarded_from=(fwd_url and telegram_name(fwd_url, page_host)) or p.fwd or None,
            forwarded_from_url=fwd_url, reply_to=_reply_id(p.reply), media_kind=p.media_kind,
            media_url=_absolute(page_url, p.media_url) if p.media_url else None,
            links=links, mentions=_dedupe(mentions), author=p.author or None,
        ))
    announced = _announced(document, read)
    if announced > read:
        problems.append(f"{announced - read} of the {announced} posts it announces were not read")
    if unreadable:
        problems.append(f"{unreadable} post(s) without a readable id")
    before = post_id(head.get("before")) if "before" in head else _query_id(head.get("prev"),
                                                                             "before")
    line = in_line(ids, _query_id(page_url, "before"))
    kinds = head["kinds"]
    recognised = recognised and bool(kinds or raw)
    if raw:
        status = "active"
    elif problems:
        status = "unknown"  # cut before its posts: that says nothing about the channel
    elif "tgme_page" in kinds and "tgme_channel_history" not in kinds:
        status = "no_preview"
    else:
        status = "empty" if recognised else "unknown"
    photo = head.get("photo")
    channel = ChannelItem(
        username=username, numeric_id=numeric_id, title=head.get("title") or None,
        description=head.get("description") or None, subscribers=_subscribers(head["counters"]),
        verified=bool(head.get("verified")), status=status,
        photo_url=_absolute(page_url, photo) if photo else None,
    )
    claimed = (head.get("username") or "").strip().removeprefix("@")
    return PreviewPage(channel=channel, posts=posts, before=before, username=username,
                       claimed_username=claimed, recognised=recognised, complete=not problems,
                       problem="; ".join(problems) or None,
                       newest=line[-1] if line else None, oldest=line[0] if line else None)


def _parse(tree, html, page_url, requested_name, encoding) -> PreviewPage:
    text = decode_body(html, encoding)
    root, problem = tree.parse(text) if text.strip() else (None, None)
    if root is None:
        return _build({"counters": [], "kinds": set()}, [], page_url, requested_name, False,
                      ["not an HTML page"])
    problems = ["the page is cut short (it does not end with </html>)"] if _cut_short(text) else []
    if problem:
        problems.append(problem)
    try:
        head, raw = _walk(tree, root)
    except RecursionError:  # html.parser has no depth limit; the text walk recurses
        head, raw = {"counters": [], "kinds": set()}, []
        problems.append("the page is nested too deep to read")
    return _build(head, raw, page_url, requested_name, True, problems, text)


def parse_preview(html: bytes | str, page_url: str, requested_name: str, *,
                  encoding: str | None = None) -> PreviewPage:
    """Parse a t.me/s/NAME page with lxml. ``encoding`` (e.g. from the HTTP header) is used for
    bytes when given; otherwise the charset is detected (see ``decode_body``). Never raises on
    malformed markup."""
    return _parse(LxmlTree, html, page_url, requested_name, encoding)


def parse_preview_bs4(html: bytes | str, page_url: str, requested_name: str, *,
                      encoding: str | None = None) -> PreviewPage:
    """Same as :func:`parse_preview`, with BeautifulSoup's ``html.parser`` (the baseline)."""
    return _parse(SoupTree, html, page_url, requested_name, encoding)
