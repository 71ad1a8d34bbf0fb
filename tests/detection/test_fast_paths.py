"""The speed-ups keep behaviour: each pattern rewritten for speed finds exactly what its plain,
readable form finds, and each cheap pre-check only skips work when the full scan would find
nothing. The plain forms below are the reference; if one of them changes, change both. (The
alphabets hold a character above the BMP of each kind, 👇 and 𝟓, for the bitmap classes.)"""

from __future__ import annotations

import re

from hypothesis import given, settings, strategies as st

from detection.extract import Extractor
from detection.foldmap import apply_edits
from detection.normalize import Normalizer
from detection.patterns import PatternFinder

NORM, EXTRACT, PATTERNS = Normalizer(), Extractor(), PatternFinder()

PLAIN_SPLIT = re.compile(r"(?<![^\W_])[^\W_](?:(?:(?!\n)[\W_]){1,3}[^\W_](?![^\W_])){2,}")
PLAIN_PHONE = re.compile(r"(?<![\w+])(?:\+|00)?\d[\d \t().\-]{7,18}\d(?!\w)")
PLAIN_PRICE = re.compile(
    r"(?<![\w.,])\d[\d .,]{0,9}(?:\s?(?:тг|тенге|тңг|₸|тыс|руб|р|₽|usd|usdt|долл|\$|k|к|kzt))(?!\w)"
    r"|\$\s?\d{1,7}(?!\d)")
PLAIN_DOSE = re.compile(
    r"(?<![\w.,])\d{1,4}(?:[.,]\d{1,2})?\s?(?:г|гр|грамм|грамма|грам|gr|g|мг|mg|шт|штук|"
    r"кг|таб|табл|марок|марки)(?!\w)")
PLAIN_LONG = re.compile(r"[A-Za-z0-9]{26,}")
PLAIN_PROTECTED = re.compile(r"@[\w]{3,}|(?:https?://|www\.|t\.me/|telegram\.me/)\S+")


def texts(alphabet: str, *pieces: str, size: int = 60):
    """Strings dense in the characters a pattern cares about, plus arbitrary text."""
    atoms = st.sampled_from(list(alphabet) + list(pieces))
    return st.one_of(st.lists(atoms, max_size=size).map("".join), st.text(max_size=80))


def spans(pattern: re.Pattern, text: str, pos: int = 0) -> list[tuple[int, int]]:
    return [m.span() for m in pattern.finditer(text, pos)]


@settings(max_examples=400, deadline=None)
@given(texts("ab мф1_.-* \n\t@\u0301👇𝟓", "к.л.а.д", "м е ф", "2 г"))
def test_split_pattern_starts_one_after_the_plain_one(text):
    assert [(s - 1, e) for s, e in spans(NORM._split, text)] == spans(PLAIN_SPLIT, text)


@settings(max_examples=400, deadline=None)
@given(texts("0012345789 +()-.\tаx_\n٣", "+7 701 123 45 67", "8 (701) 123-45-67"), st.integers(0, 3))
def test_phone_pattern(text, pos):
    assert spans(EXTRACT._phone, text, pos) == spans(PLAIN_PHONE, text, pos)
    if PLAIN_PHONE.search(text):  # the pre-check never hides a number
        core = EXTRACT._phone_core.search(text)
        assert core and spans(EXTRACT._phone, text, max(0, core.start() - 2)) == spans(PLAIN_PHONE, text)


@settings(max_examples=400, deadline=None)
@given(texts("0123456789 .,$₸тгрkкmgшт\nа", "тенге", "usd", "грамм", "кг", "1.5", "2,5"))
def test_price_and_dose_patterns(text):
    found = PATTERNS.find(text)  # one scan for both
    assert [(s, e) for concept, _, s, e, _ in found if concept == "price"] == spans(PLAIN_PRICE, text)
    assert [(s, e) for concept, _, s, e, _ in found if concept == "quantity"] == spans(PLAIN_DOSE, text)


@settings(max_examples=300, deadline=None)
@given(texts("aZ09 .x", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"))
def test_wallet_runs(text):
    assert spans(EXTRACT._long, text) == spans(PLAIN_LONG, text)


@settings(max_examples=300, deadline=None)
@given(texts("@htpsw:/. a_б", "https://", "www.", "t.me/", "telegram.me/", "@shop"))
def test_protected_spans(text):
    assert spans(NORM._protected, text) == spans(PLAIN_PROTECTED, text)


@settings(max_examples=400, deadline=None)
@given(texts("aoxмеё0136@$ ._\n👇𝟓", "@shop", "t.me/"), st.integers(0, 3))
def test_word_fold_pre_checks_hit_exactly_when_the_full_scans_do(text, _):
    for check, full in ((NORM._has_mixed, NORM._mixed), (NORM._has_digit_in_word, NORM._digit_in_word)):
        hit = check.search(text)
        assert bool(hit) == bool(full.search(text))
        if hit:  # the full scan may start one character before the hit
            assert spans(full, text, max(0, hit.start() - 1)) == spans(full, text)


@settings(max_examples=300, deadline=None)
@given(texts("abc.kzru-/ www", "arbuz.kz", ". ", "x.рф", "a.RU"))
def test_domain_pre_check_is_necessary(text):
    if EXTRACT._domain.search(text):
        assert EXTRACT._domain_end.search(text)


@settings(max_examples=300, deadline=None)
@given(texts("a_б .,!«»👇❄-𝟓", "_x_"))
def test_spaced_replaces_every_non_word_character(text):
    assert NORM.spaced(text) == re.sub(r"[\W_]", " ", text)


def test_no_white_space_but_the_space_is_printable():
    other_space = re.compile(r"[^\S ]")
    assert not [c for c in map(chr, range(0x110000)) if c.isprintable() and other_space.match(c)]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abc", max_size=30), st.data())
def test_layer_maps_both_ends_like_one_at_a_time(src, data):
    cuts = sorted(data.draw(st.lists(st.integers(0, len(src)), max_size=6, unique=True)))
    pairs = zip(cuts[::2], cuts[1::2], strict=False)  # an odd last cut is left out
    edits = [(a, b, data.draw(st.sampled_from(["", "x", "yz"]))) for a, b in pairs]
    _, layer = apply_edits(src, edits)
    for p in range(layer.out_len + 1):  # the offsets to_original maps: clamped to [0, len]
        for q in range(layer.out_len + 1):
            assert layer.map_span(p, q) == (layer.map_start(p), layer.map_end(q))
            if p < q:
                assert layer.map_inside(p, q) == layer.map_span(p, q)
