"""``Detector.score_many`` (what the chain's score step calls: the model weighs a batch of posts
together) gives every post the verdict ``Detector.score`` gives it alone: category, scores, fired
rules with their spans, indicators and the model's reasons."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from detection.config import DetectionConfig
from detection.scorer import BATCH, Detector

ROOT = Path(__file__).resolve().parents[2]
SETS = sorted((ROOT / "detection/corpus").glob("*.jsonl")) + [
    ROOT / "tests/data/detection_dev.jsonl", ROOT / "tests/data/detection_heldout.jsonl"]


@pytest.fixture(scope="module")
def full() -> Detector:
    return Detector.from_config(DetectionConfig())  # rules + the bundled model


def _texts() -> list[str]:
    texts = [json.loads(line)["text"] for path in SETS for line in path.open(encoding="utf-8")]
    # Posts with no evidence (not read by the model), tiny and empty ones, between the others.
    return texts + ["", " ", "a", "Всем хорошего дня.", "❄️", "12 000 тг", "#1"]


def _same(a, b) -> None:
    da, db = a.to_dict(), b.to_dict()
    assert da == db
    assert a.scores.keys() == b.scores.keys()
    for c in a.scores:
        assert a.scores[c] == pytest.approx(b.scores[c], abs=1e-9)


def test_batches_give_the_verdicts_of_one_post_at_a_time(full):
    texts = _texts()
    assert len(texts) > 2 * BATCH  # several batches, the last one partial
    many = full.score_many(texts)
    assert len(many) == len(texts)
    flagged = 0
    for text, verdict in zip(texts, many, strict=True):
        _same(verdict, full.score(text))
        flagged += verdict.category != "none"
    assert flagged > 500  # the sets' positives: the model's path was taken, reasons compared


def test_small_and_empty_batches(full):
    assert full.score_many([]) == []
    for text in ("", "закладки меф в боте @snow_bot, оплата на карту"):
        _same(full.score_many([text])[0], full.score(text))


def test_rules_alone_score_many_is_score(detector):
    texts = _texts()[:300]
    for text, verdict in zip(texts, detector.score_many(texts), strict=True):
        _same(verdict, detector.score(text))


def test_score_many_refuses_what_is_not_text(full):
    with pytest.raises(TypeError, match="text must be str"):
        full.score_many(["fine", None])
