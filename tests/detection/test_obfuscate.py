"""The obfuscation generator: each kind changes the text, is repeatable from its seed, leaves
handles, links and numbers alone, and folds back to the lexicon terms of the plain text."""

from __future__ import annotations

import random

import pytest

from detection.lexicon import Lexicon, bundled_lexicon_dir
from detection.matcher import Matcher
from detection.normalize import normalize
from detection.obfuscate import KINDS, augment, obfuscate

POSTS = [
    ("ru", "Мефедрон и гашиш в наличии, закладки по всем районам Алматы. Оплата каспи, пиши в бота"),
    ("ru", "Нужны курьеры-закладчики, оплата каждый день, работа для студентов. Пиши куратору"),
    ("ru", "Кристаллы альфа, скорость и шишки. Клад за 15 минут, магнит или прикоп"),
    ("kk", "Жұмыс бар! Курьер керек, күнделікті төлем, тәжірибе керек емес. Жазыңыз ботқа"),
    ("kk", "Тауар бар, барлық ауданда клад дайын. Төлем каспи арқылы"),
]
KEEP = "@alm_shop_bot t.me/alm_shop 5000 тг 0.5 г"


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(Lexicon.load(bundled_lexicon_dir()).terms)


def terms(matcher: Matcher, text: str) -> set[str]:
    return {m.term.concept for m in matcher.find(normalize(text).text)}


def kinds_for(lang: str) -> list[str]:
    return [k for k in KINDS if k != "latin_kk" or lang == "kk"]


@pytest.mark.parametrize("lang, text", POSTS)
def test_every_kind_changes_the_text_and_repeats_from_its_seed(lang, text):
    for kind in kinds_for(lang):
        once = obfuscate(text, kind, random.Random(7))
        assert once != text, kind
        assert once == obfuscate(text, kind, random.Random(7)), kind


@pytest.mark.parametrize("lang, text", POSTS)
def test_each_kind_folds_back_to_the_words_that_matter(matcher, lang, text):
    """The concepts the lexicons find in the plain post are found in every obfuscated copy;
    for the kinds that only disguise letters the folded text is the same."""
    plain = terms(matcher, text)
    assert plain
    for kind in kinds_for(lang):
        for seed in range(3):
            obf = obfuscate(text, kind, random.Random(seed))
            assert plain <= terms(matcher, obf), (kind, obf)
            if kind in ("homoglyph", "unicode", "split", "digits", "emoji", "stretch"):
                assert normalize(obf).text == normalize(text).text, (kind, obf)


@pytest.mark.parametrize("kind", KINDS)
def test_handles_links_and_numbers_stay(kind):
    out = obfuscate(f"Клад тут {KEEP}", kind, random.Random(1))
    for piece in ("@alm_shop_bot", "t.me/alm_shop", "5000", "0.5"):
        assert piece in out, (kind, out)


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown obfuscation 'rot13'"):
        obfuscate("клад", "rot13", random.Random(0))


def test_augment_adds_labelled_copies_for_training():
    records = [{"id": "a", "text": POSTS[0][1], "label": "sale", "lang": "ru"},
               {"id": "b", "text": POSTS[3][1], "label": "recruitment", "lang": "kk"},
               {"id": "c", "text": "Погода в Алматы", "label": "none", "lang": "ru"}]
    out = augment(records, random.Random(3), copies=4, labels=("sale", "recruitment"))
    assert len(out) == 8
    assert {r["label"] for r in out} == {"sale", "recruitment"}
    for r in out:
        assert r["id"] == f"{r['id'].split('~')[0]}~{r['augmented']}"
        assert r["augmented"] in KINDS and r["text"] != records[0]["text"]
        assert r["augmented"] != "latin_kk" or r["lang"] == "kk"
    assert out == augment(records, random.Random(3), copies=4, labels=("sale", "recruitment"))
    assert records[0]["text"] == POSTS[0][1]  # the originals are not changed
    assert len(augment(records, random.Random(3))) == 3


@pytest.mark.parametrize("kind", KINDS)
def test_letters_whose_lower_case_is_two_characters_are_left_alone(kind):
    """"İ" lower-cases to two characters ("i" and a combining dot): no kind may choke on it."""
    out = obfuscate("İstanbul Işık, клад тут", kind, random.Random(2))
    assert "İ" in out or kind in ("translit", "latin_kk")
