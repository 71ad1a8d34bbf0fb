"""The result of scoring a text: category, score, the rules that fired and where, indicators.

Everything is a plain dataclass with ``to_dict()`` giving JSON-ready data for the store (the
``verdict`` record) and the review app (highlighting uses ``matches[].span``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from detection.extract import Indicator

__all__ = ["CATEGORIES", "Contribution", "Indicator", "Match", "RuleHit", "Verdict"]

CATEGORIES = ("sale", "recruitment", "none")
STRONG = 0.5  # a second category this strong is recorded beside the main one (a shop that recruits)


@dataclass(frozen=True, slots=True)
class Match:
    """One piece of evidence: a lexicon term, a pattern or an indicator, located in the original.

    ``span`` is ``(start, end)`` in the original text of ``field`` (``"text"`` for a post; for a
    source verdict ``"title"``, ``"description"`` or ``"pinned"``).
    """

    concept: str
    term: str  # lexicon term, pattern name or indicator kind
    text: str  # the words as they stand in the original
    span: tuple[int, int]
    weight: float
    field: str = "text"
    reported: bool = False  # inside quoted / reported speech (detection.quotes)

    def to_dict(self) -> dict:
        out = {"concept": self.concept, "term": self.term, "text": self.text,
               "span": list(self.span), "weight": round(self.weight, 4), "field": self.field}
        if self.reported:
            out["reported"] = True
        return out


@dataclass(frozen=True, slots=True)
class RuleHit:
    """A rule that fired: its contribution to a category (negative for context) and its matches."""

    rule: str
    category: str  # "sale" | "recruitment"
    concepts: tuple[str, ...]
    contribution: float
    matches: tuple[Match, ...]

    @property
    def words(self) -> list[str]:
        return [m.text for m in self.matches]

    @property
    def spans(self) -> list[tuple[int, int]]:
        return [m.span for m in self.matches]

    def to_dict(self) -> dict:
        return {"rule": self.rule, "category": self.category, "concepts": list(self.concepts),
                "contribution": round(self.contribution, 4),
                "matches": [m.to_dict() for m in self.matches]}


# The detector builds a few Matches and RuleHits per post. A frozen dataclass's own __init__ sets
# each field through object.__setattr__ (looked up per field, to get past the frozen
# __setattr__); these set the same slots through their descriptors, bound once, in half the time.
# Same fields, defaults and order: tests/detection/test_fast_paths.py checks them against the
# dataclasses' own.
def _slot_setters(cls) -> tuple:
    return tuple(cls.__dict__[f.name].__set__ for f in fields(cls))


def _match_init(setters: tuple):
    s_concept, s_term, s_text, s_span, s_weight, s_field, s_reported = setters

    def __init__(self, concept: str, term: str, text: str, span: tuple[int, int], weight: float,
                 field: str = "text", reported: bool = False) -> None:
        s_concept(self, concept)
        s_term(self, term)
        s_text(self, text)
        s_span(self, span)
        s_weight(self, weight)
        s_field(self, field)
        s_reported(self, reported)
    return __init__


def _hit_init(setters: tuple):
    s_rule, s_category, s_concepts, s_contribution, s_matches = setters

    def __init__(self, rule: str, category: str, concepts: tuple[str, ...], contribution: float,
                 matches: tuple[Match, ...]) -> None:
        s_rule(self, rule)
        s_category(self, category)
        s_concepts(self, concepts)
        s_contribution(self, contribution)
        s_matches(self, matches)
    return __init__


Match.__init__ = _match_init(_slot_setters(Match))
RuleHit.__init__ = _hit_init(_slot_setters(RuleHit))


@dataclass(frozen=True, slots=True)
class Contribution:
    """A feature that pushed the learned model towards the verdict's category, in an analyst's
    words ("rule sale.substance_drop", "n-gram «клад»", "bot link"), and by how much (log-odds
    against "none")."""

    feature: str
    weight: float

    def to_dict(self) -> dict:
        return {"feature": self.feature, "weight": round(self.weight, 4)}


@dataclass(slots=True)
class Verdict:
    """Detection result for one text (a post) or one source (a channel, bot or site)."""

    category: str  # "sale" | "recruitment" | "none"
    score: float  # in [0, 1]: the winning category's score (for "none", the highest one)
    hits: list[RuleHit] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)
    model_version: str = ""
    scores: dict[str, float] = field(default_factory=dict)  # per category, in [0, 1]
    # Where the learned model decided a category: its strongest reasons, strongest first.
    contributions: list[Contribution] = field(default_factory=list)

    @property
    def categories(self) -> list[str]:
        """The main category first, then any other category whose score is also strong (a shop
        that recruits is ``["sale", "recruitment"]``); ``["none"]`` when nothing passed."""
        if self.category == "none":
            return ["none"]
        others = sorted((c for c, s in self.scores.items()
                         if c != self.category and c != "none" and s >= STRONG),
                        key=lambda c: -self.scores[c])
        return [self.category, *others]

    @property
    def reasons(self) -> list[str]:
        """Rule names, strongest first (context rules last)."""
        return [h.rule for h in sorted(self.hits, key=lambda h: -h.contribution)]

    def to_dict(self) -> dict:
        return {
            "category": self.category,
            "categories": self.categories,
            "score": round(self.score, 4),
            "scores": {k: round(v, 4) for k, v in self.scores.items()},
            "hits": [h.to_dict() for h in self.hits],
            "indicators": [i.to_dict() for i in self.indicators],
            "model_version": self.model_version,
            "contributions": [c.to_dict() for c in self.contributions],
        }
