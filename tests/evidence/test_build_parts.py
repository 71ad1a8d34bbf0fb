"""Pure parts of the builder: canonical manifest bytes assembled from streamed arrays, the CSV
formula guard, urls.txt order and uniqueness, and the custody chain."""

from __future__ import annotations

import csv
import io
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from evidence.manifest import assemble, canonical, custody
from evidence.tables import PostTables, UrlList, guard

texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=30)
values = st.recursive(st.none() | st.booleans() | st.integers() | texts,
                      lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(texts, inner, max_size=3), max_leaves=10)


@settings(max_examples=200, deadline=None)
@given(head=st.dictionaries(texts.filter(lambda k: k not in ("items", "subjects")), values,
                            max_size=4),
       items=st.lists(st.dictionaries(texts, values, max_size=4), max_size=4),
       subjects=st.lists(values, max_size=3))
def test_assembled_manifest_equals_dumping_the_whole(head, items, subjects):
    whole = {**head, "items": items, "subjects": subjects}
    assert assemble(head, {"items": iter(items), "subjects": iter(subjects)}) == canonical(whole)


def test_a_placeholder_lookalike_in_the_head_is_harmless():
    head = {"a": "\x00items\x00", "z": "\x00items-0\x00"}
    assert json.loads(assemble(head, {"items": [1, 2]})) == {**head, "items": [1, 2]}


def test_formula_guard():
    for bad in ("=1+1", "+7 701", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert guard(bad) == "'" + bad
    assert guard("закладки") == "закладки" and guard(5) == 5 and guard("a=b") == "a=b"


def test_posts_tables_and_urls(tmp_path):
    tables = PostTables(tmp_path)
    row = {"ref": "P1", "subject": "S1", "url": "https://t.me/a/1", "channel": "a",
           "post_id": 1, "posted_at": None, "text": "=HYPERLINK(\"x\")\nline 2, \"q\"",
           "views": 3, "indicators": [("btc", "bc1q"), ("telegram_bot", "@abot")],
           "verdict": "sale", "score": 0.9, "capture_sha256": None}
    tables.add(row)
    csv_spool, jsonl_spool = tables.spools()
    csv_spool.close()
    data = csv_spool.path.read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf") and data.endswith(b"\r\n")
    rows = list(csv.reader(io.StringIO(data.decode())))
    assert rows[1][6] == "'=HYPERLINK(\"x\")\nline 2, \"q\""
    assert rows[1][8] == "btc:bc1q; telegram_bot:@abot"
    assert rows[1][5] == ""
    record = list(jsonl_spool.records())[0]
    assert record["text"] == row["text"] and record["posted_at"] is None
    assert csv_spool.entry()["size"] == len(data)
    urls = UrlList(tmp_path)
    urls.post("https://t.me/a/1")
    urls.subject("https://t.me/a")
    urls.post("https://t.me/a/1")
    urls.subject("https://t.me/a/1")  # a subject's URL first, once
    urls.post("https://t.me/a/2\nhttps://evil")
    urls.post(None)
    spool = urls.finish()
    assert spool.path.read_text() == "https://t.me/a\nhttps://t.me/a/1\n"


def test_custody_of_an_imported_item_names_both_organisations():
    steps = custody(capture={"captured_at": "t0", "url": "u", "http_status": 200,
                             "sha256": "h"}, captured_by="spider 1", organisation="police",
                    origin=[{"organisation": "volunteers", "package_id": "p1",
                             "decision": "sale", "at": "t1"}],
                    decision={"by": "Owl", "at": "t2", "policy": "drug-sale",
                              "category": "sale"},
                    exported_at="t3", exporter="Owl", package_id="p2")
    assert [(s["action"], s["organisation"]) for s in steps] == [
        ("captured", "volunteers"), ("imported", "police"), ("reviewed", "police"),
        ("exported", "police")]
    assert steps[1]["from"] == "volunteers" and steps[1]["package_id"] == "p1"
