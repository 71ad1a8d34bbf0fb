"""The preview parser on pages that are cut short, nested too deep, or written by someone hostile:
it never raises, says when a page's posts cannot all be accounted for, keeps only valid names,
and never offers an id out of line with the page as the crawl cursor."""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.fixtures.tme_pages import FakeChannel, FakePost, render_channel_page
from crawler.fixtures.tme_world import FakeTelegram
from crawler.usernames import is_username
from spiders.tme_ids import cursor_is_absurd, in_line, post_id
from spiders.tme_parser import decode_data_view, parse_count, parse_preview, parse_preview_bs4
from spiders.tme_values import parse_time

PARSERS = [parse_preview, parse_preview_bs4]
URL = "https://t.me/s/steppe_news"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
CH = FakeChannel(username="steppe_news", numeric_id=1234567890, title="Степь", subscribers=10)


def page_bytes(n: int = 20, first: int = 1, before: int | None = None) -> bytes:
    posts = [FakePost(i, T0 + timedelta(hours=i), f"пост {i}", views=i)
             for i in range(first, first + n)]
    return render_channel_page(CH, posts, before if before is not None else first).encode()


def ids(page) -> list[int]:
    return [int(p.external_id) for p in page.posts]


def at_post(body: bytes, pid: int) -> int:
    """Where the wrapper of post ``pid`` starts."""
    i = body.index(f'data-post="steppe_news/{pid}"'.encode())
    return body.rindex(b'<div class="tgme_widget_message_wrap', 0, i)


# --- whole pages and pages that are not -------------------------------------------------------

@pytest.mark.parametrize("parser", PARSERS)
def test_a_whole_page_is_complete(parser):
    page = parser(page_bytes(), URL, "steppe_news")
    assert page.complete and page.problem is None
    assert (page.oldest, page.newest, len(page.posts)) == (1, 20, 20)


@pytest.mark.parametrize("parser", PARSERS)
def test_every_cut_before_the_end_is_an_incomplete_page(parser):
    body = page_bytes()
    end = body.rindex(b"</html>") + len(b"</html>")
    for cut in list(range(0, end, 211)) + [end - 1]:
        page = parser(body[:cut], URL, "steppe_news")
        assert not page.complete, cut
        assert page.problem
    for tail in (b"", b"\n", b"\n<!-- page generated in 113.75ms -->\n"):
        assert parser(body[:end] + tail, URL, "steppe_news").complete


@pytest.mark.parametrize("depth", [300, 5000])
@pytest.mark.parametrize("where", ["between posts", "inside a post", "in the header"])
def test_nesting_deeper_than_libxml2_allows_is_an_incomplete_page(depth, where):
    body = page_bytes()
    at = {"between posts": at_post(body, 10),
          "inside a post": body.index(b"\xd0\xbf\xd0\xbe\xd1\x81\xd1\x82 7<"),  # "пост 7"
          "in the header": body.index(b'<div class="tgme_channel_info_description')}[where]
    deep = body[:at] + b"<div>" * depth + b"x" + b"</div>" * depth + body[at:]
    page = parse_preview(deep, URL, "steppe_news")
    assert not page.complete and "gave up" in page.problem
    assert ids(page) == list(range(1, len(page.posts) + 1))  # what was read is kept
    for parser in PARSERS:  # neither raises, whatever the depth
        parser(deep, URL, "steppe_news")


def test_fewer_posts_read_than_announced_is_an_incomplete_page():
    body = page_bytes(3)
    stray = b'<span data-post="steppe_news/99">'  # a post the walk does not see as one
    head, _, tail = body.rpartition(b"</section>")
    page = parse_preview(head + stray + b"</span></section>" + tail, URL, "x")
    assert not page.complete and "1 of the 4 posts" in page.problem
    hostile_text = render_channel_page(
        CH, [FakePost(1, T0, 'see data-post="steppe_news/5" and < data-post=')], 1)
    assert parse_preview(hostile_text, URL, "x").complete  # text is not markup


@pytest.mark.parametrize("parser", PARSERS)
@pytest.mark.parametrize("bad", ["abc", "", "12a", "-5", "0", "1e3", "٣", "１２", "9" * 20,
                                 str(2**63)])
def test_a_post_whose_id_cannot_be_read_is_dropped_and_the_page_is_incomplete(parser, bad):
    body = page_bytes(5).replace(b'data-post="steppe_news/3"',
                                 f'data-post="steppe_news/{bad}"'.encode())
    page = parser(body, URL, "steppe_news")
    assert ids(page) == [1, 2, 4, 5]
    assert not page.complete and "without a readable id" in page.problem


@pytest.mark.parametrize("parser", PARSERS)
def test_the_same_post_twice_is_read_once(parser):
    body = page_bytes(3)
    second = body[at_post(body, 2):at_post(body, 3)]
    page = parser(body.replace(second, second * 2), URL, "steppe_news")
    assert ids(page) == [1, 2, 3] and page.complete


# --- values that used to raise ----------------------------------------------------------------

def b64(obj) -> str:
    raw = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return base64.b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize("view", [
    b64(b'{"c":-1e999}'), b64(b'{"c":1e999}'), b64(b'{"c":NaN}'), b64({"c": True}),
    b64({"c": -1.5}), b64({"c": "-100"}), b64({"c": -(2**63)}), b64({"c": 0}), b64([1]),
    b64(b'{"c":' + b"[" * 100_000 + b"]" * 100_000 + b"}"), b64(b"[" * 100_000),
    b64(b"\xff\xfe"), "%%%",
])
def test_data_view_that_is_not_a_channel_id_is_none(view):
    assert decode_data_view(view) is None
    body = page_bytes(2)
    good = re.search(rb'data-view="([^"]*)"', body).group(1)
    page = parse_preview(body.replace(good, view.encode()), URL, "steppe_news")
    assert ids(page) == [1, 2] and page.channel.numeric_id == CH.numeric_id


@pytest.mark.parametrize("parser", PARSERS)
@pytest.mark.parametrize("charset", ["undefined", "idna", "unicode_escape", "zlib", "rot13"])
def test_a_declared_charset_that_cannot_decode_text_does_not_raise(parser, charset):
    body = page_bytes(2).replace(b'<meta charset="utf-8">', f'<meta charset="{charset}">'.encode())
    body = body.replace("пост 1".encode(), "пост 1".encode("windows-1251"))  # not UTF-8 now
    assert ids(parser(body, URL, "steppe_news")) == [1, 2]
    assert ids(parser(page_bytes(2), URL, "steppe_news", encoding=charset)) == [1, 2]


@pytest.mark.parametrize("text", ["Infinity", "NaN", "1e999999999", "1E5K", "١٢٣", "9" * 30,
                                  "-5", "1.2.3M"])
def test_counters_that_are_not_plain_numbers_are_none(text):
    assert parse_count(text) is None


@pytest.mark.parametrize("value", ["9999-12-31T23:00-05:00", "0001-01-01T00:30+05:00",
                                   "9999-12-31T23:59:59-23:59", "0001-01-01T00:00+23:59"])
@pytest.mark.parametrize("parser", PARSERS)
def test_a_date_that_overflows_in_utc_leaves_the_post_with_an_unknown_date(parser, value):
    assert parse_time(value) is None
    body = page_bytes(3).replace(T0.replace(hour=14).isoformat().encode(), value.encode())
    page = parser(body, URL, "steppe_news")
    assert [p.posted_at for p in page.posts] == [T0 + timedelta(hours=1), None,
                                                 T0 + timedelta(hours=3)]
    assert page.complete


def test_dates_are_given_in_utc():
    assert parse_time("2026-01-01T03:00+03:00") == datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert parse_time("2026-01-01T03:00+03:00").utcoffset() == timedelta(0)
    assert parse_time("0001-01-01T00:00+00:00").year == 1


# --- names the page author controls -------------------------------------------------------------

@pytest.mark.parametrize("shown", ["@../../x", "@victim?before=1&y=", "@vісtіm_chan",  # Cyrillic і
                                   "@a b", "@x", "@" + "a" * 65, "@victim\nchan", "@ok/../evil"])
@pytest.mark.parametrize("parser", PARSERS)
def test_a_header_username_that_is_not_a_username_is_not_reported(parser, shown):
    body = page_bytes(2).replace(b">@steppe_news<", b">" + shown.encode() + b"<")
    page = parser(body, "https://t.me/s/asked_for", "asked_for")
    assert page.username == page.channel.username == "asked_for"
    # each post keeps the channel its data-post claims, for the spider to compare with the request
    assert {p.source_key for p in page.posts} == {"steppe_news"}


@pytest.mark.parametrize("parser", PARSERS)
def test_a_valid_header_username_is_reported(parser):
    body = page_bytes(2).replace(b">@steppe_news<", b">@Other_Chan<")
    assert parser(body, URL, "asked_for").username == "Other_Chan"


@pytest.mark.parametrize("name", ["../../s/internal", "t.me/victim", "vісtіm", "a?b=1", ""])
@pytest.mark.parametrize("parser", PARSERS)
def test_post_names_that_are_not_usernames_do_not_reach_urls(parser, name):
    body = page_bytes(2).replace(b'data-post="steppe_news/2"', f'data-post="{name}/2"'.encode())
    page = parser(body, "https://t.me/s/steppe_news", "steppe_news")
    assert [p.url for p in page.posts] == ["https://t.me/steppe_news/1",
                                           "https://t.me/steppe_news/2"]
    no_header = re.sub(rb'<div class="tgme_channel_info_header_username">.*?</div>', b"",
                       body.replace(b'data-post="steppe_news/1"', f'data-post="{name}/1"'.encode()))
    assert parser(no_header, URL, "asked_for").username == "asked_for"


# --- ids in line with the page ----------------------------------------------------------------

@pytest.mark.parametrize("page_ids, below, newest, oldest", [
    (list(range(100, 120)), None, 119, 100),
    (list(range(100, 120)) + [9_000_000_000], None, 119, 100),  # bogus newest
    ([100, 101, 9_000_000_000] + list(range(102, 120)), None, 119, 100),  # out of order
    ([9_000_000_000] + list(range(100, 120)), None, 119, 100),  # first, out of order
    ([1] + list(range(10**5, 10**5 + 20)), None, 10**5 + 19, 10**5),  # bogus low: not paged
    ([1] + list(range(100, 120)), None, 119, 1),  # 98 posts deleted: in line
    (list(range(100, 120)) + [130], None, 130, 100),  # a few deleted posts: in line
    ([100, 130, 101, 102, 103], None, 103, 100),
    (list(range(100, 120)), 110, 109, 100),  # asked ?before=110: 110 and up are out of line
    ([5, 9_000_000_000], None, 5, 5),  # no way to tell: the lower one, to be safe
    ([7], None, 7, 7),
    (list(range(0, 20_000, 500)), None, 19_500, 0),  # a channel that deletes a lot
])
def test_ids_in_line(page_ids, below, newest, oldest):
    line = in_line(page_ids, below)
    assert (line[-1], line[0]) == (newest, oldest)


def test_ids_in_line_of_a_huge_page_are_quick():
    assert in_line(list(range(200_000, 0, -1)) + list(range(1, 200_000))) == list(
        range(1, 200_000))


def test_post_ids_are_plain_numbers():
    assert [post_id(s) for s in ("1", "0042", str(2**63 - 1))] == [1, 42, 2**63 - 1]
    assert [post_id(s) for s in (None, "", "0", "٣", "1 ", "+1", str(2**63))] == [None] * 7


def test_a_cursor_far_above_the_newest_page_is_absurd():
    shown = list(range(100, 120))
    assert cursor_is_absurd(9_000_000_000, shown)
    assert not cursor_is_absurd(119, shown) and not cursor_is_absurd(150, shown)  # deletions
    assert not cursor_is_absurd(5, shown) and not cursor_is_absurd(5, [])


@pytest.mark.parametrize("parser", PARSERS)
def test_a_bogus_id_on_the_page_is_stored_but_not_the_newest(parser):
    body = page_bytes(5, first=100).replace(b'data-post="steppe_news/104"',
                                           b'data-post="steppe_news/9000000000"')
    page = parser(body, URL, "steppe_news")
    assert ids(page) == [100, 101, 102, 103, 9_000_000_000]
    assert (page.newest, page.oldest, page.complete) == (103, 100, True)


def test_a_page_asked_before_an_id_reports_only_older_ids_in_line():
    body = page_bytes(5, first=100)
    page = parse_preview(body, URL + "?before=102", "steppe_news")
    assert (page.oldest, page.newest) == (100, 101)
    itself = parse_preview(body, URL + "?before=100", "steppe_news")
    assert itself.oldest is None and itself.newest is None and len(itself.posts) == 5


# --- hostile mutations of a real page never make the parser raise -----------------------------

WORLD_PAGE = FakeTelegram.generate(seed=5, channels=1, posts_per_channel=20).page(
    FakeTelegram.generate(seed=5, channels=1, posts_per_channel=20).channels[0].username)[2]
SNIPPETS = [
    b"<div>" * 300, b"</div>" * 50, b'data-post="x/abc"', b'data-post="../../evil/1"',
    b'data-view="' + b64(b'{"c":-1e999}').encode() + b'"', b'<time datetime="9999-12-31T23:00-05:00">',
    b'<time datetime="0001-01-01T00:30+05:00">', b'data-before="-1"', b'data-before="9' * 3,
    b'<a href="//[::1">x</a>', b'<a href="http://[bad">', b"<!--", b"<script>", b"\x00", b"\xff\xfe",
    b'class="tgme_widget_message"', b'class="tgme_channel_info_header_username">@../x<',
    b'<span class="tgme_widget_message_views">Infinity</span>', b"&#xD800;", b"<![CDATA[",
    b'<link rel="prev" href="http://[::1?before=1">', b'<meta charset="undefined">\xff',
    b'<a class="tgme_widget_message_reply" '
    b'href="http://[x">',
]


@st.composite
def mutated(draw):
    body = WORLD_PAGE
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(body)))
        kind = draw(st.sampled_from(["insert", "delete", "cut", "repeat"]))
        if kind == "insert":
            body = body[:at] + draw(st.sampled_from(SNIPPETS)) + body[at:]
        elif kind == "delete":
            body = body[:at] + body[at + draw(st.integers(1, 400)):]
        elif kind == "cut":
            body = body[:at]
        else:
            body = body[:at] + body[at:at + draw(st.integers(1, 400))] * 2 + body[at:]
    return body


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_hostile_mutations_never_raise_and_keep_the_promises(body):
    for parser in PARSERS:
        page = parser(body, "https://t.me/s/asked_for?before=1000", "asked_for")
        assert page.username == "asked_for" or is_username(page.username)
        for post in page.posts:
            assert post.external_id.isascii() and post.external_id.isdigit()
            assert post.url.startswith("https://t.me/") and "/../" not in post.url
            assert post.posted_at is None or post.posted_at.utcoffset() == timedelta(0)
        if page.newest is not None:
            assert page.oldest <= page.newest < 1000
        assert page.complete == (page.problem is None)
