"""Regex character classes built from code points, for the patterns of the normaliser, the price
and dose scan and the extractor: a class body for an exact set of code points, and a bitmap class
to start a pattern with instead of a category class the engine would look up at every character.
"""

from __future__ import annotations

import re
from functools import cache

__all__ = ["bitmap_class", "char_class"]


def char_class(codepoints: list[int]) -> str:
    """A regex character class body matching exactly ``codepoints`` (sorted)."""
    parts: list[str] = []
    i = 0
    while i < len(codepoints):
        j = i
        while j + 1 < len(codepoints) and codepoints[j + 1] == codepoints[j] + 1:
            j += 1
        lo, hi = codepoints[i], codepoints[j]
        parts.append(f"\\U{lo:08x}" if lo == hi else f"\\U{lo:08x}-\\U{hi:08x}")
        i = j + 1
    return "".join(parts)


@cache  # each costs a scan of the BMP; detectors are built more than once per process
def bitmap_class(one_char: str) -> str:
    """A class of code points to start a pattern with instead of ``one_char`` (e.g. ``[\\W_]``):
    the engine looks a category (``\\w``, ``\\d``) up at every character it skips, a bitmap is far
    cheaper. The class takes every character above the BMP too, so the pattern must also check
    ``(?<=one_char)``, best after its cheapest tests."""
    plain = re.compile(one_char)
    bmp = [cp for cp in range(0x10000) if plain.match(chr(cp))]
    return f"[{char_class(bmp)}\\U00010000-\\U0010ffff]"
