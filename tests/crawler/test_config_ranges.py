"""Every number in the configuration is finite and in a sensible range, and every site selector
compiles, or the configuration is refused on load with one line naming the key."""

import json

import pytest
from pydantic import BaseModel

from crawler.config import ConfigError, KyranConfig, SiteTarget, load_config

TARGET = {"start_urls": ["http://127.0.0.1:9/"]}


def numeric_keys(model: type[BaseModel], prefix: str = ""):
    """(dotted key, type) of every int or float field, through nested sections."""
    for name, field in model.model_fields.items():
        kind = field.annotation
        args = getattr(kind, "__args__", ())
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            yield from numeric_keys(kind, f"{prefix}{name}.")
        elif kind in (int, float) or set(args) & {int, float}:
            yield f"{prefix}{name}", float if (kind is float or float in args) else int


def toml_for(key: str, value: str) -> str:
    section, name = key.rsplit(".", 1)
    if section == "sites.bazar":
        return f"[sites.bazar]\nstart_urls = {json.dumps(TARGET['start_urls'])}\n{name} = {value}\n"
    return f"[{section}]\n{name} = {value}\n"


KEYS = list(numeric_keys(KyranConfig)) + [
    (f"sites.bazar.{key}", kind) for key, kind in numeric_keys(SiteTarget)]


def test_the_walk_finds_the_keys_of_the_issue():
    names = {key for key, _ in KEYS}
    assert {"crawl.download_delay", "crawl.download_timeout", "store.write_timeout",
            "sites.bazar.download_delay", "detection.score_midpoint"} <= names
    assert len(names) > 25


@pytest.mark.parametrize("key,kind", KEYS, ids=[key for key, _ in KEYS])
def test_no_numeric_key_accepts_an_absurd_value(tmp_path, key, kind):
    """`download_delay = inf` (or 1e12) made a crawl that never fetched: every number of every
    section is refused when it is not finite or far out of range, naming the key."""
    path = tmp_path / "kyran.toml"
    values = ["1e12", "-1e12"] + (["inf", "nan", "-inf"] if kind is float else [
        "1_000_000_000_000"])
    for value in values:
        path.write_text(toml_for(key, value), encoding="utf-8")
        with pytest.raises(ConfigError) as caught:
            load_config(path, environ={})
        message = str(caught.value)
        assert f": {key}:" in message and "\n" not in message, (value, message)


def test_a_sensible_value_still_loads(tmp_path):
    path = tmp_path / "kyran.toml"
    path.write_text("[crawl]\ndownload_delay = 2.5\ndownload_timeout = 30\n"
                    "[store]\nwrite_timeout = 60\nstatement_timeout = 120\n", encoding="utf-8")
    config = load_config(path, environ={})
    assert (config.crawl.download_delay, config.store.write_timeout) == (2.5, 60)


def test_an_infinite_delay_from_the_environment_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="KYRAN_CRAWL__DOWNLOAD_DELAY: crawl.download_delay"):
        load_config(environ={"KYRAN_CRAWL__DOWNLOAD_DELAY": "inf"})


SELECTOR_KEYS = ["follow", "next_page", "item", "text", "title", "author", "date", "price",
                 "item_id"]
BAD = ["xpath://div[", "xpath:count(", "xpath:", "div[[", "a::attr(", "", "p >> q"]


@pytest.mark.parametrize("key", SELECTOR_KEYS)
@pytest.mark.parametrize("bad", BAD)
def test_an_invalid_selector_is_refused_on_load(tmp_path, key, bad):
    """An invalid XPath used to be accepted and then fail on every page."""
    value = [bad] if key == "follow" else bad
    path = tmp_path / "kyran.toml"
    path.write_text(toml_for(f"sites.bazar.{key}", json.dumps(value)), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    message = str(caught.value)
    assert f"sites.bazar.{key}" in message and "not a valid" in message and "\n" not in message


def test_valid_selectors_of_both_kinds_load(tmp_path):
    path = tmp_path / "kyran.toml"
    path.write_text(toml_for("sites.bazar.item", '"article.ad"') + 'text = "xpath://div[@class]"\n'
                    'item_id = "::attr(data-id)"\ntitle = "h1::text"\n'
                    'follow = ["a.cat", "xpath://a[contains(@href, \'/ad/\')]/@href"]\n',
                    encoding="utf-8")
    site = load_config(path, environ={}).sites["bazar"]
    assert site.text == "xpath://div[@class]" and len(site.follow) == 2
