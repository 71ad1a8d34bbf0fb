"""The rule engine's and the scorer's speed-ups keep behaviour (as tests/detection/test_fast_paths.py
does for the patterns): each fast path gives what its plain form gives. The plain forms below are
the reference; if one of them changes, change both."""

from __future__ import annotations

import dataclasses
import inspect

import pytest
from hypothesis import given, settings, strategies as st

from detection import rules
from detection.verdict import Match, RuleHit

CONCEPTS = sorted({c for r in rules.DEFAULT_RULES for g in r.groups for c in g})
ENGINE = rules.RuleEngine({})
TERMS = ["меф", "шишки", "бот", "оператор", "магазин", "telegram_bot", "phone", "price", "dose"]


@pytest.mark.parametrize("cls", [Match, RuleHit])
def test_fast_inits_take_and_set_the_dataclass_fields(cls):
    fields = dataclasses.fields(cls)
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    assert [p.name for p in params] == [f.name for f in fields]
    assert [p.default for p in params] == [
        inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default for f in fields]
    values = [object() for _ in fields]
    made = cls(*values)
    assert [getattr(made, f.name) for f in fields] == values
    assert cls(**{f.name: v for f, v in zip(fields, values, strict=True)}) == made
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.__setattr__(fields[0].name, 1)


def test_match_defaults_and_replace():
    m = Match("shop", "бот", "бот", (1, 4), 0.5)
    assert (m.field, m.reported) == ("text", False)
    assert dataclasses.replace(m, reported=True) == Match("shop", "бот", "бот", (1, 4), 0.5,
                                                          "text", True)


def matches(fields=("text",)):
    one = st.builds(lambda c, t, s, n, w, f, r: Match(c, t, t, (s, s + n), w, f, r),
                    st.sampled_from(CONCEPTS), st.sampled_from(TERMS), st.integers(0, 900),
                    st.integers(1, 20), st.sampled_from([0.3, 0.5, 0.6, 0.8, 1.0, 1.2]),
                    st.sampled_from(fields), st.booleans())
    return st.lists(one, max_size=10)


@settings(max_examples=400, deadline=None)
@given(matches())
def test_every_rule_fires_near_everything_as_with_a_window_that_holds_everything(found):
    # window None (every match near every other) against the plain per-anchor search of
    # with a window nothing is beyond; and the hit's concepts as worked out plainly.
    by_concept: dict[str, list[Match]] = {}
    for m in found:
        by_concept.setdefault(m.concept, []).append(m)
    for rule in rules.DEFAULT_RULES:
        plan = rules._plan(rule)
        fast, plain = ENGINE._fire(plan, by_concept, None), ENGINE._fire(plan, by_concept, 10 ** 6)
        assert fast == plain
        if fast is not None and not rule.min_distinct:
            if len(rule.groups) == 1:
                assert fast.concepts == tuple(sorted({m.concept for m in fast.matches}))
            else:
                assert fast.concepts == tuple(dict.fromkeys(m.concept for m in fast.matches))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["меф", "м е ф", "клад", "ммеееф", "бот", "@shop_bot", " ", "\n",
                                 "5г", "10 000 тг", "Алматы", "а-а-а", "😀", "𝟓"]),
                max_size=12).map("".join))
def test_matches_map_spans_as_to_original_does(detector, text):
    folded, found, patterns, indicators, _, _ = detector._collect(text)
    got = detector._matches(text, folded, found, patterns, indicators, "text")
    spans = [folded.to_original(s, e) for _, s, e in found]
    spans += [folded.to_original(s, e) for _, _, s, e, _ in patterns]
    assert [m.span for m in got[:len(spans)]] == spans
    assert [m.text for m in got[:len(spans)]] == [text[s:e] for s, e in spans]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([-1.2, -0.3, 0.0, -0.0, 0.3, 1.6, 2.2]), max_size=8))
def test_decide_orders_hits_as_the_plain_sort(detector, contributions):
    hits = [RuleHit(f"r{i}", "sale", (), c, ()) for i, c in enumerate(contributions)]
    plain = sorted(hits, key=lambda h: -h.contribution)
    verdict = detector._decide({"sale": 0.9, "recruitment": 0.1}, list(hits), [])
    assert [h.rule for h in verdict.hits] == [h.rule for h in plain]
