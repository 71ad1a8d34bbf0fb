"""Rules: how concepts combine into evidence for a category, and how context lowers it.

A :class:`Rule` names groups of concepts; it fires when every group has a match and all the chosen
matches lie within the proximity window (in characters of the original text) of an anchor match
of the first group. Its contribution is its weight times the weakest group's strength, a group's
strength being the sum of its distinct terms' weights (up to three terms, capped at 1): an
ambiguous word alone (``фен``, ``шишки``, weight 0.3) fires a rule only weakly, several weak shop
words together (operator, reviews, order) count fully. A weak anchor adds up with its own group's
words within the window the same way (a bio: "shop", "support", "bot"). Each rule counts once,
with its best instance. Context concepts (news, prevention, legitimate jobs and
goods — declared ``kind = "context"`` in their lexicon files with a per-category ``penalty``)
subtract ``penalty × min(2, sum of their distinct term weights)``.

The rule table is code (it names the concepts the bundled lexicons define); the words are data.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter

from detection.lexicon import Concept
from detection.patterns import INDICATOR_CONCEPT
from detection.quotes import inside, report_frame, reported_spans
from detection.verdict import Match, RuleHit

__all__ = ["DEFAULT_RULES", "REPORT_HIT", "Rule", "RuleEngine", "mark_reported"]

CONTEXT_CAP = 2.0
# In a report about others (detection.quotes.report_frame) quoted evidence counts for this share of
# its weight, the post's own words for OWN_IN_REPORT; outside a report nothing is discounted.
REPORTED_IN_REPORT = 0.1
OWN_IN_REPORT = 0.35
# Context concepts that speak about others (warnings, news): outside a report frame their words
# are addressed to the reader ("школьники, подработка…") and lower evidence only this much.
REPORT_CONTEXT = frozenset({"prevention", "news"})
READER_CONTEXT = 0.25
# Legitimate goods do not go "only through a stash": strong stash words, the post's own, beside a
# substance word cancel the legitimate-goods penalty (cover stories: bath salt, vitamins,
# chocolates); without a substance word (bookmarks, "закладки для книг") the penalty stays.
COVER_CANCELS = frozenset({"legit_goods"})
STRONG_DROP = 0.8
SECONDARY = 0.9  # share of its evidence the weaker category keeps in a post with both
_IN_HANDLE = frozenset({"shop", "contact"})  # words a handle repeats ("bot", "shop")
REPORT_HIT = "context.report_frame"  # a hit that marks a post as a report about others
_weight = attrgetter("weight")


@dataclass(frozen=True, slots=True)
class Rule:
    """``groups``: each a tuple of concepts, one of which must match; ``min_distinct``: instead of
    a proximity rule, fire when one group has this many distinct terms (a price list)."""

    name: str
    category: str
    groups: tuple[tuple[str, ...], ...]
    weight: float
    note: str
    min_distinct: int = 0


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("sale.substance_drop", "sale", (("substance",), ("drop",)), 3.0,
         "a substance with stash/drop wording"),
    Rule("sale.substance_price", "sale", (("substance",), ("price", "quantity")), 2.2,
         "a substance with a price or a dose"),
    Rule("sale.substance_shop", "sale", (("substance",), ("shop",)), 2.2,
         "a substance with shop wording (operator, assortment, in stock)"),
    Rule("sale.substance_contact", "sale", (("substance",), ("contact",)), 1.6,
         "a substance with a contact (bot, handle, link, phone)"),
    Rule("sale.substance_payment", "sale", (("substance",), ("payment",)), 1.4,
         "a substance with a payment method"),
    Rule("sale.substance_delivery", "sale", (("substance",), ("delivery",)), 1.0,
         "a substance with generic delivery wording"),
    Rule("sale.shop_drop", "sale", (("shop",), ("drop",)), 2.0,
         "shop wording with stash/drop wording"),
    Rule("sale.drop_contact", "sale", (("drop",), ("contact", "payment", "price")), 1.0,
         "stash/drop wording with a contact, payment or price"),
    Rule("sale.drop", "sale", (("drop",),), 1.8,
         "stash wording on its own (клад, перезаклад, photo with coordinates)"),
    Rule("sale.drop_area", "sale", (("drop",), ("area",)), 1.0,
         "stash wording with districts (stashes by district)"),
    Rule("sale.substance_area", "sale", (("substance",), ("area",)), 1.0,
         "a substance with districts or cities (where it is on offer)"),
    Rule("sale.shop_area", "sale", (("shop",), ("area",)), 1.2,
         "shop wording with districts (in stock by district)"),
    Rule("sale.shop_contact", "sale", (("shop",), ("contact",)), 1.0,
         "shop wording with a contact (bot, operator, handle)"),
    Rule("sale.quantity_shop", "sale", (("quantity",), ("shop", "drop")), 1.0,
         "a small dose with shop or stash wording (giveaways, promos: '1г free')"),
    Rule("sale.shop_payment", "sale", (("shop",), ("payment",)), 0.6,
         "shop wording with a payment method (exchanger, crypto)"),
    Rule("sale.assortment", "sale", (("substance",),), 1.6,
         "three or more distinct substances: an assortment or price list", min_distinct=3),
    Rule("recruitment.job_drug_role", "recruitment", (("job_offer",), ("drug_role",)), 3.0,
         "a job offer for a drug-trade role (stash-layer, packer, stencil painter)"),
    Rule("recruitment.drug_role", "recruitment", (("drug_role",),), 1.8,
         "a drug-trade role named"),
    Rule("recruitment.job_courier_drop", "recruitment",
         (("job_offer", "courier_role"), ("drop",)), 2.6,
         "a job or courier role with stash/drop wording"),
    Rule("recruitment.job_substance", "recruitment",
         (("job_offer", "courier_role"), ("substance",)), 1.6,
         "a job or courier role with a substance"),
    Rule("recruitment.job_shop", "recruitment", (("job_offer", "courier_role"), ("shop",)), 1.2,
         "a job or courier role with shop wording"),
    Rule("recruitment.job_courier", "recruitment", (("job_offer",), ("courier_role",)), 0.9,
         "a job offer for a courier (alone, common in legitimate ads)"),
    Rule("recruitment.pay", "recruitment",
         (("job_offer", "courier_role", "drug_role"), ("recruit_pay",)), 1.6,
         "a job with the pay promises shops use (daily payouts, easy money)"),
    Rule("recruitment.terms", "recruitment",
         (("job_offer", "courier_role", "drug_role"), ("recruit_terms",)), 1.6,
         "a job with the conditions shops set (deposit, anonymity, no documents)"),
    Rule("recruitment.pay_terms", "recruitment", (("recruit_pay",), ("recruit_terms",)), 1.2,
         "pay promises with recruit conditions (secrecy, minors, deposits)"),
    Rule("recruitment.pay_drop", "recruitment", (("recruit_pay", "recruit_terms"), ("drop",)), 2.0,
         "pay promises or recruit conditions with stash/drop wording"),
    Rule("recruitment.job_contact", "recruitment", (("job_offer",), ("contact",)), 0.3,
         "a job offer with a Telegram contact"),
)

class RuleEngine:
    """Evaluates the rules over the matches of one text."""

    def __init__(self, concepts: dict[str, Concept], rules: tuple[Rule, ...] = DEFAULT_RULES,
                 proximity: int = 400) -> None:
        self.rules = rules
        self.proximity = proximity
        self.context = {name: c for name, c in concepts.items() if c.kind == "context"}
        # Per context concept, in order: its name, hit name, hit concepts and non-zero penalties.
        self._context = tuple((name, f"context.{name}", (name,),
                               tuple((cat, p) for cat, p in c.penalty.items() if p))
                              for name, c in self.context.items())
        # Each rule with a bit mask per group, to skip rules that cannot fire without looking.
        self._bit: dict[str, int] = {}
        for rule in rules:
            for group in rule.groups:
                for c in group:
                    self._bit.setdefault(c, 1 << len(self._bit))
        self._needs = [(rule, tuple(sum(self._bit[c] for c in set(g)) for g in rule.groups))
                       for rule in rules]
        # The rules whose every group is present, by concept mask (at most 2 ** len(_bit) masks),
        # each as :func:`_plan` gives it.
        self._candidates: dict[int, tuple[tuple, ...]] = {}

    def mask(self, concepts) -> int:
        m = 0
        for c in concepts:
            m |= self._bit.get(c, 0)
        return m

    def candidates(self, mask: int) -> tuple[Rule, ...]:
        """The rules, in order, that can fire when the concepts of ``mask`` are present."""
        return tuple(plan[0] for plan in self._plans(mask))

    def _plans(self, mask: int) -> tuple[tuple, ...]:
        plans = self._candidates.get(mask)
        if plans is None:
            plans = self._candidates[mask] = tuple(
                _plan(rule) for rule, needs in self._needs if all(g & mask for g in needs))
        return plans

    def can_fire(self, concepts) -> bool:
        """Whether any rule could fire given the concepts present (proximity aside)."""
        return bool(self._plans(self.mask(concepts)))

    def evaluate(self, matches: list[Match], text: str | None = None, frame: bool | None = None,
                 main_purpose: bool = True) -> tuple[dict[str, float], list[RuleHit]]:
        """Raw evidence per category and the rule hits (context hits have negative contribution).

        With ``text`` (the post the matches come from), matches inside reported speech are marked
        (:func:`mark_reported`) and ``frame`` is worked out unless given. When the post is a report
        about others (``frame``), quoted evidence and the post's own are discounted and a
        ``context.report_frame`` hit says so; when it is known not to be, warning and news words
        are addressed to the reader and lower evidence less. ``frame=None`` and no text: neither.
        ``main_purpose``: a post is about its stronger category (a source profile is not).
        """
        if text is not None:
            matches = mark_reported(matches, text)
            if frame is None:
                frame = report_frame(text)
        if frame:
            # Each rebuilt with its weight scaled (as replace() does, several times faster).
            matches = [Match(m.concept, m.term, m.text, m.span,
                             m.weight * (REPORTED_IN_REPORT if m.reported else OWN_IN_REPORT),
                             m.field, m.reported)
                       if self.context.get(m.concept) is None else m for m in matches]
        by_concept: dict[str, list[Match]] = {}
        for m in _outside_indicators(matches):
            found = by_concept.get(m.concept)
            if found is None:
                by_concept[m.concept] = [m]
            else:
                found.append(m)
        raw = {"sale": 0.0, "recruitment": 0.0}
        hits: list[RuleHit] = []
        # Matches that all lie within the window of each other need no distance checks.
        window = None if _spread(matches) <= self.proximity else self.proximity
        for plan in self._plans(self.mask(by_concept)):
            hit = self._fire(plan, by_concept, window)
            if hit is not None:
                raw[hit.category] += hit.contribution
                hits.append(hit)
        if not hits:
            return raw, hits  # context only lowers evidence; with none there is nothing to explain
        if frame:
            hits.append(RuleHit(REPORT_HIT, max(raw, key=raw.get), ("report",), 0.0, ()))
        own_stash = "substance" in by_concept and any(
            m.weight >= STRONG_DROP and not m.reported for m in by_concept.get("drop", ()))
        for name, hit_name, names, penalties in self._context:
            found = by_concept.get(name)
            if not found or (own_stash and name in COVER_CANCELS):
                continue
            distinct: dict[str, Match] = {}
            for m in found:
                distinct.setdefault(m.term, m)
            words = tuple(distinct.values())
            strength = min(CONTEXT_CAP, sum(m.weight for m in words))
            if frame is False and name in REPORT_CONTEXT:
                strength *= READER_CONTEXT
            for category, penalty in penalties:
                raw[category] -= penalty * strength
                hits.append(RuleHit(hit_name, category, names, -penalty * strength, words))
        if main_purpose and min(raw.values()) > 0:
            _main_purpose(raw, hits)
        return raw, hits

    def _fire(self, plan: tuple, by_concept: dict[str, list[Match]], window: int | None
              ) -> RuleHit | None:
        """The rule's best instance; ``window`` None: every match is near every other."""
        rule, lookups, concepts = plan
        groups = []
        for group in lookups:
            if group.__class__ is str:  # most groups: the concept's own list (never changed here)
                found = by_concept.get(group)
            else:
                found = [m for c in group for m in by_concept.get(c, ())]
            if not found:
                return None
            groups.append(found)
        if rule.min_distinct:
            distinct: dict[str, Match] = {}
            for m in sorted(groups[0], key=lambda m: -m.weight):
                distinct.setdefault(m.term, m)
            if len(distinct) < rule.min_distinct:
                return None
            chosen = sorted(distinct.values(), key=lambda m: -m.weight)[: rule.min_distinct]
            strength = min(1.0, sum(m.weight for m in chosen) / 2)  # three weak codes ≈ 0.45
            return RuleHit(rule.name, rule.category, tuple(sorted({m.concept for m in chosen})),
                           rule.weight * strength, tuple(sorted(chosen, key=lambda m: m.span)))
        if len(groups) == 1:
            strength, chosen = _accumulate(groups[0])
            return RuleHit(rule.name, rule.category,
                           concepts or tuple(sorted({m.concept for m in chosen})),
                           rule.weight * strength, tuple(chosen))
        best_value, best_set = 0.0, None
        first = groups[0]
        if window is None:
            # Every match is near every anchor: the other groups' strengths are the same for each
            # anchor and are worked out once.
            rest_value, rest = 1.0, []
            for others in groups[1:]:
                strength, picked = _accumulate(others)
                if strength < rest_value:
                    rest_value = strength
                rest += picked
            # Each anchor is worth the same: a strong one 1, a weak one its whole group added up
            # (the same distinct terms' weights, whichever anchor leads them), itself 1 if the
            # group has a strong word; so the first anchor is the best instance.
            anchor = first[0]
            value = anchor.weight if anchor.weight < 1.0 else 1.0
            chosen = [anchor]
            if value < 1.0 and len(first) > 1:  # weak anchor: its group's words add up
                value, chosen = _accumulate(first)  # [anchor] + the others, in order
            if rest_value < value:
                value = rest_value
            if value > best_value:
                best_value, best_set = value, chosen + rest
        else:
            whole: dict[int, tuple[float, list[Match]]] = {}  # groups all near an anchor
            for anchor in first:
                chosen = [anchor]
                value = min(1.0, anchor.weight)
                if value < 1.0 and len(first) > 1:  # weak anchor: its group's words near it count
                    near = _near(anchor, first, window)
                    value, chosen = _accumulate([anchor] + [m for m in near if m is not anchor])
                for i, others in enumerate(groups[1:]):
                    near = _near(anchor, others, window)
                    if not near:
                        break
                    if len(near) < len(others):
                        strength, picked = _accumulate(near)
                    else:
                        if i not in whole:
                            whole[i] = _accumulate(others)
                        strength, picked = whole[i]
                    value = min(value, strength)
                    chosen += picked
                else:
                    if value > best_value:
                        best_value, best_set = value, chosen
        if best_set is None:
            return None
        return RuleHit(rule.name, rule.category,
                       concepts or tuple(dict.fromkeys([m.concept for m in best_set])),
                       rule.weight * best_value, tuple(best_set))


def _plan(rule: Rule) -> tuple:
    """What :meth:`RuleEngine._fire` needs of a rule: the rule, per group the concept to look up
    (or the tuple of several), and its hits' concepts when each group is one (else None)."""
    lookups = tuple(g[0] if len(g) == 1 else g for g in rule.groups)
    single = all(len(g) == 1 for g in rule.groups)
    return rule, lookups, tuple(dict.fromkeys(lookups)) if single else None


def _outside_indicators(matches: list[Match]) -> list[Match]:
    """``matches`` without the shop and contact words found inside an indicator (``bot`` in
    ``@bookmarks_store_bot``): the indicator already counts as a contact. Product words in a
    handle (``@snow_mef_bot``) still count."""
    spans = [(m.field, m.span) for m in matches if m.term in INDICATOR_CONCEPT]
    if not spans:
        return matches
    return [m for m in matches if m.concept not in _IN_HANDLE or m.term in INDICATOR_CONCEPT
            or not any(f == m.field and s <= m.span[0] and m.span[1] <= e for f, (s, e) in spans)]


def _main_purpose(raw: dict[str, float], hits: list[RuleHit]) -> None:
    """A post with evidence for both categories is about the stronger one (a price list with a
    line "we need couriers" is a sale): the weaker keeps :data:`SECONDARY` of its evidence, so
    it is still recorded when strong, and a ``context.main_purpose`` hit says so."""
    if min(raw.values()) <= 0:
        return
    weaker = min(raw, key=raw.get)
    cut = raw[weaker] * (1 - SECONDARY)
    raw[weaker] -= cut
    hits.append(RuleHit("context.main_purpose", weaker, ("purpose",), -cut, ()))


def mark_reported(matches: list[Match], text: str, field: str = "text") -> list[Match]:
    """``matches`` with those of ``field`` inside reported speech of ``text`` marked
    ``reported`` (quotes, «пишут:», forwards; see :mod:`detection.quotes`)."""
    spans = reported_spans(text)
    if not spans:
        return matches
    return [Match(m.concept, m.term, m.text, m.span, m.weight, m.field, True)  # replace(), fast
            if m.field == field and inside(m.span, spans) else m for m in matches]


def _accumulate(matches: list[Match]) -> tuple[float, list[Match]]:
    """Strength of a group: distinct terms add up (capped at 1), so several weak shop words
    (operator, reviews, order) count like one strong one. Returns the matches that made it."""
    if len(matches) == 1:  # most groups: the same answer without sorting
        weight = 0.0 + matches[0].weight
        return (weight if weight < 1.0 else 1.0), [matches[0]]
    total, picked, terms = 0.0, [], set()
    for m in sorted(matches, key=_weight, reverse=True):  # stable, like key=-weight
        if m.term in terms:
            continue  # each term counts once, with its heaviest match
        terms.add(m.term)
        picked.append(m)
        total += m.weight
        if total >= 1.0 or len(picked) == 3:
            break
    return min(1.0, total), picked


def _spread(matches: list[Match]) -> float:
    """From the first start to the last end of ``matches``, if all are of one field (a post);
    no two of them are further apart. Infinite for several fields."""
    if not matches:
        return 0
    field = matches[0].field
    first, last = matches[0].span
    for m in matches:  # one pass: a post has a handful of matches
        if m.field != field:
            return float("inf")
        s, e = m.span
        if s < first:
            first = s
        if e > last:
            last = e
    return last - first


def _near(anchor: Match, others: list[Match], window: int) -> list[Match]:
    """The matches of ``others`` at most ``window`` characters from ``anchor`` (gap between the
    spans; 0 if they overlap). Title, description and pinned post of a source are read together,
    so a match in another field is always near."""
    field, (start, end) = anchor.field, anchor.span
    out = []
    for m in others:
        if m.field != field:
            out.append(m)
            continue
        s, e = m.span
        if (s - end if end <= s else start - e if e <= start else 0) <= window:
            out.append(m)
    return out
