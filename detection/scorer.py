"""The detector: normalise, match lexicons, extract indicators, apply rules, score.

``Detector.from_config(cfg)`` builds everything once (lexicons, automata, compiled patterns and
the learned model: the bundled one unless configured otherwise or ``rules_only``); ``score(text)``
then returns a :class:`Verdict` for a post and ``score_source(...)`` one for a channel, bot or
site.

With a second-format model (:class:`~detection.model.FeatureModel`) the rules' evidence becomes
features of the model (:mod:`detection.features`) and the model's probabilities are the scores;
the verdict still lists the rules that fired with their spans and, where the model decided a
category, its strongest reasons in words.
"""

from __future__ import annotations

import hashlib
import math
from itertools import chain
from operator import attrgetter
from typing import Sequence

import numpy as np

from detection.config import DetectionConfig
from detection.extract import KINDS, Extractor, Indicator
from detection.batch import BatchProbs, WordHashes, batch_ngrams, segment_sums
from detection.features import Features, FeatureSpace
from detection.lexicon import Lexicon
from detection.matcher import Matcher
from detection.model import FeatureModel, LearnedModel, load_model
from detection.normalize import Normalizer, default_normalizer
from detection.patterns import PatternFinder, indicator_evidence
from detection.quotes import report_frame
from detection.rules import DEFAULT_RULES, RuleEngine, mark_reported
from detection.source import (PROFILE_GAIN, legitimate, main_purpose, post_evidence, reporting,
                              shop_that_recruits)
from detection.verdict import Contribution, Match, RuleHit, Verdict

__all__ = ["Detector", "thresholds"]

SCORED = ("sale", "recruitment")
SOURCE_FIELDS = ("title", "description", "pinned")
_PRICED = frozenset({"substance", "drop"})
_NO_EVIDENCE = {"sale": 0.0, "recruitment": 0.0}
_BUILT_IN_CONCEPTS = ("price", "quantity", "contact", "payment")  # patterns and indicators
_contribution = attrgetter("contribution")
BATCH = 512  # posts :meth:`Detector.score_many` weighs together


def thresholds(config: DetectionConfig,
               model: LearnedModel | FeatureModel | None) -> dict[str, float]:
    """Per category, the score that puts a post in it: the configured one, else the model's
    operating point (``FeatureModel.thresholds``), else 0.5."""
    own = model.thresholds if isinstance(model, FeatureModel) else {}
    configured = {"sale": config.sale_threshold, "recruitment": config.recruitment_threshold}
    return {c: configured[c] if configured[c] is not None else own.get(c, 0.5) for c in SCORED}


class Detector:
    """Scores posts and sources; build once, reuse for every text."""

    def __init__(self, config: DetectionConfig, lexicon: Lexicon,
                 model: LearnedModel | FeatureModel | None = None,
                 normalizer: Normalizer | None = None) -> None:
        self.config = config
        self.lexicon = lexicon
        self.model = model
        self.normalizer = normalizer or default_normalizer()
        self.matcher = Matcher(lexicon.terms, self.normalizer)
        self.extractor = Extractor()
        self.patterns = PatternFinder()
        self.engine = RuleEngine(lexicon.concepts, DEFAULT_RULES, config.proximity)
        self.thresholds = thresholds(config, model)
        rules_digest = hashlib.sha256((lexicon.digest + repr(DEFAULT_RULES)).encode()).hexdigest()
        self.model_version = (f"rules-{rules_digest[:12]}"
                              + (f"+{model.version}" if model else ""))
        # A post with no rule evidence (most posts) always gets the same scores and category.
        self._quiet_rules = self._decide(
            {c: self._to_score(_NO_EVIDENCE[c]) for c in SCORED}, [], [])
        self._quiet = self._quiet_rules if model is None else None
        context = [f"context.{n}" for n, c in lexicon.concepts.items() if c.kind == "context"]
        self.space = FeatureSpace([r.name for r in DEFAULT_RULES] + context,
                                  [*lexicon.concepts, *_BUILT_IN_CONCEPTS], list(KINDS),
                                  bits=model.bits if isinstance(model, FeatureModel) else 18)
        self._v2 = isinstance(model, FeatureModel)
        self._crc = WordHashes()  # words' hashes, for batches
        self._bound = model.bind(self.space.names) if isinstance(model, FeatureModel) else None
        # The model's weights of char and word buckets and of named features, a row each.
        self._tables = () if not self._v2 else tuple(
            _weight_table(w) for w in (model.coef_char, model.coef_word, self._bound))
        rule_concepts = {c for r in DEFAULT_RULES for g in r.groups for c in g}
        missing = rule_concepts - set(lexicon.concepts) - set(_BUILT_IN_CONCEPTS)
        self.missing_concepts = sorted(missing)  # rules that cannot fire with this lexicon

    @classmethod
    def from_config(cls, config: DetectionConfig | None = None) -> Detector:
        config = config or DetectionConfig()
        lexicon = Lexicon.load(config.lexicon_dir)
        path = config.resolved_model_path()
        return cls(config, lexicon, load_model(path) if path else None)

    # -- evidence ---------------------------------------------------------------------------
    def _collect(self, text: str, every_price: bool = False):
        """Folded text, term matches, pattern matches and indicators, before any mapping; with
        ``every_price`` also every price and dose, near a substance or not (the model's)."""
        folded = self.normalizer.normalize(text)
        found = self.matcher.find_spans(folded.text)
        concepts = {term.concept for term, _, _ in found}
        # Prices and doses only count next to a substance or stash words.
        priced = not concepts.isdisjoint(_PRICED)
        every = self.patterns.find(folded.text) if priced or every_price else []
        indicators = self.extractor.extract(text)
        return folded, found, every if priced else [], indicators, concepts, every

    def _matches(self, text, folded, found, patterns, indicators, field) -> list[Match]:
        matches: list[Match] = []
        add = matches.append
        layers = folded.layers
        to_original = folded.to_original if layers else None  # None: the identity
        # One pass changed the length (most folded posts): Folded.to_original's own first branch
        # for a span inside the text, without its call and its checks per span.
        inside = layers[0].map_inside if len(layers) == 1 else None
        n = len(folded.text)
        for t, s, e in found:
            if inside is not None and 0 <= s < e <= n:
                s, e = inside(s, e)
                if e < s:
                    e = s
            elif to_original is not None:
                s, e = to_original(s, e)
            add(Match(t.concept, t.text, text[s:e], (s, e), t.weight, field))
        for concept, name, fs, fe, weight in patterns:
            s, e = (fs, fe) if to_original is None else to_original(fs, fe)
            add(Match(concept, name, text[s:e], (s, e), weight, field))
        for ind in indicators:
            ev = indicator_evidence(ind.kind)
            if ev:
                s, e = ind.span
                add(Match(ev[0], ind.kind, text[s:e], ind.span, ev[1], field))
        return matches

    def evidence(self, text: str, field: str = "text") -> tuple[list[Match], list[Indicator], str]:
        """Matches (lexicon terms, patterns, indicators) in original coordinates, the indicators
        and the folded text."""
        folded, found, patterns, indicators, _, _ = self._collect(text)
        if field != "text":
            indicators = [Indicator(i.kind, i.value, i.span, field) for i in indicators]
        matches = self._matches(text, folded, found, patterns, indicators, field)
        return matches, indicators, folded.text

    def _to_score(self, raw: float) -> float:
        x = self.config.score_steepness * (raw - self.config.score_midpoint)
        return 1.0 / (1.0 + math.exp(-x)) if x > -60 else 0.0

    def _blend(self, rule_scores: dict[str, float], folded: str,
               features: Features | None = None) -> dict[str, float]:
        """Category scores: the rules' alone, blended with a first-format model's, or a
        second-format model's probabilities over ``features``, which the caller builds from
        the evidence (features without it were how an empty profile came to read as a shop)."""
        if self.model is None:
            return rule_scores
        if isinstance(self.model, FeatureModel):
            if features is None:
                raise ValueError("a second-format model reads the evidence's features")
            probs = self.model.predict(features, self._bound)
            return {c: probs[c] for c in SCORED}
        probs = self.model.predict_proba([folded])[0]
        w = self.config.model_weight
        return {c: (1 - w) * rule_scores[c] + w * probs.get(c, 0.0) for c in SCORED}

    def _profile(self, raw: dict[str, float], folded: str, matches: list[Match],
                 hits: list[RuleHit], indicators: list[Indicator],
                 frame: bool) -> dict[str, float]:
        """A source profile's scores: the model over the profile's matches, hits and indicators
        when a rule fired for it, else the rules' own scores. A title and a description are
        a few words, shorter than anything the model learned from: asked about an empty
        profile its intercept alone said "sale" 0.49, and about "Алматы сегодня / Новости
        города" 0.63; without a rule it has no business deciding."""
        rule_scores = {c: self._to_score(raw[c]) for c in SCORED}
        if not any(h.contribution > 0 for h in hits):
            return rule_scores
        features = (self.space.build(folded, matches, hits, indicators, rule_scores, (), frame)
                    if self._v2 else None)
        return self._blend(rule_scores, folded, features)

    def _decide(
        self, scores: dict[str, float], hits: list[RuleHit], indicators: list[Indicator],
        main: str | None = None,
    ) -> Verdict:
        """The verdict: the stronger of the categories that pass their thresholds (``main``, when
        it passes: a channel's main purpose), else none."""
        thresholds = self.thresholds
        passing = [c for c in SCORED if scores[c] >= thresholds[c]]
        if passing:
            category = main if main in passing else max(passing, key=scores.__getitem__)
            score = scores[category]
        else:
            category, score = "none", max(scores.values())
        if len(hits) > 1:
            # Strongest first; reverse=True keeps equal contributions in order, as key=-c does.
            hits.sort(key=_contribution, reverse=True)
        return Verdict(category, min(1.0, max(0.0, score)), hits, indicators, self.model_version,
                       dict(scores))

    # -- public ---------------------------------------------------------------------------
    def score(self, text: str) -> Verdict:
        """Verdict for one post's text."""
        if not isinstance(text, str):
            raise TypeError(f"text must be str, not {type(text).__name__}")
        if self._v2:
            return self._model_verdict(text)
        folded, found, patterns, indicators, concepts, _ = self._collect(text)
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
        rule_scores = {c: self._to_score(raw[c]) for c in SCORED}
        return self._decide(self._blend(rule_scores, folded.text), hits, indicators)

    def score_many(self, texts: Sequence[str]) -> list[Verdict]:
        """Verdicts for many posts, the same as :meth:`score` gives each. With a second-format
        model the posts' n-grams are hashed and weighed together, in batches of
        :data:`BATCH` (several times faster than one by one): the chain scores this way."""
        if not self._v2:
            return [self.score(text) for text in texts]
        out: list[Verdict] = []
        for i in range(0, len(texts), BATCH):
            read = [self._read(text) for text in texts[i:i + BATCH]]
            probs = iter(self._predict_many([r for r in read if r is not None]))
            out += [self._model_decide(r, next(probs) if r is not None else None) for r in read]
        return out

    def _model_verdict(self, text: str) -> Verdict:
        """:meth:`score` with a second-format model. A post with no evidence at all (no lexicon
        term, price, dose or indicator: most posts of a stream, 1 of the writers' 1,149
        positives) is not read by the model and gets the rules' quiet verdict."""
        read = self._read(text)
        if read is None:
            return self._model_decide(None, None)
        return self._model_decide(read, self.model.predict(self.space.build(*read), self._bound))

    def _model_decide(self, read: tuple | None, probs: dict[str, float] | None) -> Verdict:
        """The verdict from a post's evidence (:meth:`_read`) and the model's probabilities."""
        if read is None:
            q = self._quiet_rules
            return Verdict(q.category, q.score, [], [], self.model_version, dict(q.scores))
        folded, _, hits, indicators = read[:4]
        # A batch's probabilities hold the categories' alone, as _decide takes them.
        scores = probs if isinstance(probs, BatchProbs) else {c: probs[c] for c in SCORED}
        verdict = self._decide(scores, hits, indicators)
        if verdict.category != "none" and self.config.explain_top:
            features = (probs.features() if isinstance(probs, BatchProbs)
                        else self.space.build(*read))
            verdict.contributions = [Contribution(words, weight) for words, weight in
                                     self.model.contributions(
                                         features, self._bound, self.space.names,
                                         verdict.category, folded, self.config.explain_top)]
        return verdict

    def _predict_many(self, reads: list[tuple]) -> list[BatchProbs]:
        """The model's probabilities of the categories (:data:`SCORED`) for many posts'
        evidence at once (:meth:`_read`): the same sums as ``FeatureModel.predict`` per post,
        each block's weight rows gathered in one go and added up per post
        (:func:`~detection.batch.segment_sums`)."""
        if not reads:
            return []
        model, n, k = self.model, len(reads), len(self.model.labels)
        b = batch_ngrams([r[0] for r in reads], self.space.bits, self._crc)
        named = [self.space.named(*r, *shape_counts)
                 for r, shape_counts in zip(reads, b.counts.tolist(), strict=True)]
        counts = np.fromiter(map(len, named), dtype=np.int64, count=n)
        total = int(counts.sum())
        cols = np.fromiter(chain.from_iterable(named), dtype=np.int64, count=total)
        vals = np.fromiter(chain.from_iterable(map(dict.values, named)), dtype=np.float64,
                           count=total)
        char_w, word_w, named_w = self._tables
        z = (model.intercept
             + segment_sums(named_w.take(cols, axis=0) * vals[:, None], counts)[:, :k]
             + b.char_val[:, None] * segment_sums(char_w.take(b.char_ids, axis=0),
                                                  b.char_entries)[:, :k]
             + b.word_val[:, None] * segment_sums(word_w.take(b.word_ids, axis=0),
                                                  b.word_entries)[:, :k])
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        out = []
        for i, row in enumerate(p[:, [model.labels.index(c) for c in SCORED]].tolist()):
            probs = BatchProbs(zip(SCORED, row, strict=True))
            probs.batch, probs.named, probs.index = b, named[i], i
            out.append(probs)
        return out

    def _read(self, text: str, always: bool = False) -> tuple | None:
        """The detector's evidence of a post, as :meth:`FeatureSpace.build` takes it (folded
        text, matches, hits, indicators, the rules' scores, prices and doses, report frame);
        None for a post with no evidence (unless ``always``)."""
        if not isinstance(text, str):
            raise TypeError(f"text must be str, not {type(text).__name__}")
        # The rules skip prices far from substance words; the model's shape features count all.
        folded, found, patterns, indicators, concepts, every_price = self._collect(text, True)
        if not (found or indicators or every_price or always):
            return None
        matches = self._matches(text, folded, found, patterns, indicators, "text")
        # The terms' concepts are there already; the patterns' and indicators' come after them.
        concepts.update([m.concept for m in matches[len(found):]])
        frame = False
        if self.engine.can_fire(concepts):  # as the rules do: quotes matter where rules fire
            matches = mark_reported(matches, text)
            frame = report_frame(text)
            raw, hits = self.engine.evaluate(matches, frame=frame)
        else:
            raw, hits = _NO_EVIDENCE, []
        rule_scores = {c: self._to_score(raw[c]) for c in SCORED}
        return folded.text, matches, hits, indicators, rule_scores, every_price, frame

    def features(self, text: str) -> Features:
        """The model's features of a post (what :meth:`score` feeds a second-format model)."""
        return self.space.build(*self._read(text, always=True))

    def score_source(self, title: str | None, description: str | None, pinned_text: str | None,
                     post_verdicts: Sequence[Verdict]) -> Verdict:
        """Verdict for a channel, bot or site from its own texts and its posts' verdicts.

        The title, description and pinned post are read together as a profile (a bio that is a
        bot link and a price list is a shop), the channel's own description of itself, so its
        evidence counts with a gain (:mod:`detection.source`). The posts count by the share
        flagged in each category, saturating at ``source_share_saturation``, times their mean
        score: one shop post among a thousand news posts adds almost nothing. A channel that
        reports on others (its profile, or many of its posts, a report frame: volunteers, news)
        has its posts discounted, and so does one whose profile describes a legitimate business.
        The two combine as independent evidence: ``1 - (1 - profile) * (1 - posts)``. A channel
        that both sells and recruits is a shop that recruits unless recruiting is its main
        purpose (:mod:`detection.source`).
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
        profile = self._profile(raw, "\n".join(folded_parts), matches, hits, indicators, frame)
        legit = legitimate(matches, max(SCORED, key=lambda c: profile[c]))
        if legit is not None:
            hits.append(legit)
        reporter = reporting(frame, post_verdicts) or legit is not None
        scores = {}
        for c in SCORED:
            posts, hit = post_evidence(post_verdicts, c, self.config.source_min_posts,
                                       self.config.source_share_saturation, reporter)
            if hit is not None:
                hits.append(hit)
            scores[c] = 1.0 - (1.0 - profile[c]) * (1.0 - posts)
        main = main_purpose(profile, post_verdicts)
        lifted = shop_that_recruits(profile, scores, self.thresholds) if main == "sale" else None
        if lifted is not None:
            hits.append(lifted)
        return self._decide(scores, hits, indicators, main)


def _weight_table(coef: np.ndarray) -> np.ndarray:
    """A block's weights (a row per bucket or named feature, a column per label) in float64,
    with a zero row appended (the bucket of "no n-gram", :class:`~detection.features.NgramBatch`)
    and zero columns up to four (rows of 32 bytes: numpy gathers those fastest)."""
    table = np.zeros((len(coef) + 1, max(4, coef.shape[1])))
    table[:-1, :coef.shape[1]] = coef
    return table
