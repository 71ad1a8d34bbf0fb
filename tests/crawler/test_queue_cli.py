"""`kyran queue`, `candidate`, `entity`, `watchlist` and `rescore` on a store the chain filled."""

import json

import pytest

from pipelines.chain import ProcessingChain
from tests.conftest import write_config
from tests.pipelines.test_chain import NEWS, RECRUIT_AD, SHOP_AD, channel, post, shop_channel_items


WALLET = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"

# What a hostile page may put in a title or a post to rewrite an analyst's terminal: an OSC 8
# hidden link, an OSC 52 clipboard write, a C1 control, a right-to-left override.
HOSTILE = "\x1b]8;;http://evil.example\x07click\x1b]8;;\x07 \x1b]52;c;ZXZpbA==\x07\x9b\u202e"
CONTROL = ("\x1b", "\x07", "\x9b", "\u202e")


@pytest.fixture
def filled(tmp_path, db_url, store):
    from crawler.config import load_config

    path = write_config(tmp_path / "kyran.toml", db_url)
    chain = ProcessingChain(store, load_config(path, environ={}), "component:test")
    items = shop_channel_items()
    items.append(post("kristall_shop", 9, SHOP_AD.format(price=7, bot="kristall_kz_bot") +
                      f"\nBTC: {WALLET}"))
    items += [channel("city_chat", 2, "Чат" + HOSTILE, "Общение", 50000)]
    items += [post("city_chat", i + 1, text) for i, text in enumerate(NEWS * 3)]
    items.append(post("city_chat", 99, RECRUIT_AD.format(hr="rabota_hr_kz") +
                      "\nПодробнее: https://rabota-fast.kz/join " + HOSTILE))
    chain.process(items)
    return path


def test_queue_lists_by_priority_with_reasons(kyran, filled):
    lines = [json.loads(line) for line in kyran("queue", "--json", config=filled).stdout
             .splitlines()]
    assert [line["category"] for line in lines] == ["recruitment", "sale"]
    assert lines[0]["priority"] >= lines[1]["priority"]
    assert all(line["reasons"] for line in lines)
    text = kyran("queue", config=filled).stdout
    assert "@kristall_shop" in text and "recruitment" in text
    only_sale = kyran("queue", "--category", "sale", "--json", config=filled).stdout
    assert len(only_sale.splitlines()) == 1


def test_candidate_shows_highlighted_defanged_evidence(kyran, filled):
    lines = [json.loads(line) for line in kyran("queue", "--json", config=filled).stdout
             .splitlines()]
    recruit = next(line for line in lines if line["category"] == "recruitment")
    shown = kyran("candidate", str(recruit["id"]), config=filled)
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert "«Курьер" in out or "«курьер" in out.lower()  # matched words are marked
    assert "hxxps://rabota-fast[.]kz/join" in out and "https://rabota-fast" not in out
    assert not any(c in out for c in CONTROL)  # scraped control sequences never get out
    assert "candidate.opened" in out
    assert kyran("candidate", "999", config=filled).returncode == 2


def test_entity_shows_sources_and_candidates(kyran, filled):
    out = kyran("entity", "@kristall_kz_bot", config=filled).stdout
    assert "telegram_bot @kristall_kz_bot" in out
    assert "kristall_shop: 5 posts, 5 flagged" in out
    assert "candidate #" in out
    same = kyran("entity", "t.me/kristall_kz_bot", config=filled).stdout
    assert "telegram_bot @kristall_kz_bot" in same
    assert kyran("entity", "@nobody_here", config=filled).returncode == 2
    wallet = kyran("entity", WALLET, config=filled)  # a bare wallet is not taken for a handle
    assert wallet.returncode == 0 and f"btc {WALLET}" in wallet.stdout


def test_watchlist_add_remove_priority(kyran, filled):
    assert "rabota_hr_kz" in kyran("watchlist", config=filled).stdout  # discovered
    assert kyran("watchlist", "add", "https://t.me/new_one_kz", "--priority", "80",
                 config=filled).returncode == 0
    listing = [line.split() for line in kyran("watchlist", config=filled).stdout.splitlines()]
    assert ["80", "telegram", "channel", "new_one_kz"] in [row[:4] for row in listing]
    priorities = [int(row[0]) for row in listing]
    assert priorities == sorted(priorities, reverse=True)
    assert kyran("watchlist", "priority", "new_one_kz", "10", config=filled).returncode == 0
    assert kyran("watchlist", "remove", "new_one_kz", config=filled).returncode == 0
    assert "new_one_kz" not in kyran("watchlist", config=filled).stdout
    assert "(not watched)" in kyran("watchlist", "--all", config=filled).stdout


def test_rescore_reports_what_changed(kyran, filled):
    result = kyran("rescore", config=filled)
    assert result.returncode == 0, result.stderr
    assert "posts: 21" in result.stdout


def test_every_listing_strips_control_sequences(kyran, filled):
    for command in (["queue"], ["sources"], ["posts", "--source", "city_chat"], ["watchlist"],
                    ["entity", "@rabota_hr_kz"]):
        out = kyran(*command, config=filled).stdout
        assert out.strip() and not any(c in out for c in CONTROL), command
