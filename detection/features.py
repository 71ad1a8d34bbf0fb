"""Features of one post for the learned model, and their names in an analyst's words.

Two blocks:

* **named** features from the detector's evidence: each fired rule's contribution (context rules
  as their penalty), each concept's strength (distinct term weights, capped), the rules' own
  score per category, counts of indicator kinds (bot, wallet, phone, handle, link), and the
  post's shape (emoji density, digits, prices and doses, length). Concepts inside reported
  speech (:mod:`detection.quotes`: quotes, «пишут:», forwards) count apart from the post's own
  (``reported:substance`` beside ``concept:substance``), and a report frame (news, raid report,
  warning) is a feature of its own.
* **hashed** n-grams of the folded text: character 2- to 5-grams (across word boundaries, so
  they also see pairs of short words) and word 1- and 2-grams, each hashed into
  ``2 ** bits`` buckets by a fixed integer hash (no Python ``hash``, which changes per process).
  Each block is scaled to unit length.

Character n-grams are hashed with numpy over the code points in a few vectorised passes (the
shape counts come from the same code points), so a post costs tens of microseconds; many posts
at once, :mod:`detection.batch`.
:func:`ngram_text` recovers the n-gram behind a bucket from the post itself, for explanations
("n-gram «клад»").
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

import numpy as np

__all__ = ["FeatureSpace", "Features", "describe", "hashed_ngrams", "ngram_text"]

CHAR_N = (2, 3, 4, 5)
# A post's n-grams weigh one over the square root of their number, counted as at least this
# many: a title or a one-line greeting has a handful, which would otherwise speak as loudly as
# a whole post's (a city's name alone scored "sale" 0.87). About a 30-character post's.
CHAR_FLOOR = 120
WORD_FLOOR = 6
SHAPE = ("emoji", "digits", "price", "dose", "length", "lines", "latin_mixed", "report_frame")
INDICATOR_WORDS = {
    "telegram_bot": "bot link", "telegram_handle": "Telegram handle",
    "telegram_link": "Telegram link", "invite_link": "invite link", "url": "web link",
    "domain": "domain", "onion": "onion address", "btc": "bitcoin wallet",
    "eth": "ethereum wallet", "tron": "tron wallet", "xmr": "monero wallet",
    "phone": "phone number",
}
SHAPE_WORDS = {
    "emoji": "many emoji", "digits": "many digits", "price": "prices", "dose": "doses or weights",
    "length": "long text", "lines": "many lines (a list)",
    "latin_mixed": "Latin letters in Cyrillic words",
    "report_frame": "a report about others (news, raid, warning)",
}
_WORD = re.compile(r"\w+")
_CYRILLIC = "а-яёәғқңөұүһі"
_MIXED = re.compile(f"(?:[{_CYRILLIC}][a-z]|[a-z][{_CYRILLIC}])")
# Per code point below U+0500, whether it is one of _CYRILLIC (the last, U+04FF, is not).
_IS_CYRILLIC = np.array([bool(re.match(f"[{_CYRILLIC}]", chr(c))) for c in range(0x500)])
_P = np.uint64(0x100000001B3)  # FNV prime: the rolling multiplier
_MIX = np.uint64(0x9E3779B97F4A7C15)  # golden-ratio multiplier for the bucket
_WORD_SALT = np.uint64(0xC2B2AE3D27D4EB4F)


@dataclass(frozen=True, slots=True)
class Features:
    """One post's features: named values by index, hashed bucket ids and values per block."""

    named: dict[int, float]
    char_ids: np.ndarray  # unique bucket ids, int64
    char_vals: np.ndarray  # float64, unit length
    word_ids: np.ndarray
    word_vals: np.ndarray


class FeatureSpace:
    """The named features a detector can produce (rules, concepts, indicators, shape)."""

    def __init__(self, rules: list[str], concepts: list[str], indicator_kinds: list[str],
                 bits: int = 18) -> None:
        names = [f"rules:{c}" for c in ("sale", "recruitment")]
        names += [f"rule:{r}" for r in sorted(set(rules))]
        names += [f"concept:{c}" for c in sorted(set(concepts))]
        names += [f"reported:{c}" for c in sorted(set(concepts))]
        names += [f"indicator:{k}" for k in sorted(set(indicator_kinds))]
        names += [f"shape:{s}" for s in SHAPE]
        self.names = names
        self.index = {n: i for i, n in enumerate(names)}
        self.bits = bits
        # Each kind's features by the evidence's own name, so no name is built per post.
        by_kind: dict[str, dict[str, int]] = {}
        for name, i in self.index.items():
            kind, _, rest = name.partition(":")
            by_kind.setdefault(kind, {})[rest] = i
        self._rules, self._rule = by_kind["rules"], by_kind.get("rule", {})
        self._concept, self._reported = by_kind.get("concept", {}), by_kind.get("reported", {})
        self._indicator = by_kind.get("indicator", {})
        *self._shape, self._frame = (by_kind["shape"][s] for s in SHAPE)  # the frame last

    def build(self, folded: str, matches, hits, indicators, rule_scores: dict[str, float],
              patterns, frame: bool = False) -> Features:
        """Features from the detector's evidence for one post (``matches`` marked ``reported``
        inside reported speech; see ``Detector.features``)."""
        codes = _codes(_spaced(folded))
        named = self.named(folded, matches, hits, indicators, rule_scores, patterns, frame,
                           *_counts(codes))
        char_ids, char_vals, word_ids, word_vals = hashed_ngrams(folded, self.bits, codes)
        return Features(named, char_ids, char_vals, word_ids, word_vals)

    def named(self, folded: str, matches, hits, indicators, rule_scores: dict[str, float],
              patterns, frame: bool, emoji: int, digits: int, mixed: int) -> dict[int, float]:
        """The named features by index (``emoji``, ``digits`` and ``mixed``: counts in the
        spaced text, :func:`_counts`)."""
        named: dict[int, float] = {}
        for c, s in rule_scores.items():
            if s > 1e-6:
                named[self._rules[c]] = s
        rule = self._rule
        for h in hits:
            i = rule.get(h.rule)
            if i is not None:
                named[i] = named.get(i, 0.0) + abs(h.contribution)
        for i, s in self._strength(matches).items():
            named[i] = s if s < 2.0 else 2.0  # min(2.0, s)
        if indicators:
            kinds: dict[str, int] = {}
            for ind in indicators:
                kinds[ind.kind] = kinds.get(ind.kind, 0) + 1
            for k, n in kinds.items():
                i = self._indicator.get(k)
                if i is not None:
                    named[i] = 1.0 + 0.3 * min(n - 1, 3)
        _add_shape(named, self._shape, folded, emoji, digits, mixed, patterns)
        if frame:
            named[self._frame] = 1.0
        return named

    def _strength(self, matches) -> dict[int, float]:
        """Per concept feature (``concept:…``, or ``reported:…`` inside reported speech), the
        sum of the weights of its distinct terms."""
        seen: set[tuple[bool, str, str]] = set()
        out: dict[int, float] = {}
        concept, reported = self._concept, self._reported
        for m in matches:
            key = (m.reported, m.concept, m.term)
            if key not in seen:
                seen.add(key)
                i = (reported if m.reported else concept).get(m.concept)
                if i is not None:
                    out[i] = out.get(i, 0.0) + m.weight
        return out


def _codes(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def _emoji_digits(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the emoji and of the ASCII digits among ``codes``."""
    return (((codes >= 0x2190) & (codes < 0x2C00)) | (codes >= 0x1F000),
            (codes >= 0x30) & (codes <= 0x39))


def _mixed_pairs(codes: np.ndarray) -> np.ndarray:
    """Where a Latin letter and a Cyrillic one stand side by side (either order): a mask of the
    first of the two."""
    latin = (codes >= 0x61) & (codes <= 0x7A)
    cyrillic = _IS_CYRILLIC.take(codes, mode="clip")  # past the table: its last, not Cyrillic
    return (latin[:-1] & cyrillic[1:]) | (cyrillic[:-1] & latin[1:])


def _counts(codes: np.ndarray) -> tuple[int, int, int]:
    """The emoji, the digits and the Latin-Cyrillic pairs among ``codes``."""
    emoji, digits = _emoji_digits(codes)
    return (int(np.count_nonzero(emoji)), int(np.count_nonzero(digits)),
            int(np.count_nonzero(_mixed_pairs(codes))))


def _add_shape(named: dict[int, float], index: list[int], folded: str, emoji: int, digits: int,
               mixed: int, patterns) -> None:
    """Put the shape features but the report frame in ``named`` (at ``index``, in the order of
    :data:`SHAPE`), those that are not zero. ``mixed``: the Latin-Cyrillic pairs, overlapping
    ones too; what counts is those ``_MIXED`` finds, which do not overlap, and with fewer than
    two that is the same number."""
    n = len(folded) or 1
    prices = doses = 0
    for p in patterns:
        if p[0] == "price":
            prices += 1
        elif p[0] == "quantity":
            doses += 1
    if mixed > 1:
        mixed = len(_MIXED.findall(folded))
    for i, v in zip(index, (10 * emoji / n, 4 * digits / n, prices / 2, doses / 2, n / 1000,
                            folded.count("\n") / 8, mixed / 2), strict=True):
        if v:
            named[i] = v if v < 1.0 else 1.0  # min(1.0, v)


def _char_hashes(codes: np.ndarray) -> list[np.ndarray]:
    """Per n in ``CHAR_N``, the 64-bit rolling hash of the n-gram starting at each position."""
    a = codes.astype(np.uint64)
    out, acc = [], a
    for n in range(2, CHAR_N[-1] + 1):
        if len(acc) < 2:
            out.append(acc[:0])
            continue
        acc = acc[:-1] * _P + a[n - 1:]
        if n >= CHAR_N[0]:
            out.append(acc)
    return out


def _bucket(h: np.ndarray, bits: int) -> np.ndarray:
    h = (h ^ (h >> np.uint64(29))) * _MIX
    return (h >> np.uint64(64 - bits)).astype(np.int64)


def _unit(ids: np.ndarray, floor: int) -> tuple[np.ndarray, np.ndarray]:
    """Every occurrence weighs the same, the block scaled by its length, counted as at least
    ``floor`` (a repeated n-gram counts once per occurrence: no sorting needed, and the sums
    come out the same)."""
    return ids, np.full(len(ids), 1.0 / np.sqrt(max(len(ids), floor)) if len(ids) else 0.0)


def _spaced(folded: str) -> str:
    """The text's runs of white space as single spaces, and a space at either end."""
    # Fast path, the same string: with lines joined by single spaces, a text with no white
    # space but single inner spaces (every other white space character is not printable) is
    # what split and join would give, without building a string per word.
    joined = folded.replace("\n", " ")
    if (joined.isprintable() and "  " not in joined and not joined.startswith(" ")
            and not joined.endswith(" ")):
        return " " + joined + " "
    return " " + " ".join(folded.split()) + " "


def _word_hashes(folded: str) -> tuple[list[str], np.ndarray]:
    words = _WORD.findall(folded)
    h = np.fromiter((zlib.crc32(w.encode()) for w in words), dtype=np.uint64, count=len(words))
    return words, h


def hashed_ngrams(folded: str, bits: int, codes: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Character and word n-gram bucket ids (one per occurrence) and their values."""
    if codes is None:
        codes = _codes(_spaced(folded))
    char = np.concatenate(_char_hashes(codes))
    char_ids, char_vals = _unit(_bucket(char, bits), CHAR_FLOOR)
    _, h = _word_hashes(folded)
    if len(h):
        pairs = h[:-1] * _WORD_SALT + h[1:] + np.uint64(1)
        word_ids, word_vals = _unit(_bucket(np.concatenate((h * _P, pairs)), bits), WORD_FLOOR)
    else:
        word_ids, word_vals = _unit(h.astype(np.int64), WORD_FLOOR)
    return char_ids, char_vals, word_ids, word_vals


def ngram_text(folded: str, bits: int, block: str, bucket: int) -> str | None:
    """The first n-gram of ``folded`` that falls in ``bucket`` of ``block`` ("char"/"word")."""
    if block == "char":
        text = _spaced(folded)
        for n, h in zip(CHAR_N[::-1], _char_hashes(_codes(text))[::-1], strict=True):
            hit = np.nonzero(_bucket(h, bits) == bucket)[0]
            if len(hit):
                return text[hit[0]:hit[0] + n]
        return None
    words, h = _word_hashes(folded)
    hit = np.nonzero(_bucket(h * _P, bits) == bucket)[0]
    if len(hit):
        return words[hit[0]]
    if len(h) > 1:
        hit = np.nonzero(_bucket(h[:-1] * _WORD_SALT + h[1:] + np.uint64(1), bits) == bucket)[0]
        if len(hit):
            return f"{words[hit[0]]} {words[hit[0] + 1]}"
    return None


def describe(name: str) -> str:
    """A named feature in an analyst's words: "rule sale.substance_drop", "bot link"."""
    kind, _, rest = name.partition(":")
    if kind == "rule":
        return f"rule {rest}"
    if kind == "rules":
        return f"rules' {rest} score"
    if kind == "concept":
        return f"{rest.replace('_', ' ')} words"
    if kind == "reported":
        return f"{rest.replace('_', ' ')} words in reported speech"
    if kind == "indicator":
        return INDICATOR_WORDS.get(rest, rest)
    if kind == "shape":
        return SHAPE_WORDS.get(rest, rest)
    return name
