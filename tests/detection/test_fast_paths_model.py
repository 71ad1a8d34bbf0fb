"""The model's batched features are the per-post ones: :func:`batch_ngrams` (words split out of
the code points, n-grams hashed over many posts joined) gives each post the n-grams and shape
counts :func:`hashed_ngrams` and ``_counts`` give it alone, the plain forms."""

from __future__ import annotations

import re

import numpy as np
from hypothesis import given, settings, strategies as st

from detection.batch import WordHashes, _word_mask, batch_ngrams
from detection.features import _MIXED, _add_shape, _codes, _counts, _spaced, hashed_ngrams

BITS = 12
ALPHABET = list("ab_ мфё1٣.,-\n\t\u00a0\u2028\u0301👇𝟓𝐚❄") + ["закладки", "  ", "12 000 тг"]
POST = st.one_of(st.lists(st.sampled_from(ALPHABET), max_size=30).map("".join),
                 st.text(max_size=40))


def test_word_mask_is_the_regex_word_class():
    codes = np.array([c for c in range(0x110000) if not 0xD800 <= c < 0xE000], dtype=np.uint32)
    plain = np.array([re.match(r"\w", chr(c)) is not None for c in codes.tolist()])
    assert np.array_equal(_word_mask(codes), plain)


@settings(max_examples=300, deadline=None)
@given(st.lists(POST, min_size=1, max_size=6))
def test_a_batch_gives_each_post_its_own_n_grams_and_counts(posts):
    b = batch_ngrams(posts, BITS, WordHashes())
    for i, (post, counts) in enumerate(zip(posts, b.counts.tolist(), strict=True)):
        for got, plain in zip(b.post(i), hashed_ngrams(post, BITS), strict=True):
            assert got.dtype == plain.dtype and np.array_equal(got, plain)
        assert tuple(counts) == _counts(_codes(_spaced(post)))


def _plain_shape(folded, emoji, digits, mixed, patterns):
    n = len(folded) or 1
    prices = sum(1 for p in patterns if p[0] == "price")
    doses = sum(1 for p in patterns if p[0] == "quantity")
    return (min(1.0, 10 * emoji / n), min(1.0, 4 * digits / n), min(1.0, prices / 2),
            min(1.0, doses / 2), min(1.0, n / 1000), min(1.0, folded.count("\n") / 8),
            min(1.0, (mixed if mixed < 2 else len(_MIXED.findall(folded))) / 2))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab\nжx", max_size=1200), st.integers(0, 2000), st.integers(0, 2000),
       st.integers(0, 5), st.lists(st.sampled_from(["price", "quantity", "x"]), max_size=5))
def test_shape_values_are_the_plain_minimums(folded, emoji, digits, mixed, kinds):
    patterns = [(k, "", 0, 1, 1.0) for k in kinds]
    named: dict[int, float] = {}
    _add_shape(named, list(range(7)), folded, emoji, digits, mixed, patterns)
    plain = _plain_shape(folded, emoji, digits, mixed, patterns)
    assert list(named.items()) == [(i, v) for i, v in enumerate(plain) if v]


@settings(max_examples=500, deadline=None)
@given(POST)
def test_spaced_fast_path_is_split_and_join(post):
    assert _spaced(post) == " " + " ".join(post.split()) + " "


def test_only_the_space_is_printable_white_space():
    # What the fast path of _spaced rests on.
    assert [c for c in map(chr, range(0x110000)) if c.isspace() and c.isprintable()] == [" "]
