"""The second-format model: trained over the detector's features, saved without pickle and
byte-identical for the same data, its probabilities as the scores, its reasons in words."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from detection.config import BUNDLED_MODEL, DetectionConfig
from detection.evaluate import read_jsonl
from detection.model import FeatureModel, ModelError, load_model, train_feature_model
from detection.scorer import Detector
from detection.training import THRESHOLDS, fit

SALE = "Меф 1г — 15 000 тг, закладки по Алматы, бот @snow_kz_bot"
RECRUIT = "Требуются курьеры-закладчики, 18+, выплаты каждый день, пиши @job_fast_kz"


@pytest.fixture(scope="module")
def dev(data_dir):
    return list(read_jsonl(data_dir / "detection_dev.jsonl"))


@pytest.fixture(scope="module")
def model(detector, dev):
    return fit(detector, dev, sources=["detection_dev.jsonl"], bits=detector.space.bits)


def test_same_data_gives_the_same_file_byte_for_byte(detector, dev, model, tmp_path):
    again = fit(detector, dev, sources=["detection_dev.jsonl"])
    a, b = model.save(tmp_path / "a.npz"), again.save(tmp_path / "b.npz")
    assert model.version == again.version and model.version.startswith("lr2-")
    assert a.read_bytes() == b.read_bytes()
    with np.load(a, allow_pickle=False) as data:  # no pickled object inside
        meta = json.loads(str(data["meta"]))
    assert meta["format"] == "kyran-lr/2" and meta["data_sha256"] and meta["rules"]


def test_a_saved_model_loads_and_predicts_the_same(detector, model, tmp_path):
    loaded = load_model(model.save(tmp_path / "m.npz"))
    assert isinstance(loaded, FeatureModel) and loaded.version == model.version
    f = detector.features(SALE)
    names = detector.space.names
    assert loaded.predict(f, loaded.bind(names)) == pytest.approx(model.predict(f, model.bind(names)))


def test_probabilities_are_scikit_learns(detector):
    """Our prediction from the saved weights equals LogisticRegression.predict_proba on the
    same feature matrix."""
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    texts = [(SALE, "sale"), ("гашиш клады, оператор @x_shop_bot", "sale"),
             (RECRUIT, "recruitment"), ("работа закладчиком, залог не нужен", "recruitment"),
             ("погода хорошая", "none"), ("концерт в субботу в парке", "none")]
    rows = [detector.features(t) for t, _ in texts]
    labels = [label for _, label in texts]
    model = train_feature_model(rows, labels, detector.space.names, detector.space.bits, c=2.0)
    d, h = len(detector.space.names), 1 << detector.space.bits
    dense = np.zeros((len(rows), d + 2 * h))
    for r, f in enumerate(rows):
        for i, v in f.named.items():
            dense[r, i] = v
        np.add.at(dense[r], d + f.char_ids, f.char_vals)  # a repeated n-gram adds up
        np.add.at(dense[r], d + h + f.word_ids, f.word_vals)
    x = csr_matrix(dense)
    used = np.unique(x.indices)
    clf = LogisticRegression(C=2.0, max_iter=1000, tol=1e-4).fit(x[:, used], labels)
    bound = model.bind(detector.space.names)
    for f, expected in zip(rows, clf.predict_proba(x[:, used]), strict=True):
        got = model.predict(f, bound)
        for label, p in zip(clf.classes_, expected, strict=True):
            assert got[label] == pytest.approx(p, abs=1e-4)


def test_a_model_keeps_working_when_the_rules_gain_a_feature(model):
    names = ["rule:brand.new", *model.named]
    bound = model.bind(names)
    assert not bound[0].any() and np.array_equal(bound[1:], model.coef_named)


def test_the_model_decides_and_explains_in_words(detector, model):
    d = Detector(DetectionConfig(), detector.lexicon, model)
    v = d.score(SALE)
    assert v.category == "sale" and v.model_version.endswith("+" + model.version)
    assert v.scores["sale"] == pytest.approx(model.predict(d.features(SALE), d._bound)["sale"])
    assert any(h.rule == "sale.substance_drop" and h.spans for h in v.hits)  # rules still explain
    words = [c.feature for c in v.contributions]
    assert 0 < len(words) <= 5 and all(c.weight > 0 for c in v.contributions)
    assert any(w.startswith("rule sale.") for w in words), words
    assert v.to_dict()["contributions"][0]["feature"] == words[0]
    quiet = d.score("Концерт в субботу в филармонии, билеты в кассе")
    assert quiet.category == "none" and quiet.contributions == []


def test_n_grams_that_decided_are_named(detector):
    """Where no rule fires, the words and n-grams the model learned are the reasons (a price
    makes the post one the model reads: a post with no evidence at all is not)."""
    sale = ["ежики в наличии, пишите", "свежие ежики каждый день", "ежики опт и розница"]
    none = ["погода хорошая", "концерт в субботу", "новый парк открыли", "пробки на дорогах"]
    texts = [(t, "sale") for t in sale] + [(t, "none") for t in none]
    model = train_feature_model([detector.features(t) for t, _ in texts], [x for _, x in texts],
                                detector.space.names, detector.space.bits, c=100.0)
    v = Detector(DetectionConfig(sale_threshold=0.3), detector.lexicon, model).score(
        "ежики снова тут, 500 тг")
    assert v.category == "sale" and not v.hits
    words = [c.feature for c in v.contributions]
    assert "words «ежики»" in words or any(w.startswith("n-gram «") and "еж" in w for w in words), words


def test_thresholds_apply_to_the_models_score(detector, model):
    text = "Меф в наличии"
    lax = Detector(DetectionConfig(sale_threshold=0.01), detector.lexicon, model).score(text)
    assert lax.category == "sale" and lax.scores["sale"] < 1.0
    strict = Detector(DetectionConfig(sale_threshold=min(1.0, lax.scores["sale"] + 1e-6)),
                      detector.lexicon, model)
    assert strict.score(text).category == "none"


def test_a_model_carries_its_operating_point_and_kyran_toml_overrides_it(detector, model,
                                                                        tmp_path):
    """Training records the thresholds (training.THRESHOLDS) in the file; the detector uses
    them unless the configuration sets its own; the rules alone flag from 0.5."""
    assert model.thresholds == THRESHOLDS
    assert load_model(model.save(tmp_path / "m.npz")).thresholds == THRESHOLDS
    assert Detector(DetectionConfig(), detector.lexicon, model).thresholds == THRESHOLDS
    own = Detector(DetectionConfig(recruitment_threshold=0.7), detector.lexicon, model)
    assert own.thresholds == {"sale": THRESHOLDS["sale"], "recruitment": 0.7}
    assert detector.thresholds == {"sale": 0.5, "recruitment": 0.5}
    bundled = Detector.from_config(DetectionConfig())
    assert bundled.thresholds == bundled.model.thresholds == THRESHOLDS
    text = "Курьеры нужны, оплата за адрес"  # decided by where the recruitment line is
    score = bundled.score(text).scores["recruitment"]
    at = Detector(DetectionConfig(recruitment_threshold=score), detector.lexicon, bundled.model)
    above = Detector(DetectionConfig(recruitment_threshold=min(1.0, score + 1e-6)),
                     detector.lexicon, bundled.model)
    assert at.score(text).category == "recruitment" and above.score(text).category != \
        "recruitment"


def test_bundled_model_is_the_default_and_rules_only_is_a_setting():
    assert BUNDLED_MODEL.is_file()
    bundled = Detector.from_config(DetectionConfig())
    assert isinstance(bundled.model, FeatureModel)
    assert bundled.score(SALE).category == "sale"
    assert bundled.score(RECRUIT).category == "recruitment"
    assert Detector.from_config(DetectionConfig(rules_only=True)).model is None
    with pytest.raises(ValueError, match="exclude"):
        DetectionConfig(rules_only=True, model_path=BUNDLED_MODEL)


def test_the_bundled_model_is_shipped_as_package_data():
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    data = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "*.npz" in data["package-data"]["*"]


def _rewrite(src, dst, change):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            body = zin.read(item)
            zout.writestr(item, change(item.filename, body))


def test_broken_model_files_are_one_clear_error(model, tmp_path):
    good = model.save(tmp_path / "good.npz")
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(ModelError, match="garbage.npz"):
        load_model(garbage)

    def drop_rows(name, body):
        if name == "char_rows.npy":
            import io
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.array([1 << 30], dtype=np.int32))
            return buf.getvalue()
        return body

    bad = tmp_path / "bad.npz"
    _rewrite(good, bad, drop_rows)
    with pytest.raises(ModelError, match="bad.npz: char weights"):
        load_model(bad)
