"""The features of many posts at once: their n-grams hashed and their shape counts taken in a
few numpy passes over the posts joined end to end (:func:`batch_ngrams`), what
``Detector.score_many`` weighs in one go; each post gets what :mod:`detection.features` gives
it alone."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from functools import cache

import numpy as np

from detection.features import (_MIX, _P, _WORD, _WORD_SALT, CHAR_FLOOR, CHAR_N, WORD_FLOOR,
                                Features, _bucket, _codes, _emoji_digits, _mixed_pairs,
                                _spaced)

__all__ = ["BatchProbs", "NgramBatch", "WordHashes", "batch_ngrams", "segment_sums"]

@cache
def _is_word() -> np.ndarray:
    """Per code point of the BMP, whether ``_WORD`` takes it as a word character (U+FFFF is not
    one: code points above it are looked up one by one, :func:`_word_mask`). Built on first use,
    not at import."""
    bmp = "".join(map(chr, range(0x10000)))
    return np.frombuffer(re.sub(r"\W", "\0", bmp).encode("utf-32-le"), dtype=np.uint32) != 0


def _word_mask(codes: np.ndarray) -> np.ndarray:
    """Where ``codes`` are word characters (``\\w``, as ``_WORD`` matches them)."""
    mask = _is_word().take(codes, mode="clip")  # clip: past U+FFFF reads U+FFFF's entry
    astral = np.flatnonzero(codes > 0xFFFF)  # emoji, mostly: rare enough to ask the regex
    if len(astral):
        mask[astral] = [_WORD.match(chr(c)) is not None for c in codes[astral].tolist()]
    return mask


@dataclass(frozen=True, slots=True)
class NgramBatch:
    """The hashed n-grams of many posts at once, post after post, and per post the counts of
    the shape features (emoji, digits, Latin-Cyrillic pairs: ``features._counts``). Per text
    position four char entries (the 2- to 5-gram starting there) and per word two word entries
    (the word, and the pair with the next word); an entry with no n-gram (one past the post's
    end, a pair across two posts) has the bucket ``2 ** bits``, one past the last: a weight
    table with a zero row there sums the same. Per post its number of entries in each block
    and the value of each of its n-grams (as ``features.hashed_ngrams`` gives one by one)."""

    counts: np.ndarray  # (posts, 3)
    char_ids: np.ndarray
    char_entries: np.ndarray  # per post
    char_val: np.ndarray  # per post
    word_ids: np.ndarray
    word_entries: np.ndarray  # per post
    word_val: np.ndarray  # per post

    def post(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Post ``i``'s n-gram ids and values as :func:`hashed_ngrams` gives them (each n in
        turn, then the words and the pairs), taken out of the batch instead of hashed again."""
        at = int(self.char_entries[:i].sum())
        chars = self.char_ids[at:at + self.char_entries[i]].reshape(-1, len(CHAR_N))
        char_ids = np.concatenate([chars[:max(len(chars) - n + 1, 0), k]
                                   for k, n in enumerate(CHAR_N)])
        at = int(self.word_entries[:i].sum())
        words = self.word_ids[at:at + self.word_entries[i]].reshape(-1, 2)
        word_ids = np.concatenate((words[:, 0], words[:-1, 1]))
        return (char_ids, np.full(len(char_ids), self.char_val[i]), word_ids,
                np.full(len(word_ids), self.word_val[i]))


class BatchProbs(dict):
    """A post's probability of each category as a batch gave it (``Detector._predict_many``), and
    what it takes to give the post's features again without computing them twice (only the
    few posts flagged are explained): the batch, the post's named features and its index."""

    __slots__ = ("batch", "named", "index")

    def features(self) -> Features:
        """The post's features, the same as :meth:`FeatureSpace.build` gives."""
        return Features(self.named, *self.batch.post(self.index))


def batch_ngrams(folded_texts: list[str], bits: int, crc: WordHashes) -> NgramBatch:
    """:func:`hashed_ngrams` and the shape counts of every post in a few numpy passes over the
    posts joined end to end, instead of a few dozen small passes per post. ``crc``: a cache of
    word hashes, filled as it goes."""
    n, none = len(folded_texts), 1 << bits
    spaced = [_spaced(f) for f in folded_texts]
    lens = np.fromiter(map(len, spaced), dtype=np.int64, count=n)
    codes = _codes("".join(spaced))
    post = np.repeat(np.arange(n), lens)
    emoji, digits = (np.bincount(post[mask], minlength=n) for mask in _emoji_digits(codes))
    mixed = np.bincount(post[:-1][_mixed_pairs(codes)], minlength=n)
    ends = np.cumsum(lens)
    starts = ends - lens
    a = codes.astype(np.uint64)
    char_ids = np.full((len(codes), len(CHAR_N)), none, dtype=np.int64)
    acc, scratch = a.copy(), np.empty_like(a)
    for size in range(2, CHAR_N[-1] + 1):
        # The rolling hash and _bucket step by step in place (the same values, fewer arrays).
        acc = acc[:-1]
        acc *= _P
        acc += a[size - 1:]
        if size >= CHAR_N[0]:
            bucket = np.right_shift(acc, np.uint64(29), out=scratch[:len(acc)])
            bucket ^= acc
            bucket *= _MIX
            bucket >>= np.uint64(64 - bits)
            column = char_ids[:len(acc), size - CHAR_N[0]]
            column[:] = bucket.view(np.int64)
            # No n-gram at a post's last size - 1 positions (it would run into the next post).
            cut = ends[:, None] - np.arange(1, size)
            column[cut[(cut >= starts[:, None]) & (cut < len(acc))]] = none
    char_grams = sum(np.maximum(lens - size + 1, 0) for size in CHAR_N)
    # The words of all posts at once: the runs of word characters (what ``_WORD`` finds), split
    # out after every other character became a space (a word character is never white space),
    # twice as fast as the regex. Each post starts and ends with a space, so no word straddles
    # two, and a word starts at a word character after a non-word one (never at 0, a space).
    word = _word_mask(codes)
    words = np.where(word, codes, np.uint32(32)).tobytes().decode("utf-32-le").split()
    counts = np.bincount(post[1:][word[1:] & ~word[:-1]], minlength=n)
    if len(crc) > 200_000:  # a bounded cache: words of a stream repeat, hostile ones need not
        crc.clear()
    h = np.fromiter(map(crc.__getitem__, words), dtype=np.uint64, count=len(words))
    wpost = np.repeat(np.arange(n), counts)
    word_ids = np.full((len(h), 2), none, dtype=np.int64)
    word_ids[:, 0] = _bucket(h * _P, bits)
    word_ids[:-1, 1] = np.where(wpost[:-1] == wpost[1:],
                                _bucket(h[:-1] * _WORD_SALT + h[1:] + np.uint64(1), bits), none)
    word_grams = counts + np.maximum(counts - 1, 0)
    return NgramBatch(np.column_stack((emoji, digits, mixed)), char_ids.ravel(),
                      len(CHAR_N) * lens, _unit_values(char_grams, CHAR_FLOOR), word_ids.ravel(),
                      2 * counts, _unit_values(word_grams, WORD_FLOOR))


def _unit_values(counts: np.ndarray, floor: int) -> np.ndarray:
    """Per post, the value of each of its n-grams: one over the square root of their number,
    counted as at least ``floor`` (as :func:`_unit`)."""
    out = np.zeros(len(counts))
    has = counts > 0
    out[has] = 1.0 / np.sqrt(np.maximum(counts[has], floor))
    return out


class WordHashes(dict):
    """A cache of words' CRC-32 hashes for :func:`batch_ngrams`, each computed on its first
    look-up (``cache[word]``)."""

    def __missing__(self, word: str) -> int:
        value = self[word] = zlib.crc32(word.encode())
        return value


def segment_sums(rows: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per post, the sum of its ``counts[i]`` consecutive ``rows`` (zero for a post with none)."""
    out = np.zeros((len(counts), rows.shape[1]))
    has = counts > 0
    if has.any():
        out[has] = np.add.reduceat(rows, (np.cumsum(counts) - counts)[has], axis=0)
    return out


