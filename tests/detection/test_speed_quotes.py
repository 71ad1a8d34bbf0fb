"""The quote and report-frame patterns run without re.IGNORECASE on lower-cased, unified text
(detection.quotes._fold): that must match exactly what re.IGNORECASE matched, for every letter
the patterns use and every character a lower-cased text can hold."""

from __future__ import annotations

import re

from detection import framewords, quotes

PATTERNS = (quotes._COLON, quotes._CLAUSE, quotes._POSTFIX, quotes._FORWARD)
LISTS = (framewords.FRAME_STRONG, framewords.FRAME_WEAK, framewords.CUES)


def _lowered_chars() -> str:
    """Every character that lower-cased text can hold (lower case is idempotent)."""
    chars = (chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)
    return "".join(c for c in chars if c.lower() == c)


def test_patterns_are_case_sensitive_now():
    assert not any(p.flags & re.IGNORECASE for p in PATTERNS)


def test_unified_text_matches_each_letter_as_ignorecase_did():
    text = _lowered_chars()
    unified = quotes._unify(text)
    assert len(unified) == len(text)
    letters = sorted({c for p in PATTERNS for c in p.pattern if c.isalpha()}
                     | {c for wl in LISTS for c in wl.letters()})
    assert len(letters) > 60  # Cyrillic, Kazakh and Latin
    for letter in letters:
        before = {m.start() for m in re.finditer(re.escape(letter), text, re.IGNORECASE)}
        now = {m.start() for m in re.finditer(re.escape(letter), unified)}
        assert before == now, letter


def test_unify_keeps_word_digit_and_space_classes():
    text = _lowered_chars()
    unified = quotes._unify(text)
    changed = [i for i, (a, b) in enumerate(zip(text, unified, strict=True)) if a != b]
    assert changed  # ı, ſ, ᲀ…
    for cls in (r"\w", r"\d", r"\s", r"[\n:]"):
        p = re.compile(cls)
        assert all(bool(p.match(text[i])) == bool(p.match(unified[i])) for i in changed), cls


def test_twins_count_as_their_letter():
    # "ᲀ" is the old rounded "в"; re.IGNORECASE read "ᲀолонтеры" as "волонтеры".
    assert quotes.report_frame("ᲀолонтеры нашли канал")
    assert quotes.report_frame("ВОЛОНТЕРЫ нашли канал")
