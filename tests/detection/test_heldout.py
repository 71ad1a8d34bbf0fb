"""The aims, on the held-out set, with the rules alone (no learned model)."""

from __future__ import annotations

from detection.evaluate import evaluate, read_jsonl


def test_heldout_meets_the_aims(detector, data_dir):
    report = evaluate(detector, read_jsonl(data_dir / "detection_heldout.jsonl"))
    assert report.model_version.startswith("rules-") and "+" not in report.model_version
    assert sum(m["support"] for m in report.per_label.values()) >= 250
    assert report.per_label["sale"]["f1"] >= 0.95, report.per_label
    assert report.per_label["recruitment"]["f1"] >= 0.92, report.per_label
    hard = report.hard_negatives
    assert hard["total"] >= 100
    assert hard["flagged"] / hard["total"] <= 0.02, hard


def test_dev_set_is_large_and_varied(data_dir):
    rows = list(read_jsonl(data_dir / "detection_dev.jsonl"))
    assert len(rows) >= 400
    langs = {r["lang"] for r in rows}
    assert {"ru", "kk", "en"} <= langs
    assert sum(1 for r in rows if r["kind"].startswith("hard/")) >= 150
    held = {r["text"] for r in read_jsonl(data_dir / "detection_heldout.jsonl")}
    assert not held & {r["text"] for r in rows}
