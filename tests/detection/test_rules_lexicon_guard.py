"""Lexicon terms that would fold to a bare number ("16+" → "16") match any such number; the
loader refuses them with the file and line, like any other broken entry. Numbers beside a word
or another number ("1г", "24/7") are fine."""

from __future__ import annotations

import pytest

from detection.lexicon import Lexicon, LexiconError


@pytest.mark.parametrize("term", ["16+", "(18)", "#7"])
def test_a_term_that_folds_to_a_bare_number_is_refused(tmp_path, term):
    (tmp_path / "t.toml").write_text(
        'concept = "recruit_terms"\n\n[[entry]]\nterms = ["от 16 лет", "' + term + '"]\n'
        'lang = "any"\nweight = 1.0\n', encoding="utf-8")
    with pytest.raises(LexiconError) as err:
        Lexicon.load(tmp_path)
    assert err.value.line == 4 and "bare number" in err.value.reason


def test_numbers_with_words_are_fine(tmp_path):
    (tmp_path / "t.toml").write_text(
        'concept = "quantity"\n\n[[entry]]\nterms = ["1г", "от 16 лет", "24/7"]\n'
        'lang = "any"\nweight = 1.0\n', encoding="utf-8")
    assert len(Lexicon.load(tmp_path).terms) == 3
