"""Lexicon files: loading, errors naming file and line, terms added without code."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from detection.config import DetectionConfig
from detection.lexicon import Lexicon, LexiconError, bundled_lexicon_dir
from detection.scorer import Detector

GOOD = '''concept = "substance"
kind = "signal"

[[entry]]
terms = ["мефедрон*", "зелье"]
lang = "ru"
weight = 1.0
note = "test"
'''


def write(tmp_path: Path, name: str, text: str) -> Path:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_bundled_lexicons_load_with_all_concepts():
    lex = Lexicon.load()
    assert {"substance", "drop", "shop", "payment", "job_offer", "courier_role", "drug_role",
            "news", "prevention", "legit_job", "legit_goods"} <= set(lex.concepts)
    assert len(lex.terms) > 500
    assert {t.lang for t in lex.terms} >= {"ru", "kk", "translit"}
    assert all(t.note is not None and 0 < t.weight <= 5 for t in lex.terms)


@pytest.mark.parametrize("text, line, reason", [
    ('concept = "substance"\n[[entry]]\nterms = ["a"\n', 3, "TOML syntax"),
    ('concept = "substance"\nkind = signal\n', 2, "TOML syntax"),
    ('concept = "substance"\n\n[[entry]]\nterms = ["мефедрон"]\nlang = "xx"\n', 5, "'lang'"),
    ('concept = "substance"\n\n[[entry]]\nterms = ["мефедрон"]\nlang = "ru"\nweight = 9\n', 6, "'weight'"),
    ('concept = "substance"\n\n[[entry]]\nlang = "ru"\n', 3, "needs 'terms'"),
    ('concept = "substance"\n\n[[entry]]\nterms = ["ok", "м*ф"]\nlang = "ru"\n', 4, "'*' is allowed only"),
    ('concept = "substance"\n\n[[entry]]\nterms = ["ok"]\nlang = "ru"\ncolour = 1\n', 6, "unknown entry key"),
    ('concept = "substance"\n\n[[entry]]\nterms = ["меф",\n  "М Е Ф"]\nlang = "ru"\n', 5, "repeats"),
    ('concept = "news"\nkind = "context"\n', 2, "penalty"),
    ('concept = "Bad Name"\n', 1, "concept"),
    ('concept = "substance"\n\n[[entry]]\nterms = ["ab*"]\nlang = "ru"\n', 4, "too short"),
])
def test_broken_file_fails_with_file_line_and_reason(tmp_path, text, line, reason):
    write(tmp_path, "broken.toml", text)
    with pytest.raises(LexiconError) as err:
        Lexicon.load(tmp_path)
    assert err.value.path.endswith("broken.toml")
    assert err.value.line == line, str(err.value)
    assert reason in err.value.reason
    assert str(err.value).startswith(f"{tmp_path / 'broken.toml'}:{line}:")


def test_empty_directory_is_an_error(tmp_path):
    with pytest.raises(LexiconError):
        Lexicon.load(tmp_path)


def test_adding_a_term_is_a_data_change(tmp_path):
    for f in bundled_lexicon_dir().glob("*.toml"):
        shutil.copy(f, tmp_path)
    text = "Свежий зельеварс, 1г — 5000 тг, в наличии"  # no stash word: the slang decides
    # The rules are what an analyst edits (the learned model may already call this a sale from
    # its price per gram and "в наличии"; a new term reaches it when the model is retrained).
    config = DetectionConfig(lexicon_dir=tmp_path, rules_only=True)
    before = Detector.from_config(config).score(text)
    with (tmp_path / "substance.toml").open("a", encoding="utf-8") as fh:
        fh.write('\n[[entry]]\nterms = ["зельевар*"]\nlang = "ru"\nweight = 1.0\nnote = "new slang"\n')
    after = Detector.from_config(config).score(text)
    assert before.category == "none"
    assert after.category == "sale"
    assert any(m.text == "зельеварс" for h in after.hits for m in h.matches)
    assert before.model_version != after.model_version


def test_stems_match_inflections_and_words_match_whole_words(tmp_path):
    write(tmp_path, "s.toml", GOOD)
    lex = Lexicon.load(tmp_path)
    from detection.matcher import Matcher
    from detection.normalize import normalize
    m = Matcher(lex.terms)
    found = [(x.term.text, normalize("мефедрона и зелье, зельеварка").text[x.start:x.end])
             for x in m.find(normalize("мефедрона и зелье, зельеварка").text)]
    assert found == [("мефедрон", "мефедрона"), ("зелье", "зелье")]
