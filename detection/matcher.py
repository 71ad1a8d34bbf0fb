"""Multi-pattern matching of lexicon terms over folded text with Aho-Corasick (pyahocorasick).

Word terms are matched on a copy of the folded text in which every non-word character is a
space, padded with a space at each end: the key `` меф `` then only meets the whole word and the
stem key `` закладк`` only meets words starting with it, so one pass of the automaton finds every
term with no per-term loop and almost no rejected candidates. Terms without letters or digits
(emoji) go into a second automaton run over the folded text itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from operator import itemgetter

import ahocorasick

from detection.lexicon import Term
from detection.normalize import Normalizer, default_normalizer

__all__ = ["Matcher", "TermMatch"]

# The punctuation most posts hold, each a non-word character that Normalizer.spaced turns into a
# space: replacing them first with str.replace (a plain scan) leaves the regex substitution
# little to do, and each match it makes costs more than a replace; the result is the same text.
_COMMON_PUNCT = ".,:#-+"


@dataclass(frozen=True, slots=True)
class TermMatch:
    """A term found at ``[start, end)`` of the folded text."""

    term: Term
    start: int
    end: int


class Matcher:
    """Finds all lexicon terms in a folded text."""

    def __init__(self, terms: Sequence[Term], normalizer: Normalizer | None = None) -> None:
        self._norm = normalizer or default_normalizer()
        self.terms = list(terms)
        words: dict[str, list[int]] = {}
        symbols: dict[str, list[int]] = {}
        for i, term in enumerate(self.terms):
            if term.symbol:
                symbols.setdefault(term.key, []).append(i)
            else:
                key = f" {term.key}" if term.stem else f" {term.key} "
                words.setdefault(key, []).append(i)
        self._words = self._build(words, stem_of=lambda key: not key.endswith(" "))
        self._symbols = self._build(symbols, stem_of=lambda key: False)
        # The symbol automaton only runs on texts holding the first character of some symbol
        # term (most posts hold none). ``ch in text`` is a plain scan (and returns at once for a
        # character wider than any in the text, an emoji in a text without one), cheaper than a
        # regex class of emoji.
        self._symbol_firsts = tuple(sorted({key[0] for key in symbols}))

    def _build(self, keys: dict[str, list[int]], stem_of) -> ahocorasick.Automaton | None:
        if not keys:
            return None
        automaton = ahocorasick.Automaton()
        for key, ids in keys.items():
            automaton.add_word(key, (len(key), stem_of(key), tuple(self.terms[i] for i in ids)))
        automaton.make_automaton()
        return automaton

    def spaced(self, folded: str) -> str:
        """``Normalizer.spaced(folded)``, the common punctuation replaced beforehand."""
        for ch in _COMMON_PUNCT:
            folded = folded.replace(ch, " ")
        return self._norm.spaced(folded)

    def find(self, folded: str) -> list[TermMatch]:
        """Every term occurrence in ``folded`` (a ``Folded.text``), in text order."""
        return [TermMatch(term, start, end) for term, start, end in self.find_spans(folded)]

    def find_spans(self, folded: str) -> list[tuple[Term, int, int]]:
        """:meth:`find` as plain ``(term, start, end)`` tuples (the scorer's hot path)."""
        out: list[tuple[Term, int, int]] = []
        if self._words is not None:
            spaced = f" {self.spaced(folded)} "
            for end, (klen, stem, terms) in self._words.iter(spaced):
                start = end - klen + 1  # index in `spaced` of the leading space == folded start
                if stem:
                    stop = spaced.find(" ", end + 1) - 1  # folded end of the whole word
                else:
                    stop = end - 1
                for term in terms:
                    out.append((term, start, stop))
        if self._symbols is not None and not folded.isascii():
            for first in self._symbol_firsts:
                if first in folded:
                    for end, (klen, _stem, terms) in self._symbols.iter(folded):
                        for term in terms:
                            out.append((term, end - klen + 1, end + 1))
                    break
            if len(out) > 1:
                out.sort(key=itemgetter(1))  # by start (word matches come by end), as always
        return out
