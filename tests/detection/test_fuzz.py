"""Bad input: normalisation and scoring never raise, spans stay inside the original, and
pathological inputs finish (their linear cost is measured in bench/bench_detection.py)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings, strategies as st

from detection.normalize import normalize

OBFUSCATION = st.sampled_from(list("меф кладМЕФ0@3$ .-*_\u200b\u00ad\u0301️‍❄🍄ＭＥФİß\n\t") + ["@shop_bot", "t.me/x", "15 000 тг"])
TEXTS = st.one_of(st.text(max_size=400), st.lists(OBFUSCATION, max_size=80).map("".join))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS, st.integers(0, 500), st.integers(0, 500))
def test_normalize_never_raises_and_maps_inside(text, a, b):
    folded = normalize(text)
    start, end = sorted((a, b))
    s, e = folded.to_original(start, end)
    assert 0 <= s <= e <= len(text)
    for i in range(len(folded.text)):
        s, e = folded.to_original(i, i + 1)
        assert 0 <= s <= e <= len(text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(TEXTS)
def test_score_never_raises_and_spans_are_inside(detector, text):
    v = detector.score(text)
    assert v.category in ("sale", "recruitment", "none") and 0.0 <= v.score <= 1.0
    for h in v.hits:
        for m in h.matches:
            assert 0 <= m.span[0] <= m.span[1] <= len(text)
            assert text[m.span[0]:m.span[1]] == m.text
    for ind in v.indicators:
        assert 0 <= ind.span[0] < ind.span[1] <= len(text)


def test_pathological_inputs_finish(detector):
    cases = [
        "а" * 1_000_000,
        ". " * 100_000,
        "м " * 100_000,
        "🏳️‍🌈‍" * 20_000 + "\u0301" * 20_000,
        "a1" * 200_000,
        "@" * 200_000,
        "a." * 200_000 + "kz",
        "1" * 200_000,
        "1 " * 100_000,
        "T" + "1" * 100_000,
        "\u200b" * 300_000,
    ]
    for text in cases:
        v = detector.score(text)
        assert v.category in ("sale", "recruitment", "none")
