"""Input a user or a configuration controls: every Telegram username is checked where it enters
(command line, `--file`, configured seeds, `watchlist add`) by the one username check, refused
in one line per bad name and before any request; nothing that is not a username reaches a URL."""

import pytest

from crawler.config import ConfigError, load_config
from crawler.fixtures.server import FixtureServer
from tests.conftest import write_config

HTML = [("Content-Type", "text/html; charset=utf-8")]
BAD = ["../../x", "x?before=1&y=", "seed/../x", "ѕhop_kz", "kristall%2fshop", "a b c d",
       "t.me/s/../../internal", "shop\u200bkz"]


@pytest.fixture
def preview():
    """A stand-in for t.me that records every request (and has no channels)."""
    with FixtureServer(lambda method, target, headers: (404, HTML, b"")) as server:
        yield server


def config_for(tmp_path, db_url, server, channels=()):
    listed = ", ".join(f'"{name}"' for name in channels)
    return write_config(tmp_path / "kyran.toml", db_url,
                        f'[telegram_preview]\nbase_url = "{server.url}"\nchannels = [{listed}]\n')


def assert_refused(result, bad_names):
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    for name in bad_names:
        assert sum(ascii(name) in line for line in result.stderr.splitlines()) == 1, name


def test_bad_names_on_the_command_line_are_refused_before_any_request(kyran, tmp_path,
                                                                      db_url, preview):
    config = config_for(tmp_path, db_url, preview)
    result = kyran("crawl", "telegram", "good_name", *BAD, config=config)
    assert_refused(result, BAD)
    assert "not a Telegram username" in result.stderr and "nothing was crawled" in result.stderr
    assert preview.requests == []


def test_every_bad_line_of_the_file_is_reported_with_its_number(kyran, tmp_path, db_url,
                                                                preview):
    listing = tmp_path / "channels.txt"
    listing.write_text("# seeds\ngood_name\n" + "\n".join(f"{name}  # why" for name in BAD)
                       + "\n\nother_good\n", encoding="utf-8")
    result = kyran("crawl", "telegram", "--file", str(listing),
                   config=config_for(tmp_path, db_url, preview))
    assert_refused(result, BAD)
    for number, name in enumerate(BAD, 3):
        assert f"{listing} line {number}: {ascii(name)} is not a Telegram username" \
            in result.stderr
    assert preview.requests == []


def test_a_file_that_is_not_utf8_is_one_line(kyran, tmp_path, db_url, preview):
    listing = tmp_path / "channels.txt"
    listing.write_bytes(b"good_name\n\xff\xfebad\n")
    result = kyran("crawl", "telegram", "--file", str(listing),
                   config=config_for(tmp_path, db_url, preview))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"Error: {listing} line 2: not UTF-8 text"]
    assert preview.requests == []


@pytest.mark.parametrize("bad", BAD)
def test_a_bad_seed_channel_is_a_configuration_error_naming_the_key(tmp_path, bad):
    path = tmp_path / "kyran.toml"
    path.write_text(f'[telegram_preview]\nchannels = ["good_name", "{bad}"]\n',
                    encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    message = str(caught.value)
    assert message.startswith(f"{path}: telegram_preview.channels: [1]: {ascii(bad)} is not a")
    assert "\n" not in message


def test_seed_channels_are_stored_as_usernames(tmp_path):
    path = tmp_path / "kyran.toml"
    path.write_text('[telegram_preview]\nchannels = ["@Shop_KZ", "https://t.me/s/News_KZ/"]\n')
    assert load_config(path, environ={}).telegram_preview.channels == ["shop_kz", "news_kz"]


def test_a_crawl_of_bad_seeds_stops_before_any_request(kyran, tmp_path, db_url, preview):
    result = kyran("crawl", "telegram", config=config_for(tmp_path, db_url, preview,
                                                          ["good_name", "../../x"]))
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "configuration error" in line and "telegram_preview.channels: [1]" in line
    assert preview.requests == []


def test_watchlist_add_refuses_what_is_not_a_username(kyran, tmp_path, db_url, store, preview):
    config = config_for(tmp_path, db_url, preview)
    for bad in BAD:
        result = kyran("watchlist", "add", "fine_name", bad, config=config)
        assert result.returncode == 2, bad
        assert result.stderr.strip().splitlines() == [
            f"Error: {ascii(bad)} is not a Telegram username "
            f"({'non-Latin letters (look-alikes?)' if 'ѕ' in bad else 'only A-Z, 0-9 and _'});"
            " nothing was added"]
    assert kyran("watchlist", "--all", config=config).stdout.strip() == ""
    added = kyran("watchlist", "add", "https://t.me/s/Fine_Name/", "@other_one", config=config)
    assert added.returncode == 0, added.stderr
    assert added.stdout.splitlines() == ["watching @fine_name", "watching @other_one"]
