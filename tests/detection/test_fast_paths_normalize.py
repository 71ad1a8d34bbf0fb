"""The normaliser's fast paths against their plain forms (as in test_fast_paths.py): a shortcut
only skips work whose result it can tell in advance, and a specialised builder builds exactly what
the general one does."""

from __future__ import annotations

import re

from hypothesis import assume, given, settings, strategies as st

from detection import translit
from detection.foldmap import Folded, apply_edits, squeeze_runs
from detection.normalize import Normalizer
from detection.wordfold import fold_word

NORM = Normalizer()

LATIN = re.compile(r"[a-z]")


def texts(alphabet: str, *pieces: str, size: int = 60):
    atoms = st.sampled_from(list(alphabet) + list(pieces))
    return st.one_of(st.lists(atoms, max_size=size).map("".join), st.text(max_size=80))


@settings(max_examples=400, deadline=None)
@given(texts("авсенікмопргтухѕјжфқё0134567@$!€", "3ак", "0пл"), st.booleans())
def test_a_word_without_latin_letters_folds_to_one_without(word, post_cyr):
    # normalize() searches for Latin letters once, before the word pass, for both Latin passes.
    assume(not LATIN.search(word))
    assert not LATIN.search(fold_word(word, lambda: post_cyr))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab c", max_size=40))
def test_squeeze_runs_is_apply_edits(src):
    runs = [m.span() for m in re.finditer(r"([a-z ])\1+", src)]
    if not runs:
        return
    text, layer = squeeze_runs(src, runs)
    ref_text, ref = apply_edits(src, [(s, e, src[s]) for s, e in runs])
    assert text == ref_text
    assert (layer.outs, layer.ins, layer.linear) == (ref.outs, ref.ins, ref.linear)


def plain_to_original(folded: Folded, start: int, end: int) -> tuple[int, int]:
    n = len(folded.text)
    start = min(max(start, 0), n)
    end = min(max(end, start), n)
    s, e = start, end
    for layer in reversed(folded.layers):
        s, e = (layer.map_start(s), layer.map_start(s)) if s == e else layer.map_span(s, e)
    return (s, e) if e > s else (s, s)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abc", max_size=30), st.data())
def test_one_layer_to_original_is_the_plain_map(src, data):
    cuts = sorted(data.draw(st.lists(st.integers(0, len(src)), max_size=6, unique=True)))
    pairs = zip(cuts[::2], cuts[1::2], strict=False)
    edits = [(a, b, data.draw(st.sampled_from(["", "x", "yz"]))) for a, b in pairs]
    out, layer = apply_edits(src, edits)
    folded = Folded(src, out, (layer,))
    for p in range(-1, len(out) + 2):
        for q in range(-1, len(out) + 2):
            assert folded.to_original(p, q) == plain_to_original(folded, p, q)


PLAIN_SQUEEZE = re.compile(r"([a-z\u0400-\u04ff])\1+| {2,}")


@settings(max_examples=400, deadline=None)
@given(texts("aaбб  \n\t\r11..ёё👇👇", "ннн", "   "))
def test_squeeze_pattern(text):
    assert [m.span() for m in NORM._squeeze.finditer(text)] == [
        m.span() for m in PLAIN_SQUEEZE.finditer(text)]


@settings(max_examples=300, deadline=None)
@given(texts("abyz q'", "yyy", "rr", "zh"))
def test_language_needs_no_substitution_without_a_repeat(joined):
    # translit._language substitutes only if _REPEAT finds something: a stretch is a repeat too.
    if not translit._REPEAT.search(joined):
        assert translit._REPEAT.sub(r"\1", joined) == joined
        assert translit._STRETCH.sub(r"\1", joined) == joined


@settings(max_examples=400, deadline=None)
@given(texts("ab мф1_.-*/: @\u0301👇", "к.л.а.д", "м е ф", "2 г", "5 м/с", "t.me/x"))
def test_a_run_without_a_repeated_separator_joins_nowhere(run):
    # _pass_split skips a run whose separators never repeat next to each other, for every part of
    # it _join_run may be given (cut before a link, after its last letter or digit).
    seps = NORM._sep.findall(run)
    if all(a != b for a, b in zip(seps, seps[1:], strict=False)):
        for end in range(len(run) + 1):
            if end == 0 or run[end - 1].isalnum():
                assert NORM._join_run(run[:end], 0) == []


@settings(max_examples=400, deadline=None)
@given(texts("aoxмеё0136@$!€ ._\n👇𝟓", "@shop", "t.me/", "a1b", "1a1", "м3ф"))
def test_pair_starts_are_the_full_scans_starts(text):
    for check, full in ((NORM._has_mixed, NORM._mixed), (NORM._has_digit_in_word, NORM._digit_in_word)):
        assert NORM._pair_starts(check, full, text) == [m.start() for m in full.finditer(text)]
    lat = LATIN.search(text)  # the mixed-script check may start at the first Latin letter
    if lat:
        assert NORM._pair_starts(NORM._has_mixed, NORM._mixed, text, lat.start()) == [
            m.start() for m in NORM._mixed.finditer(text)]
