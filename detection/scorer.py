"""The detector: normalise, match lexicons, extract indicators, apply rules, score.

``Detector.from_config(cfg)`` builds everything once (lexicons, automata, compiled patterns and
the learned model if configured); ``score(text)`` then returns a :class:`Verdict` for a post and
``score_source(...)`` one for a channel, bot or site.
"""

from __future__ import annotations

import hashlib
import math
from typing import Sequence

from detection.config import DetectionConfig
from detection.extract import Extractor, Indicator
from detection.lexicon import Lexicon
from detection.matcher import Matcher
from detection.model import LearnedModel
from detection.normalize import Normalizer, default_normalizer
from detection.quotes import report_frame
from detection.rules import (DEFAULT_RULES, PatternFinder, RuleEngine, indicator_evidence,
                             mark_reported)
from detection.source import PROFILE_GAIN, post_evidence, reporting, shop_that_recruits
from detection.verdict import Match, RuleHit, Verdict

__all__ = ["Detector"]

SCORED = ("sale", "recruitment")
SOURCE_FIELDS = ("title", "description", "pinned")
_PRICED = frozenset({"substance", "drop"})
_NO_EVIDENCE = {"sale": 0.0, "recruitment": 0.0}


class Detector:
    """Scores posts and sources; build once, reuse for every text."""

    def __init__(self, config: DetectionConfig, lexicon: Lexicon, model: LearnedModel | None = None,
                 normalizer: Normalizer | None = None) -> None:
        self.config = config
        self.lexicon = lexicon
        self.model = model
        self.normalizer = normalizer or default_normalizer()
        self.matcher = Matcher(lexicon.terms, self.normalizer)
        self.extractor = Extractor()
        self.patterns = PatternFinder()
        self.engine = RuleEngine(lexicon.concepts, DEFAULT_RULES, config.proximity)
        self.thresholds = {"sale": config.sale_threshold,
                           "recruitment": config.recruitment_threshold}
        rules_digest = hashlib.sha256((lexicon.digest + repr(DEFAULT_RULES)).encode()).hexdigest()
        self.model_version = (f"rules-{rules_digest[:12]}"
                              + (f"+{model.version}" if model else ""))
        # A post with no rule evidence (most posts) always gets the same scores and category.
        self._quiet = self._decide(
            {c: self._to_score(_NO_EVIDENCE[c]) for c in SCORED}, [], []) if model is None else None
        rule_concepts = {c for r in DEFAULT_RULES for g in r.groups for c in g}
        missing = (rule_concepts - set(lexicon.concepts)
                   - {"price", "quantity", "contact", "payment"})
        self.missing_concepts = sorted(missing)  # rules that cannot fire with this lexicon

    @classmethod
    def from_config(cls, config: DetectionConfig | None = None) -> Detector:
        config = config or DetectionConfig()
        lexicon = Lexicon.load(config.lexicon_dir)
        model = LearnedModel.load(config.model_path) if config.model_path else None
        return cls(config, lexicon, model)

    # -- evidence ---------------------------------------------------------------------------
    def _collect(self, text: str):
        """Folded text, term matches, pattern matches and indicators, before any mapping."""
        folded = self.normalizer.normalize(text)
        found = self.matcher.find_spans(folded.text)
        concepts = {term.concept for term, _, _ in found}
        # Prices and doses only count next to a substance or stash words.
        patterns = [] if concepts.isdisjoint(_PRICED) else self.patterns.find(folded.text)
        indicators = self.extractor.extract(text)
        return folded, found, patterns, indicators, concepts

    def _matches(self, text, folded, found, patterns, indicators, field) -> list[Match]:
        matches: list[Match] = []
        identity = not folded.layers
        for t, fs, fe in found:
            s, e = (fs, fe) if identity else folded.to_original(fs, fe)
            matches.append(Match(t.concept, t.text, text[s:e], (s, e), t.weight, field))
        for concept, name, fs, fe, weight in patterns:
            s, e = (fs, fe) if identity else folded.to_original(fs, fe)
            matches.append(Match(concept, name, text[s:e], (s, e), weight, field))
        for ind in indicators:
            ev = indicator_evidence(ind.kind)
            if ev:
                s, e = ind.span
                matches.append(Match(ev[0], ind.kind, text[s:e], ind.span, ev[1], field))
        return matches

    def evidence(self, text: str, field: str = "text") -> tuple[list[Match], list[Indicator], str]:
        """Matches (lexicon terms, patterns, indicators) in original coordinates, the indicators
        and the folded text."""
        folded, found, patterns, indicators, _ = self._collect(text)
        if field != "text":
            indicators = [Indicator(i.kind, i.value, i.span, field) for i in indicators]
        matches = self._matches(text, folded, found, patterns, indicators, field)
        return matches, indicators, folded.text

    def _to_score(self, raw: float) -> float:
        x = self.config.score_steepness * (raw - self.config.score_midpoint)
        return 1.0 / (1.0 + math.exp(-x)) if x > -60 else 0.0

    def _blend(self, rule_scores: dict[str, float], folded: str) -> dict[str, float]:
        if self.model is None:
            return rule_scores
        probs = self.model.predict_proba([folded])[0]
        w = self.config.model_weight
        return {c: (1 - w) * rule_scores[c] + w * probs.get(c, 0.0) for c in SCORED}

    def _decide(
        self, scores: dict[str, float], hits: list[RuleHit], indicators: list[Indicator]
    ) -> Verdict:
        passing = [c for c in SCORED if scores[c] >= self.thresholds[c]]
        if passing:
            category = max(passing, key=lambda c: scores[c])
            score = scores[category]
        else:
            category, score = "none", max(scores.values())
        hits.sort(key=lambda h: -h.contribution)
        return Verdict(category, min(1.0, max(0.0, score)), hits, indicators, self.model_version,
                       dict(scores))

    # -- public ---------------------------------------------------------------------------
    def score(self, text: str) -> Verdict:
        """Verdict for one post's text."""
        if not isinstance(text, str):
            raise TypeError(f"text must be str, not {type(text).__name__}")
        folded, found, patterns, indicators, concepts = self._collect(text)
        for ind in indicators:
            ev = indicator_evidence(ind.kind)
            if ev:
                concepts.add(ev[0])
        if self.engine.can_fire(concepts):
            matches = self._matches(text, folded, found, patterns, indicators, "text")
            raw, hits = self.engine.evaluate(matches, text)
        elif self._quiet is not None:  # no rule can fire and no model: the fixed verdict
            q = self._quiet
            return Verdict(q.category, q.score, [], indicators, q.model_version, dict(q.scores))
        else:  # no rule can fire: skip mapping spans and building matches (most posts)
            raw, hits = _NO_EVIDENCE, []
        scores = self._blend({c: self._to_score(raw[c]) for c in SCORED}, folded.text)
        return self._decide(scores, hits, indicators)

    def score_source(self, title: str | None, description: str | None, pinned_text: str | None,
                     post_verdicts: Sequence[Verdict]) -> Verdict:
        """Verdict for a channel, bot or site from its own texts and its posts' verdicts.

        The title, description and pinned post are read together as a profile (a bio that is a
        bot link and a price list is a shop), the channel's own description of itself, so its
        evidence counts with a gain (:mod:`detection.source`). The posts count by the share
        flagged in each category, saturating at ``source_share_saturation``, times their mean
        score: one shop post among a thousand news posts adds almost nothing. A channel that
        reports on others (its profile, or many of its posts, a report frame: volunteers, news)
        has its posts discounted. The two combine as independent evidence:
        ``1 - (1 - profile) * (1 - posts)``.
        """
        matches: list[Match] = []
        indicators: list[Indicator] = []
        folded_parts, own = [], []
        # Three names for three texts.
        for field, text in zip(SOURCE_FIELDS, (title, description, pinned_text), strict=True):
            if text:
                m, ind, folded = self.evidence(text, field)
                matches += mark_reported(m, text, field)
                indicators += ind
                folded_parts.append(folded)
                own.append(text)
        frame = report_frame("\n".join(own))
        raw, hits = self.engine.evaluate(matches, frame=frame, main_purpose=False)
        raw = {c: v * PROFILE_GAIN if v > 0 else v for c, v in raw.items()}
        profile = self._blend({c: self._to_score(raw[c]) for c in SCORED}, "\n".join(folded_parts))
        reporter = reporting(frame, post_verdicts)
        scores = {}
        for c in SCORED:
            posts, hit = post_evidence(post_verdicts, c, self.config.source_min_posts,
                                       self.config.source_share_saturation, reporter)
            if hit is not None:
                hits.append(hit)
            scores[c] = 1.0 - (1.0 - profile[c]) * (1.0 - posts)
        lifted = shop_that_recruits(profile, scores, self.thresholds)
        if lifted is not None:
            hits.append(lifted)
        return self._decide(scores, hits, indicators)
