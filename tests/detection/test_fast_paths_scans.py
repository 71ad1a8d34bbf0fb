"""The scans' fast paths keep behaviour (as tests/detection/test_fast_paths.py does for the
others): each rewritten pattern finds exactly what its plain form finds, and each pre-check or
shortcut gives the same answer as the plain code it stands for. The alphabets hold a character
above the BMP of each kind (👇, 𝟓) for the bitmap classes."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from detection import matcher
from detection.lexicon import Lexicon
from detection.config import DetectionConfig
from detection.normalize import Normalizer

NORM = Normalizer()
MATCHER = matcher.Matcher(Lexicon.load(DetectionConfig().lexicon_dir).terms, NORM)


def texts(alphabet: str, *pieces: str, size: int = 60):
    """Strings dense in the characters a pattern cares about, plus arbitrary text."""
    atoms = st.sampled_from(list(alphabet) + list(pieces))
    return st.one_of(st.lists(atoms, max_size=size).map("".join), st.text(max_size=80))


def test_common_punctuation_is_what_spaced_makes_a_space():
    for ch in matcher._COMMON_PUNCT:
        assert NORM.spaced(ch) == " "


@settings(max_examples=400, deadline=None)
@given(texts(".,:#-+!_ aм1\n👇𝟓", "меф", "закладка"))
def test_matcher_spaced_is_the_normalizers(text):
    assert MATCHER.spaced(text) == NORM.spaced(text)
