"""`kyran queue`, `candidate`, `entity`, `watchlist` and `rescore` on a store the chain filled."""

import json

from tests.crawler.conftest import CONTROL, WALLET


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
