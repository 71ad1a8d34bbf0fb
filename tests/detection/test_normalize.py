"""Normalisation: what is folded, what survives, and that spans map back to the original."""

from __future__ import annotations

import pytest

from detection.normalize import normalize


def original_of(text: str, word: str) -> str:
    folded = normalize(text)
    i = folded.text.index(word)
    s, e = folded.to_original(i, i + len(word))
    return text[s:e]


@pytest.mark.parametrize("raw, expected", [
    ("MEФEДPOH", "мефедрон"),                 # Latin homoglyphs inside a Cyrillic word
    ("ск0р0сть", "скорость"),                 # digits for letters
    ("м3ф", "меф"),
    ("м е ф", "меф"),                         # letters split by spaces
    ("к.л.а.д", "клад"),                      # … or by dots
    ("з-а-к-л-а-д-к-и", "закладки"),
    ("мееееф", "меф"),                        # stretched letters
    ("ме\u200bф\u00adедрон", "мефедрон"),     # zero-width space, soft hyphen
    ("з@кл@дки", "закладки"),                 # @ as a letter
    ("3акладки", "закладки"),                 # word-initial 3 as З
    ("кокаи\u0301н", "кокаин"),               # stress mark
    ("Ｍｅｆ", "mef"),                        # full-width (NFKC)
    ("ЁЛКИ", "елки"),
    ("kypьep", "курьер"),                     # Latin letters in a word with ь
])
def test_folds_obfuscation(raw, expected):
    assert normalize(raw).text == expected


@pytest.mark.parametrize("raw", ["1г", "15 000 тг", "@name_bot", "mp3", "2024г", "t.me/kl4d_sh0p", "@a_b_c_d"])
def test_numbers_prices_and_handles_survive(raw):
    assert normalize(raw).text == raw.lower()


def test_mixed_separators_do_not_glue_a_dose_to_a_word():
    assert normalize("2 г Л*С*Д").text == "2 г лсд"


def test_whitespace_runs_become_one_space():
    assert normalize("лёгкие\n\n   деньги").text == "легкие деньги"


@pytest.mark.parametrize("text, word, original", [
    ("Купи MEФEДPOH тут", "мефедрон", "MEФEДPOH"),
    ("есть к.л.а.д тут", "клад", "к.л.а.д"),
    ("мееееф тут", "меф", "мееееф"),
    ("x ме\u200bф\u00adедрон y", "мефедрон", "ме\u200bф\u00adедрон"),
    ("ＭＥＦ и всё", "mef", "ＭＥＦ"),
    ("есть Кл*д тут", "клад", "Кл*д"),
    ("шымкент K/\\ад тут", "клад", "K/\\ад"),
    ("ok Nuzhny kladmeny v Almaty", "кладмены", "kladmeny"),
    ("Nuzhny kladmeny i fasovshchiki", "фасовщики", "fasovshchiki"),
    ("бот: ꓘꓡꓮꓓ — 15", "klad", "ꓘꓡꓮꓓ"),
    ("Б о т  в  о п и с а н и и", "описани", "о п и с а н и и"),
    ("Qaskeleñ, Talğar — kerek", "талгар", "Talğar"),
])
def test_spans_map_back_to_the_obfuscated_original(text, word, original):
    assert original_of(text, word) == original


@pytest.mark.parametrize("text", [
    "Ｍｅｆ  к.л.а.д\u200b ммм İstanbul ﬁ ❄️ @shop_bot",
    "Pr1vet 🌿 Nuzhny kur'ery, ꓘꓡꓮꓓ K/\\ад СК*РОСТЬ Б о т  в  б и о Qaraǵandy @kl4d_bot",
])
def test_every_folded_character_maps_inside_the_original(text):
    folded = normalize(text)
    for i in range(len(folded.text)):
        s, e = folded.to_original(i, i + 1)
        assert 0 <= s <= e <= len(text)


def test_empty_and_identity():
    assert normalize("").text == ""
    assert normalize("").to_original(0, 0) == (0, 0)
    f = normalize("привет мир")
    assert f.to_original(0, 6) == (0, 6)
