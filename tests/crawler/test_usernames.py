"""Every way a username enters is checked by one function: paths, queries and look-alikes are
refused with one line, the forms people paste are accepted."""

import pytest

from crawler.usernames import UsernameError, parse_username


@pytest.mark.parametrize("raw, name", [
    ("Some_Channel", "some_channel"), ("@shop_bot", "shop_bot"),
    ("https://t.me/s/Shop_KZ/", "shop_kz"), ("t.me/shop_kz", "shop_kz"),
    ("  telegram.me/abcd ", "abcd"),
])
def test_accepted_forms(raw, name):
    assert parse_username(raw) == name


@pytest.mark.parametrize("raw", [
    "../../x", "x?before=1&y=", "seed/../x", "ѕhop_kz", "shop\nkz", "abc", "a" * 65, "",
    "shop kz", "%2e%2e",
])
def test_refused_with_one_line(raw):
    with pytest.raises(UsernameError) as caught:
        parse_username(raw)
    message = str(caught.value)
    assert "\n" not in message and "not a Telegram username" in message


def test_lookalike_named_as_such():
    with pytest.raises(UsernameError, match="non-Latin"):
        parse_username("ѕhop_kz")  # the first letter is Cyrillic dze
