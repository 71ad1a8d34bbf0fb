"""What an analyst's terminal shows of scraped text: JSON output escapes every control, format
and separator character (keeping ordinary non-ASCII text readable and the data exact), and no
title or other one-line field can forge a row or a line of a listing."""

import json
import unicodedata

import pytest

from crawler.defang import json_line, one_line
from tests.crawler.conftest import BREAKS, CITY_TITLE, CONTROL, HOSTILE

READABLE = "Чат 🇰🇿 Қала"  # Cyrillic, Kazakh letters and an emoji flag stay as they are


def raw_unsafe(text: str) -> list[str]:
    """Characters a JSON line must not carry raw (everything else may stay readable)."""
    return [ch for ch in text if ch not in "\n" and unicodedata.category(ch) in (
        "Cc", "Cf", "Zl", "Zp") and ch not in "\u200d\ufe0f"]


@pytest.mark.parametrize("value", [
    HOSTILE, "\x80\x85\x9f\x7f", "\u2028\u2029", "\u200e\u200f\u061c\u2066\u2069",
    "\U000e0041 tag", "\ufeff bom", READABLE + " 👩\u200d💻",
])
def test_json_line_escapes_what_moves_or_hides_text_and_keeps_the_data(value):
    line = json_line({"text": value, "n": 1})
    assert raw_unsafe(line) == [] and "\n" not in line
    assert json.loads(line) == {"text": value, "n": 1}  # exactly the stored text, escaped


def test_json_line_keeps_ordinary_text_readable():
    assert READABLE in json_line({"title": READABLE})


@pytest.mark.parametrize("value", ["a\nb", "a\r\nb", "a\u2028b", "a\u2029b", "a\x85b",
                                   "a\x0bb", "a\x0cb", "a\x1cb", "a\tb", "a" + HOSTILE + "b"])
def test_one_line_folds_every_line_break(value):
    folded = one_line(value)
    assert len(folded.splitlines()) == 1 and not any(c in folded for c in CONTROL)


@pytest.mark.parametrize("command", [["sources", "--json"], ["queue", "--json"],
                                     ["posts", "--json", "--source", "city_chat"]])
def test_every_json_listing_escapes_controls(kyran, filled, command):
    result = kyran(*command, config=filled)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() and raw_unsafe(result.stdout) == [], command
    records = [json.loads(line) for line in result.stdout.splitlines()]
    if command[0] == "sources":
        city = next(r for r in records if r["handle"] == "city_chat")
        assert city["title"] == CITY_TITLE  # the data is whole, only escaped
        assert READABLE in result.stdout
    if command[0] == "posts":
        assert any(HOSTILE in r["text"] for r in records)


def test_a_title_cannot_forge_a_row_of_sources(kyran, filled):
    sources = kyran("sources", "--json", config=filled).stdout.splitlines()
    table = kyran("sources", config=filled).stdout
    assert len(table.splitlines()) == 1 + len(sources)  # a header and one row per source
    assert not any(c in table for c in BREAKS + CONTROL)
    city = next(line for line in table.splitlines() if "city_chat" in line)
    assert READABLE in city


def test_a_title_cannot_forge_a_line_of_the_queue_or_a_candidate(kyran, filled):
    views = [json.loads(line) for line in kyran("queue", "--json", config=filled).stdout
             .splitlines()]
    assert any("forged" in v["subject"] for v in views)  # the city chat is a subject
    listing = kyran("queue", config=filled).stdout
    assert len(listing.splitlines()) == 3 * len(views)  # three lines per candidate
    assert not any(c in listing for c in BREAKS + CONTROL)
    assert not any(line.startswith("#9999") for line in listing.splitlines())
    city = next(v for v in views if "forged" in v["subject"])
    shown = kyran("candidate", str(city["id"]), config=filled).stdout
    subject = next(line for line in shown.splitlines() if line.startswith("subject: "))
    assert subject.count("forged") == 5  # the whole title on the subject's one line
    assert not any(line.startswith("#9999") for line in shown.splitlines())
    assert not any(c in shown for c in BREAKS + CONTROL)


def test_eval_json_escapes_what_a_labelled_file_carries(kyran, tmp_path):
    labelled = tmp_path / "labelled.jsonl"
    record_id = "ad" + HOSTILE + "\u2028"
    labelled.write_text(json.dumps({"id": record_id, "label": "sale",
                                    "text": "Погода в Алматы хорошая"}) + "\n",
                        encoding="utf-8")
    result = kyran("eval", str(labelled), "--json")
    assert result.returncode == 0, result.stderr
    assert raw_unsafe(result.stdout) == [] and len(result.stdout.splitlines()) == 1
    assert json.loads(result.stdout)["errors"][0]["id"] == record_id
