"""Features of a post: named evidence from the rules, hashed n-grams, their words."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from detection.features import describe, hashed_ngrams, ngram_text
from detection.normalize import normalize

SALE = "Меф 1г — 15 000 тг, закладки по Алматы, бот @snow_kz_bot"


def _named(detector, text):
    f = detector.features(text)
    return {detector.space.names[i]: v for i, v in f.named.items()}


def test_rule_concept_indicator_and_shape_features_of_a_sale_post(detector):
    named = _named(detector, SALE)
    assert named["rule:sale.substance_drop"] > 0
    assert named["concept:substance"] > 0 and named["concept:drop"] > 0
    assert named["indicator:telegram_bot"] == 1.0
    assert named["shape:price"] > 0 and named["shape:dose"] > 0
    assert named["rules:sale"] > 0.9


def test_context_rules_are_features_too(detector):
    text = ("Полиция задержала закладчика: при нём нашли 20 свёртков с мефедроном. "
            "Возбуждено уголовное дело, сообщает пресс-служба ДП.")
    names = _named(detector, text)
    assert any(n.startswith("rule:context.") for n in names), names


def test_a_quiet_post_has_only_n_grams_and_shape(detector):
    named = _named(detector, "Концерт в субботу в филармонии, билеты в кассе")
    assert not any(n.startswith(("rule:", "concept:", "indicator:")) for n in named), named


def test_hashed_blocks_are_scaled_and_in_range():
    folded = normalize(SALE).text
    char_ids, char_vals, word_ids, word_vals = hashed_ngrams(folded, 12)
    words = re.findall(r"\w+", folded)
    assert len(word_ids) == 2 * len(words) - 1  # every word and every pair of words
    for ids, vals in ((char_ids, char_vals), (word_ids, word_vals)):
        assert len(ids) == len(vals) and ids.min() >= 0 and ids.max() < 1 << 12
        assert float(vals @ vals) == pytest.approx(1.0)


@pytest.mark.parametrize("text", ["", " ", "а", "\n\n", "🍁"])
def test_tiny_texts_have_features_without_errors(detector, text):
    f = detector.features(text)
    assert len(f.char_ids) == len(f.char_vals) and len(f.word_ids) == len(f.word_vals)


def test_every_bucket_of_a_post_names_its_n_gram():
    folded = normalize("Работа курьером, выплаты каждый день").text
    char_ids, _, word_ids, _ = hashed_ngrams(folded, 18)
    for i in char_ids:
        gram = ngram_text(folded, 18, "char", int(i))
        assert gram is not None and gram.strip() in f" {folded} "
    words = {ngram_text(folded, 18, "word", int(i)) for i in word_ids}
    assert {"курьером", "выплаты " + folded.split()[-2]} <= words  # a word and a pair of words


def test_hashing_is_the_same_in_another_process():
    """Bucket ids use a fixed integer hash, not Python's per-process string hash."""
    code = ("import json,sys; from detection.features import hashed_ngrams; "
            "c,_,w,_ = hashed_ngrams('закладки по городу', 18); "
            "print(json.dumps([c.tolist(), w.tolist()]))")
    runs = []
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True).stdout
        runs.append(json.loads(out))
    c, _, w, _ = hashed_ngrams("закладки по городу", 18)
    assert runs[0] == runs[1] == [c.tolist(), w.tolist()]


def test_feature_names_in_words():
    assert describe("rule:sale.substance_drop") == "rule sale.substance_drop"
    assert describe("indicator:telegram_bot") == "bot link"
    assert describe("concept:drug_role") == "drug role words"
    assert describe("shape:emoji") == "many emoji"
