"""Evidence no lexicon holds: prices and doses found in folded text (digits survive folding),
and the concept and weight each kind of extracted indicator (a bot link, a wallet) stands for.
The rules (:mod:`detection.rules`) combine these with the lexicons' concepts.
"""

from __future__ import annotations

import re

from detection.charclass import bitmap_class

__all__ = ["INDICATOR_CONCEPT", "PatternFinder", "indicator_evidence"]

INDICATOR_CONCEPT = {
    "telegram_bot": ("contact", 1.0), "invite_link": ("contact", 0.9),
    "telegram_handle": ("contact", 0.8), "telegram_link": ("contact", 0.7),
    "onion": ("contact", 1.0), "phone": ("contact", 0.6), "url": ("contact", 0.3),
    "domain": ("contact", 0.3), "btc": ("payment", 1.0), "eth": ("payment", 1.0),
    "tron": ("payment", 1.0), "xmr": ("payment", 1.0),
}


class PatternFinder:
    """Prices and doses in folded text (digits survive folding)."""

    # What follows a price's or a dose's first character: each checks the characters before it
    # behind, so a match starts at a number's first digit (or a price at "$").
    # No unit starts with a digit, ".", "," or white space, so giving back what the digits,
    # separators and space took can never let a unit match: the quantifiers are possessive
    # ("+"), which spares the engine that backtracking at every number, with the same matches.
    _PRICE_REST = (r"(?:(?<=\d)(?<![\w.,].)[\d .,]{0,9}+"
                   r"(?:\s?+(?:тг|тенге|тңг|₸|тыс|руб|р|₽|usd|usdt|долл|\$|k|к|kzt))(?!\w)"
                   r"|(?<=\$)\s?+\d{1,7}+(?!\d))")
    _DOSE_REST = (r"(?<=\d)(?<![\w.,].)\d{0,3}+(?:[.,]\d{1,2}+)?+\s?+(?:г|гр|грамм|грамма|грам|gr|"
                  r"g|мг|mg|шт|штук|кг|таб|табл|марок|марки)(?!\w)")

    def __init__(self) -> None:
        # One scan for both: the pattern consumes a digit or "$" (so the engine skips to those)
        # and captures, by look-ahead, the price (group 1) and the dose (group 2 or 3) that start
        # there. Scanning for each alone would find, from left to right, the first match and then
        # the next one after its end; :meth:`find` keeps exactly those. The first character is
        # a bitmap class (any character above the BMP but a digit then fails both rests'
        # look-behinds, which want a digit or "$"), and a digit after a word character, "." or
        # "," (inside a number, where neither can start) is turned away at once.
        price, dose, start = self._PRICE_REST, self._DOSE_REST, bitmap_class(r"[\d$]")
        self._number = re.compile(rf"{start}(?<![\w.,]\d)"
                                  rf"(?:(?=({price}))(?:(?=({dose}))|)|(?=({dose})))")

    def find(self, folded: str) -> list[tuple[str, str, int, int, float]]:
        """``(concept, name, start, end, weight)`` in folded coordinates: prices, then doses."""
        prices, doses = [], []
        price_end = dose_end = 0
        for m in self._number.finditer(folded):
            start = m.start()
            end = m.end(1)
            if end >= 0 and start >= price_end:
                prices.append(("price", "price", start, end, 1.0))
                price_end = end
            end = m.end(2) if m.end(2) >= 0 else m.end(3)
            if end >= 0 and start >= dose_end:
                unit = folded[start:end].rstrip()
                weight = 0.5 if unit.endswith(("кг", "шт", "штук")) else 1.0
                doses.append(("quantity", "dose", start, end, weight))
                dose_end = end
        return prices + doses


def indicator_evidence(kind: str) -> tuple[str, float] | None:
    """The concept and weight an indicator of ``kind`` contributes."""
    return INDICATOR_CONCEPT.get(kind)
