"""A lexicon that fails to load never stops scoring: the last good one is kept, and said so."""

import logging
import shutil

import pytest

from detection.config import DetectionConfig
from detection.lexicon import LexiconError
from pipelines.scoring import BUNDLED_LEXICONS, DetectorHolder
from tests.conftest import run_concurrently

SHOP = "Мефедрон в наличии, клады по Алматы, бот @shop_kz_bot"


@pytest.fixture
def lexicons(tmp_path):
    folder = tmp_path / "lexicons"
    shutil.copytree(BUNDLED_LEXICONS, folder)
    return folder


def break_file(folder):
    path = folder / "substance.toml"
    path.write_text(path.read_text(encoding="utf-8") + "\n[[entry]\nterms = [\n",
                    encoding="utf-8")
    return path


def test_a_running_detector_keeps_its_lexicons(lexicons, tmp_path, caplog):
    holder = DetectorHolder(DetectionConfig(lexicon_dir=lexicons), tmp_path / "last-good")
    assert holder.get().score(SHOP).category == "sale"
    break_file(lexicons)
    with caplog.at_level(logging.ERROR):
        assert holder.reload_if_changed() is False
    assert "substance.toml" in caplog.text and "keeping the lexicons already loaded" in caplog.text
    assert holder.get().score(SHOP).category == "sale"
    assert holder.reload_if_changed() is False  # unchanged files: no second attempt, no noise


def test_a_new_process_falls_back_to_the_last_good_copy(lexicons, tmp_path, caplog):
    DetectorHolder(DetectionConfig(lexicon_dir=lexicons), tmp_path / "last-good").get()
    assert sorted(p.name for p in (tmp_path / "last-good").glob("*.toml")) == sorted(
        p.name for p in lexicons.glob("*.toml"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last-good", "lexicons"]  # no litter
    broken = break_file(lexicons)
    fresh = DetectorHolder(DetectionConfig(lexicon_dir=lexicons), tmp_path / "last-good")
    with caplog.at_level(logging.ERROR):
        detector = fresh.get()
    assert detector.score(SHOP).category == "sale"
    assert f"{broken}:" in fresh.problem and "last lexicons that loaded well" in fresh.problem
    # the broken files never overwrite the good copy
    assert "[[entry]\nterms = [" not in (tmp_path / "last-good" / "substance.toml").read_text()


def test_without_a_good_copy_the_error_is_raised(lexicons, tmp_path):
    break_file(lexicons)
    holder = DetectorHolder(DetectionConfig(lexicon_dir=lexicons), tmp_path / "none")
    with pytest.raises(LexiconError, match="substance.toml:"):
        holder.get()


def test_a_fixed_file_is_picked_up_again(lexicons, tmp_path):
    holder = DetectorHolder(DetectionConfig(lexicon_dir=lexicons), tmp_path / "last-good")
    holder.get()
    good = (lexicons / "substance.toml").read_text(encoding="utf-8")
    break_file(lexicons)
    holder.reload_if_changed()
    assert holder.problem
    (lexicons / "substance.toml").write_text(good + "\n", encoding="utf-8")
    assert holder.reload_if_changed() is True and holder.problem is None


def test_crawls_saving_the_good_copy_at_once_never_fail(lexicons, tmp_path):
    def load(_):
        for _ in range(10):
            DetectorHolder(DetectionConfig(lexicon_dir=lexicons), tmp_path / "last-good")\
                ._save_last_good()

    assert run_concurrently(load, 4) == []
    assert sorted(p.name for p in (tmp_path / "last-good").glob("*.toml")) == sorted(
        p.name for p in lexicons.glob("*.toml"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last-good", "lexicons"]  # no litter


@pytest.mark.parametrize("deleted", ["substance.toml", "shop.toml", "courier_role.toml"])
def test_a_deleted_lexicon_file_is_an_error_not_a_quieter_detector(lexicons, tmp_path, caplog,
                                                                     deleted):
    """Deleting one file used to remove its concepts in silence (the same ads: flagged before,
    not after) and replace the good copy with the reduced set."""
    DetectorHolder(DetectionConfig(lexicon_dir=lexicons), tmp_path / "last-good").get()
    (lexicons / deleted).unlink()
    fresh = DetectorHolder(DetectionConfig(lexicon_dir=lexicons), tmp_path / "last-good")
    with caplog.at_level(logging.ERROR):
        detector = fresh.get()
    assert detector.missing_concepts == []
    assert "concepts no lexicon file defines" in fresh.problem
    assert "was a file deleted or renamed" in caplog.text
    assert (tmp_path / "last-good" / deleted).is_file()  # the good copy keeps the file


def test_a_deleted_file_without_a_good_copy_is_raised(lexicons, tmp_path):
    (lexicons / "substance.toml").unlink()
    holder = DetectorHolder(DetectionConfig(lexicon_dir=lexicons), tmp_path / "none")
    with pytest.raises(LexiconError, match="substance"):
        holder.get()
    assert not (tmp_path / "none").exists()  # and the reduced set is not saved as good


def test_a_running_detector_keeps_its_concepts_when_a_file_goes(lexicons, tmp_path):
    holder = DetectorHolder(DetectionConfig(lexicon_dir=lexicons), tmp_path / "last-good")
    assert holder.get().score(SHOP).category == "sale"
    (lexicons / "substance.toml").unlink()
    assert holder.reload_if_changed() is False
    assert "substance" in holder.problem and holder.get().score(SHOP).category == "sale"
    assert (tmp_path / "last-good" / "substance.toml").is_file()
