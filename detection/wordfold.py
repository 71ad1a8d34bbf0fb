"""Folds of one word: a word that mixes scripts or has digits and symbols for letters
(``MEФEДPOH``, ``м3ф``, ``з@кл@дк@``) written in one script, and a word with asterisks for letters
(``кл*д``) restored from the words obfuscators mask. Used by :mod:`detection.normalize`.
"""

from __future__ import annotations

import re
from typing import Callable

from detection.glyphs import (
    CYR2LAT, DIGIT_CYR, DIGIT_LAT, INITIAL_CYR, KAZAKH_BASE, LAT2CYR, LAT2CYR_SOUND,
)

__all__ = ["fold_word", "unmask"]

_ALTERNATING = re.compile(r"[^\W\d_](?:\*[^\W\d_]){2,}")  # м*е*ф: split letters, not masked


def _is_cyr(c: str) -> bool:
    return "\u0400" <= c <= "\u04ff"


def _is_lat(c: str) -> bool:
    return "a" <= c <= "z"


def _base(c: str) -> str:
    """A letter as compared when restoring a masked word (Kazakh letters as their base)."""
    return KAZAKH_BASE.get(c, c)


def fold_word(word: str, post_cyr: Callable[[], bool] = lambda: True) -> str:
    """``word`` (lower case) in one script, with digits and symbols between letters read as
    letters; ``post_cyr()`` says whether most of the post is Cyrillic (asked only for a word
    that could be either)."""
    n_cyr = n_lat = 0
    strong_cyr = strong_lat = False
    for c in word:
        if _is_cyr(c):
            n_cyr += 1
            strong_cyr = strong_cyr or c not in CYR2LAT
        elif _is_lat(c):
            n_lat += 1
            strong_lat = strong_lat or c not in LAT2CYR
    if not n_cyr and not n_lat:
        return word
    # A letter proper to one script decides; otherwise (or if both have one) the script of a
    # word in one script, or else the script most of the post is written in (``k0kс`` in a
    # Russian post is ``кокс``).
    if strong_cyr != strong_lat:
        cyr = strong_cyr
    elif not (n_cyr and n_lat):
        cyr = bool(n_cyr)
    else:
        cyr = post_cyr()
    homo, digits = (LAT2CYR_SOUND, DIGIT_CYR) if cyr else (CYR2LAT, DIGIT_LAT)
    out = list(word)
    last = len(word) - 1
    for i, c in enumerate(word):
        if c.isdigit() or c in "@$!€":
            prev_l = i > 0 and word[i - 1].isalpha()
            next_l = i < last and word[i + 1].isalpha()
            if c == "@":
                if prev_l or (i == 0 and next_l and cyr):
                    out[i] = "а" if cyr else "a"
            elif c == "$":
                prev_d = i > 0 and word[i - 1].isdigit()
                next_d = i < last and word[i + 1].isdigit()
                if (prev_l or next_l) and not (prev_d or next_d):
                    out[i] = "с" if cyr else "s"
            elif prev_l and next_l:
                out[i] = digits.get(c, c)
        elif cyr and _is_lat(c) or not cyr and _is_cyr(c):
            out[i] = homo.get(c, c)
    # A digit that starts (``0плата``, ``3акладки``) or ends (``ш1шк1``) a word: read as a
    # letter only where the rest of the word is letters once the inner digits are read.
    first, end = out[0], out[-1]
    if cyr and first in INITIAL_CYR and len(word) >= 4 and "".join(out[1:4]).isalpha():
        out[0] = INITIAL_CYR[first]
    if (end in digits and end.isdigit() and len(word) >= 4
            and "".join(out[:-1]).isalpha() and out[:-1] != list(word[:-1])):
        out[-1] = digits[end]
    return "".join(out)


def unmask(word: str, candidates: dict[int, list[str]]) -> str | None:
    """The word ``word`` (lower case, ``*`` for hidden letters) stands for: the first of
    ``candidates`` (words by length, in order of preference) that has its letters where it has
    them; None if none fits, if fewer than two letters show or fewer letters than stars, or if
    the stars only split single letters (``м*е*ф``, which the split pass rejoins)."""
    known = len(word) - word.count("*")
    if known < 2 or known < len(word) - known or _ALTERNATING.fullmatch(word):
        return None
    for cand in candidates.get(len(word), ()):
        if all(w == "*" or _base(w) == _base(c) for w, c in zip(word, cand, strict=True)):
            return cand
    return None
