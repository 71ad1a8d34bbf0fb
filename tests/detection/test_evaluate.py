"""Evaluation: every negative flagged is counted and the hard ones by a configurable list of
kinds; whole channels are scored at the source level and reported with the same figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from detection.evaluate import RecordError, evaluate, evaluate_channels, read_channels
from detection.scorer import Detector

CORPUS = Path(__file__).resolve().parents[2] / "detection" / "corpus"
AD = "Мефедрон 1г 15000 тг, клады по Алматы, заказ через бота @snow_kz_bot, оплата BTC"


@pytest.fixture(scope="module")
def detector():
    return Detector.from_config()


def test_every_negative_counts_and_hard_ones_by_the_configured_kinds(detector):
    records = [{"id": "a", "text": AD, "label": "none", "kind": "quoted/raid"},
               {"id": "b", "text": "Продам диван", "label": "none", "kind": "easy"},
               {"id": "c", "text": AD, "label": "sale", "kind": "sale"}]
    default = evaluate(detector, records)
    assert default.negatives == {"total": 2, "flagged": 1, "rate": 0.5}
    assert default.hard_negatives["total"] == 0  # nothing tagged hard/: still counted above
    assert "negatives flagged: 1 of 2" in default.format()
    custom = evaluate(detector, records, hard_kinds=("quoted/",))
    assert (custom.hard_negatives["flagged"], custom.hard_negatives["total"]) == (1, 1)


def test_channels_of_every_writer_are_scored_at_the_source_level(detector):
    files = sorted((CORPUS / "channels").glob("*.json"))
    assert len(files) >= 5
    channels = [c for f in files for c in read_channels(f)]
    report = evaluate_channels(detector, channels)
    labels = {c["label"] for c in channels}
    assert labels == {"sale", "recruitment", "none"}
    assert sum(report.per_label[label]["support"] for label in labels) == len(channels)
    assert report.negatives["total"] == sum(c["label"] == "none" for c in channels)


def test_a_bad_channels_file_is_one_line(tmp_path):
    bad = tmp_path / "channels.json"
    bad.write_text(json.dumps([{"title": "x", "posts": ["a"], "label": "seller"}]))
    with pytest.raises(RecordError, match=r"channels.json: channel 1: 'label' must be one of"):
        read_channels(bad)
    bad.write_text("{not json")
    with pytest.raises(RecordError, match=r"channels.json:1: not JSON"):
        read_channels(bad)
