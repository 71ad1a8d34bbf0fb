"""The learned model and the ``eval`` / ``train`` commands (run with click's CliRunner)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from detection.commands import eval_command, train_command
from detection.config import DetectionConfig
from detection.model import LearnedModel, ModelError, train_model
from detection.normalize import normalize
from detection.scorer import Detector


@pytest.fixture(scope="module")
def trained(tmp_path_factory, data_dir):
    out = tmp_path_factory.mktemp("models")
    result = CliRunner().invoke(train_command, [str(data_dir / "detection_dev.jsonl"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    path = result.output.strip().splitlines()[-1]
    return out, path


def test_train_saves_a_versioned_model_without_pickle(trained):
    out, path = trained
    assert path.endswith(".npz") and path.startswith(str(out))
    with np.load(path, allow_pickle=False) as data:  # loads with pickling refused
        meta = json.loads(str(data["meta"]))
    assert meta["format"] == "kyran-lr/2" and meta["version"].startswith("lr2-")
    assert meta["samples"] >= 400 and meta["sources"] == ["detection_dev.jsonl"]
    assert set(meta["label_counts"]) == {"none", "recruitment", "sale"}


def test_model_probabilities_match_scikit_learn(tmp_path):
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
    from sklearn.linear_model import LogisticRegression

    recs = [{"text": t, "label": label} for t, label in [
        ("меф закладки бот", "sale"), ("гашиш клады", "sale"), ("кокаин в наличии", "sale"),
        ("курьеры нужны залог", "recruitment"), ("кладмены выплаты", "recruitment"),
        ("работа закладчиком", "recruitment"), ("погода хорошая", "none"), ("концерт в субботу", "none"),
        ("новости города", "none")]]
    _, model = train_model(recs, tmp_path, n_features=1 << 12, c=2.0)
    vec = HashingVectorizer(analyzer="char_wb", ngram_range=(2, 5), n_features=1 << 12,
                            alternate_sign=False, norm=None, lowercase=False)
    folded = [normalize(r["text"]).text for r in recs]  # the model reads folded text
    x = vec.transform(folded)
    x.data = np.log1p(x.data)
    tf = TfidfTransformer().fit(x)
    clf = LogisticRegression(C=2.0, max_iter=3000, class_weight="balanced").fit(tf.transform(x), [r["label"] for r in recs])
    expected = clf.predict_proba(tf.transform(x))
    got = model.predict_proba(folded)
    for row, probs in zip(expected, got, strict=True):
        for label, p in zip(clf.classes_, row, strict=True):
            assert probs[label] == pytest.approx(p, abs=1e-4)


def test_a_first_format_model_still_loads_and_blends(tmp_path, data_dir):
    from detection.evaluate import read_jsonl

    path, _ = train_model(read_jsonl(data_dir / "detection_dev.jsonl"), tmp_path)
    d = Detector.from_config(DetectionConfig(model_path=path, model_weight=0.5))
    rules_only = Detector.from_config(DetectionConfig(rules_only=True))
    text = "Меф 1г — 15 000 тг, закладки по Алматы, бот @snow_kz_bot"
    v, r = d.score(text), rules_only.score(text)
    assert v.category == "sale"
    assert "+tfidf-lr-" in v.model_version and "+" not in r.model_version
    assert v.scores != r.scores and not v.contributions


def test_model_errors(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelError):
        LearnedModel.load(bad)
    with pytest.raises(ModelError):
        train_model([{"text": "a", "label": "none"}], tmp_path)


def test_eval_json_has_the_documented_keys(data_dir):
    result = CliRunner().invoke(eval_command, [str(data_dir / "detection_dev.jsonl"), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert {"per_label", "macro_f1", "accuracy", "confusion", "errors"} <= set(report)
    assert set(report["per_label"]) == {"sale", "recruitment", "none"}
    for m in report["per_label"].values():
        assert {"precision", "recall", "f1", "support"} <= set(m)
    total = sum(sum(row.values()) for row in report["confusion"].values())
    wrong = total - sum(report["confusion"][label][label] for label in report["confusion"])
    assert len(report["errors"]) == wrong
    for e in report["errors"]:
        assert {"id", "label", "predicted", "score", "reasons"} <= set(e)


def test_eval_table_lists_figures_confusion_and_errors(tmp_path):
    f = tmp_path / "small.jsonl"
    rows = [{"id": "a", "text": "Меф 1г, закладки, бот @x_shop_bot", "label": "sale"},
            {"id": "b", "text": "Погода хорошая", "label": "sale"},
            {"id": "c", "text": "Требуются кладмены, выплаты каждый день", "label": "recruitment"},
            {"id": "d", "text": "Концерт в субботу", "label": "none"}]
    f.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    result = CliRunner().invoke(eval_command, [str(f)])
    assert result.exit_code == 0, result.output
    assert "precision" in result.output and "confusion" in result.output
    assert "b: true=sale predicted=none" in result.output
    data = json.loads(CliRunner().invoke(eval_command, [str(f), "--json"]).output)
    assert data["per_label"]["sale"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "support": 2}
    assert data["accuracy"] == 0.75


def test_eval_reports_bad_input_and_bad_lexicons(tmp_path):
    f = tmp_path / "bad.jsonl"
    f.write_text('{"id": 1, "text": "x", "label": "maybe"}\n', encoding="utf-8")
    result = CliRunner().invoke(eval_command, [str(f)])
    assert result.exit_code != 0 and "bad.jsonl:1" in result.output
    lex = tmp_path / "lex"
    lex.mkdir()
    (lex / "x.toml").write_text('concept = "substance"\n\n[[entry]]\nterms = []\nlang = "ru"\n', encoding="utf-8")
    good = tmp_path / "good.jsonl"
    good.write_text('{"id": 1, "text": "x", "label": "none"}\n', encoding="utf-8")
    result = CliRunner().invoke(eval_command, [str(good), "--lexicons", str(lex)])
    assert result.exit_code != 0 and "x.toml:3" in result.output
