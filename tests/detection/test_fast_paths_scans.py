"""The scans' fast paths keep behaviour (as tests/detection/test_fast_paths.py does for the
others): each rewritten pattern finds exactly what its plain form finds, and each pre-check or
shortcut gives the same answer as the plain code it stands for. The alphabets hold a character
above the BMP of each kind (👇, 𝟓) for the bitmap classes."""

from __future__ import annotations

import re

from hypothesis import given, settings, strategies as st

from detection import framewords, matcher, quotes
from detection.extract import Extractor
from detection.lexicon import Lexicon
from detection.config import DetectionConfig
from detection.normalize import Normalizer
from detection.charclass import bitmap_class
from detection.patterns import PatternFinder
from tests.detection.test_fast_paths import PLAIN_DOSE, PLAIN_PHONE, PLAIN_PRICE, spans

NORM, PATTERNS, EXTRACT = Normalizer(), PatternFinder(), Extractor()
PLAIN_WORDS = framewords.Words(*framewords.WORDS.lists)
MATCHER = matcher.Matcher(Lexicon.load(DetectionConfig().lexicon_dir).terms, NORM)


def texts(alphabet: str, *pieces: str, size: int = 60):
    """Strings dense in the characters a pattern cares about, plus arbitrary text."""
    atoms = st.sampled_from(list(alphabet) + list(pieces))
    return st.one_of(st.lists(atoms, max_size=size).map("".join), st.text(max_size=80))


def test_common_punctuation_is_what_spaced_makes_a_space():
    for ch in matcher._COMMON_PUNCT:
        assert NORM.spaced(ch) == " "


@settings(max_examples=400, deadline=None)
@given(texts(".,:#-+!_ aм1\n👇𝟓", "меф", "закладка"))
def test_matcher_spaced_is_the_normalizers(text):
    assert MATCHER.spaced(text) == NORM.spaced(text)


def test_the_digit_bitmap_class_is_the_bmp_digits_and_extra_and_all_above():
    plain, fast = re.compile(r"[\d$+]"), re.compile(bitmap_class(r"[\d$+]"))
    for cp in range(0x10000):
        assert bool(plain.match(chr(cp))) == bool(fast.match(chr(cp))), hex(cp)
    assert fast.match("👇") and fast.match("𝟓")


@settings(max_examples=500, deadline=None)
@given(texts("0123456789 .,$₸тгрkкmgшт\nа_👇𝟓", "тенге", "usd", "грамм", "кг", "1.5", "2,5",
             "10 000", "$ 5"))
def test_price_and_dose_patterns_with_non_bmp_characters(text):
    found = PATTERNS.find(text)
    assert [(s, e) for concept, _, s, e, _ in found if concept == "price"] == spans(PLAIN_PRICE, text)
    assert [(s, e) for concept, _, s, e, _ in found if concept == "quantity"] == spans(PLAIN_DOSE, text)


@settings(max_examples=500, deadline=None)
@given(texts("0012345789 +()-.\tаx_\n٣👇𝟓", "+7 701 123 45 67", "8 (701) 123-45-67", "+𝟓"),
       st.integers(0, 3))
def test_phone_patterns_with_non_bmp_characters(text, pos):
    assert spans(EXTRACT._phone, text, pos) == spans(PLAIN_PHONE, text, pos)
    plain_core = re.compile(r"\d[\d \t().\-]{7,18}\d").search(text)
    core = EXTRACT._phone_core.search(text)
    assert (core and core.span()) == (plain_core and plain_core.span())


@settings(max_examples=400, deadline=None)
@given(texts("деп ген the переслано forwarded from объявлени пишут суд\n", "деп ", "деген ",
             "the ", "переслано ", "forwarded from", "репост из", "предлагают", "объявления"))
def test_scan_finds_the_substrings_anywhere(text):
    words, present = framewords.WORDS.scan(text)
    assert present == {s for s in framewords.WORDS.substrings if s in text}
    assert [(list(f.words), set(f.phrases)) for f in words] == [  # as without substrings
        (list(f.words), set(f.phrases)) for f in PLAIN_WORDS.find(text)]


@settings(max_examples=400, deadline=None)
@given(texts("«»“”„\"' ab\n", "don't", "«цитата»"))
def test_quote_pattern_needs_a_mark(text):
    """(tests/detection/test_framewords.py compares quotes._read with its plain form.)"""
    if not any(mark in text for mark in "«\"'“„"):
        assert quotes._QUOTE.search(text) is None


def test_twin_gates_are_the_letters_unify_replaces():
    assert {chr(c) for c in quotes._CASE_TWINS} == set(framewords.TWIN_GATES)
    for letter in framewords.TWIN_GATES:
        quotes._read.cache_clear()
        text = f"суд {letter}в объявлении сказано, что"
        assert quotes._read(text)[4] == quotes._fold(text)


def plain_find_spans(folded: str) -> list:
    """Matcher.find_spans without its shortcuts: the plain spaced text, the symbol automaton
    run on every text that is not ASCII."""
    out = []
    spaced = f" {NORM.spaced(folded)} "
    for end, (klen, stem, terms) in MATCHER._words.iter(spaced):
        stop = spaced.find(" ", end + 1) - 1 if stem else end - 1
        out += [(term, end - klen + 1, stop) for term in terms]
    if not folded.isascii():
        for end, (klen, _stem, terms) in MATCHER._symbols.iter(folded):
            out += [(term, end - klen + 1, end + 1) for term in terms]
        out.sort(key=lambda m: m[1])
    return out


SYMBOLS = sorted({t.key for t in MATCHER.terms if t.symbol})


@settings(max_examples=400, deadline=None)
@given(texts("⚡❄🌿💊👇 .,:#-+!мефa1\n", "меф", "закладка", "соль", *SYMBOLS))
def test_find_spans_is_the_plain_one(text):
    assert MATCHER.find_spans(text) == plain_find_spans(text)
