"""The rule engine's context handling, on hand-made matches: reported speech, the report frame,
words addressed to the reader, cover stories and a post's main purpose."""

from __future__ import annotations

import pytest

from detection.lexicon import Concept
from detection.rules import (OWN_IN_REPORT, READER_CONTEXT, REPORT_HIT, REPORTED_IN_REPORT,
                             SECONDARY, RuleEngine, mark_reported)
from detection.verdict import Match

CONCEPTS = {
    "prevention": Concept("prevention", "context", "", {"sale": 1.5, "recruitment": 1.5}),
    "legit_goods": Concept("legit_goods", "context", "", {"sale": 1.3, "recruitment": 0.3}),
}


def m(concept, term, span, weight=1.0):
    return Match(concept, term, term, span, weight)


@pytest.fixture(scope="module")
def engine():
    return RuleEngine(CONCEPTS)


def test_mark_reported_marks_only_matches_inside_quotes():
    text = "Было написано «меф и клад» рядом с клад"
    inside, outside = m("substance", "меф", (15, 18)), m("drop", "клад", (35, 39))
    marked = mark_reported([inside, outside], text)
    assert [x.reported for x in marked] == [True, False]


def test_a_report_frame_discounts_quoted_and_own_evidence(engine):
    quoted = [Match("substance", "меф", "меф", (1, 4), 1.0, reported=True),
              Match("drop", "клад", "клад", (5, 9), 1.0, reported=True)]
    raw_plain, _ = engine.evaluate(quoted, frame=False)
    raw_report, hits = engine.evaluate(quoted, frame=True)
    assert raw_report["sale"] < raw_plain["sale"] * REPORTED_IN_REPORT * 1.01
    assert any(h.rule == REPORT_HIT for h in hits)
    own = [Match(x.concept, x.term, x.text, x.span, x.weight) for x in quoted]
    raw_own, _ = engine.evaluate(own, frame=True)
    assert raw_report["sale"] < raw_own["sale"] < raw_plain["sale"]
    assert OWN_IN_REPORT > REPORTED_IN_REPORT


def test_warning_words_addressed_to_the_reader_lower_evidence_less(engine):
    matches = [m("job_offer", "подработка", (0, 10)), m("drug_role", "закладчик", (11, 20)),
               m("prevention", "школьник", (21, 29), 0.5)]
    reader, _ = engine.evaluate(matches, frame=False)
    unknown, _ = engine.evaluate(matches)
    assert unknown["recruitment"] == pytest.approx(reader["recruitment"] - 1.5 * 0.5
                                                   * (1 - READER_CONTEXT))


def test_own_stash_beside_a_substance_cancels_the_legitimate_goods_penalty(engine):
    goods = m("legit_goods", "для ванн", (0, 8))
    salt, stash = m("substance", "соли", (9, 13), 0.3), m("drop", "клад", (14, 18))
    raw, hits = engine.evaluate([goods, salt, stash], frame=False)
    assert not any(h.rule == "context.legit_goods" for h in hits)
    raw, hits = engine.evaluate([goods, stash], frame=False)  # bookmarks: no substance word
    assert any(h.rule == "context.legit_goods" for h in hits)


def test_the_weaker_category_of_a_mixed_post_keeps_most_of_its_evidence(engine):
    matches = [m("substance", "меф", (0, 3)), m("drop", "клад", (4, 8)),
               m("job_offer", "нужны", (9, 14), 0.8), m("courier_role", "курьеры", (15, 22), 0.7)]
    raw, hits = engine.evaluate(matches)
    profile, _ = engine.evaluate(matches, main_purpose=False)
    weaker = min(profile, key=profile.get)
    stronger = max(profile, key=profile.get)
    assert raw[stronger] == profile[stronger]
    assert raw[weaker] == pytest.approx(profile[weaker] * SECONDARY)
    assert any(h.rule == "context.main_purpose" and h.category == weaker for h in hits)


def test_shop_words_inside_a_handle_do_not_count_twice(engine):
    text = "Закладки для книг. Бот: @bookmarks_store_bot"
    handle = text.index("@")
    matches = [m("drop", "закладки", (0, 8)), m("shop", "бот", (19, 22), 0.4),
               m("shop", "bot", (len(text) - 3, len(text)), 0.4),
               Match("contact", "telegram_bot", text[handle:], (handle, len(text)), 1.0)]
    _, hits = engine.evaluate(matches)
    words = {x.term for h in hits for x in h.matches}
    assert "bot" not in words and {"бот", "telegram_bot"} <= words
