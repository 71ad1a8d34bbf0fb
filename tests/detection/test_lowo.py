"""Leave-one-writer-out: the harness, its figures, and the commands that run it and train."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from detection.commands import eval_command, train_command
from detection.evaluate import read_jsonl
from detection.lowo import figures, leave_one_writer_out, reliability

CORPUS = Path(__file__).resolve().parents[2] / "detection" / "corpus"


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory, data_dir):
    """Three "writers" cut from the development set, so the test trains in seconds."""
    rows = list(read_jsonl(data_dir / "detection_dev.jsonl"))
    out = tmp_path_factory.mktemp("corpus")
    for w, name in enumerate(("ann", "bob", "cid")):
        with (out / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for r in rows[w::3][:120]:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return out


def test_figures_count_precision_recall_and_negatives():
    recs = [{"label": "sale"}, {"label": "sale"}, {"label": "none", "kind": "hard/news"},
            {"label": "none", "kind": "easy"}, {"label": "recruitment"}]
    f = figures(recs, ["sale", "none", "sale", "none", "recruitment"])
    assert f["sale"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert f["recruitment"]["f1"] == 1.0
    assert f["hard"] == {"flagged": 1, "total": 1} and f["negatives"] == {"flagged": 1, "total": 2}
    assert figures(recs, ["sale", "none", "sale", "none", "recruitment"],
                   hard_kinds=("easy",))["hard"] == {"flagged": 0, "total": 1}


def test_reliability_bins_mean_and_observed():
    rows = reliability([(0.05, False), (0.08, True), (0.95, True), (1.0, True)])
    assert rows == [{"bin": "0.0-0.1", "n": 2, "mean_p": 0.065, "observed": 0.5},
                    {"bin": "0.9-1.0", "n": 2, "mean_p": 0.975, "observed": 1.0}]


def test_each_writer_is_scored_by_a_model_that_never_saw_it(small_corpus, data_dir):
    from detection.training import read_corpus

    corpus = read_corpus(small_corpus)
    held = list(read_jsonl(data_dir / "detection_heldout.jsonl"))[:60]
    report = leave_one_writer_out(corpus, heldout=held)
    assert set(report.writers) == {"ann", "bob", "cid"}
    for by in report.writers.values():
        assert {"model", "rules"} == set(by)
        assert by["model"]["sale"]["support"] == by["rules"]["sale"]["support"] > 0
    assert report.heldout["model"]["sale"]["support"] == sum(r["label"] == "sale" for r in held)
    s = report.summary("model")
    assert s["worst"]["sale_f1"] <= s["average"]["sale_f1"]
    assert sum(r["n"] for r in report.calibration) == 2 * sum(len(v) for v in corpus.values())
    text = report.format()
    assert "average (model)" in text and "worst (rules)" in text and "old held-out" in text


def test_eval_by_writer_prints_the_table_and_json(small_corpus, data_dir):
    args = ["--by-writer", str(small_corpus), "--heldout",
            str(data_dir / "detection_heldout.jsonl"), "--also", str(data_dir / "detection_dev.jsonl")]
    result = CliRunner().invoke(eval_command, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output.splitlines()[-1])
    assert set(data["writers"]) == {"ann", "bob", "cid"}
    assert {"model", "rules"} == set(data["summary"]) and data["calibration"]


def test_eval_and_train_refuse_unclear_input_in_one_line(tmp_path, small_corpus):
    result = CliRunner().invoke(eval_command, [])
    assert result.exit_code != 0 and "either FILE or --by-writer" in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(eval_command, ["--by-writer", str(empty)])
    assert result.exit_code == 1 and "no *.jsonl files" in result.output
    assert "Traceback" not in result.output
    result = CliRunner().invoke(train_command, [])
    assert result.exit_code != 0 and "give FILE, --corpus DIR or both" in result.output
    result = CliRunner().invoke(train_command, ["--corpus", str(small_corpus), "--name", "../x"])
    assert result.exit_code != 0 and "plain file name" in result.output


def test_train_from_a_corpus_names_the_file_and_is_reproducible(tmp_path, small_corpus, data_dir):
    args = ["--corpus", str(small_corpus), "--also", str(data_dir / "detection_dev.jsonl"),
            "--name", "default"]
    a = CliRunner().invoke(train_command, [*args, "--out", str(tmp_path / "a")])
    b = CliRunner().invoke(train_command, [*args, "--out", str(tmp_path / "b")])
    assert a.exit_code == 0 and b.exit_code == 0, a.output + b.output
    assert "from 4 files" in a.output
    assert (tmp_path / "a/default.npz").read_bytes() == (tmp_path / "b/default.npz").read_bytes()


def test_a_corpus_extra_folder_trains_every_fold_and_is_no_writer(tmp_path, small_corpus):
    """``extra/*.jsonl`` (everyday chatter: negatives only) joins training, is named among the
    model's sources, and is never held out as a writer."""
    import shutil

    from detection.model import load_model

    corpus = tmp_path / "corpus"
    shutil.copytree(small_corpus, corpus)
    (corpus / "extra").mkdir()
    (corpus / "extra" / "chatter.jsonl").write_text(
        "".join(json.dumps({"id": f"c{i}", "text": text, "label": "none", "kind": "easy/x"},
                           ensure_ascii=False) + "\n"
                for i, text in enumerate(["Алматы", "Доброе утро, Астана!", "Қайырлы таң!"])),
        encoding="utf-8")
    result = CliRunner().invoke(train_command, ["--corpus", str(corpus), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    model = load_model(result.output.strip().splitlines()[-1])
    assert "chatter.jsonl" in model.meta["sources"]
    data = json.loads(CliRunner().invoke(eval_command, [
        "--by-writer", str(corpus), "--json"]).output.splitlines()[-1])
    assert set(data["writers"]) == {"ann", "bob", "cid"}


def test_the_bundled_corpus_has_five_writers_with_hard_negatives():
    from detection.training import read_corpus

    corpus = read_corpus(CORPUS)
    assert len(corpus) >= 5
    for recs in corpus.values():
        assert sum(str(r.get("kind", "")).startswith("hard/") for r in recs) >= 100


def test_a_writers_channels_are_scored_by_the_writers_own_fold(small_corpus, data_dir, tmp_path):
    import shutil

    corpus = tmp_path / "corpus"
    shutil.copytree(small_corpus, corpus)
    rows = list(read_jsonl(corpus / "ann.jsonl"))
    sales = [r["text"] for r in rows if r["label"] == "sale"][:4]
    plain = [r["text"] for r in rows if r["kind"] == "easy"][:6]
    (corpus / "channels").mkdir()
    (corpus / "channels" / "ann.json").write_text(json.dumps([
        {"id": "ann-ch1", "title": "Магазин 24/7", "description": "Бот в закрепе",
         "label": "shop", "posts": sales + plain[:3]},
        {"id": "ann-ch2", "title": "Новости района", "description": "", "label": "none",
         "posts": plain}], ensure_ascii=False), encoding="utf-8")
    args = ["--by-writer", str(corpus), "--heldout", str(data_dir / "detection_heldout.jsonl"),
            "--also", str(data_dir / "detection_dev.jsonl")]
    data = json.loads(CliRunner().invoke(eval_command, [*args, "--json"]).output.splitlines()[-1])
    assert set(data["channels"]) == {"ann"}  # only ann wrote channels
    for which in ("model", "rules"):  # a shop profile over sale posts, and a news channel
        assert data["channels"]["ann"][which] == {"right": 2, "total": 2, "errors": []}
    text = CliRunner().invoke(eval_command, args).output
    assert "channels, scored by the same folds" in text and "of 2 right" in text
