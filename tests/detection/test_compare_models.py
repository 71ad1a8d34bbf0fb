"""``kyran eval --compare`` (two models side by side on a held-out slice), ``--channels`` and
``--hard-kinds``, with real model files trained by ``kyran train``."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from detection.commands import eval_command, train_command
from detection.evaluate import read_jsonl


@pytest.fixture(scope="module")
def models(tmp_path_factory, data_dir):
    """A model trained on the development set, and one trained on a dozen of its posts with
    sale and none swapped (a model that has learnt the wrong thing)."""
    out = tmp_path_factory.mktemp("compare")
    dev = list(read_jsonl(data_dir / "detection_dev.jsonl"))
    swap = {"sale": "none", "none": "sale", "recruitment": "recruitment"}
    few = [{**r, "label": swap[label]} for label in ("sale", "recruitment", "none")
           for r in [x for x in dev if x["label"] == label][:4]]
    small = out / "few.jsonl"
    small.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in few))
    paths = {}
    for name, data in (("good", data_dir / "detection_dev.jsonl"), ("weak", small)):
        result = CliRunner().invoke(train_command, [str(data), "--out", str(out), "--name", name])
        assert result.exit_code == 0, result.output
        paths[name] = result.output.strip().splitlines()[-1]
    return paths


def compare(*args):
    return CliRunner().invoke(eval_command, ["--compare", *args])


def test_compare_prints_both_models_and_picks_the_better(models, data_dir):
    heldout = str(data_dir / "detection_heldout.jsonl")
    result = compare(models["good"], "--against", models["weak"], "--slice", heldout)
    assert result.exit_code == 0, result.output
    assert "sale P/R/F1" in result.output and "hard negatives flagged" in result.output
    assert "better: new" in result.output
    data = json.loads(compare(models["weak"], "--against", models["good"], "--slice", heldout,
                              "--json").output.splitlines()[-1])
    assert data["better"] == "current" and data["posts"] == 311
    assert data["current"]["mean_f1"] > data["new"]["mean_f1"]
    assert set(data["new"]) >= {"sale", "recruitment", "hard_negatives", "negatives"}


def test_compare_against_the_bundled_model_on_itself_is_the_same(data_dir):
    from detection.config import BUNDLED_MODEL

    result = compare(str(BUNDLED_MODEL), "--against", "bundled", "--slice",
                     str(data_dir / "detection_heldout.jsonl"))
    assert result.exit_code == 0, result.output
    assert "better: same" in result.output


def test_compare_needs_a_slice_and_a_real_model(models, data_dir):
    result = compare(models["good"])
    assert result.exit_code != 0 and "--slice FILE or --from-store" in result.output
    result = compare(models["good"], "--against", "nowhere.npz", "--slice",
                     str(data_dir / "detection_heldout.jsonl"))
    assert result.exit_code != 0 and "nowhere.npz: no such model file" in result.output
    result = CliRunner().invoke(eval_command, [str(data_dir / "detection_heldout.jsonl"),
                                               "--from-store"])
    assert result.exit_code != 0 and "go with --compare" in result.output


def test_hard_kinds_count_the_negatives_a_set_tags_otherwise(tmp_path):
    f = tmp_path / "quoted.jsonl"
    posts = [{"id": "q1", "label": "none", "kind": "quoted/raid",
              "text": "Волонтёры нашли канал, где пишут: «мефедрон 1г 15000, закладки, бот "
                      "@shop_kz_bot». Канал передан в полицию."},
             {"id": "q2", "label": "none", "kind": "chatter", "text": "Доброе утро, Алматы"}]
    f.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in posts))
    default = json.loads(CliRunner().invoke(eval_command, [str(f), "--json"]).output)
    assert default["hard_negatives"]["total"] == 0 and default["negatives"]["total"] == 2
    result = CliRunner().invoke(eval_command, [str(f), "--json", "--hard-kinds", "hard/,quoted/"])
    assert json.loads(result.output)["hard_negatives"]["total"] == 1
    result = CliRunner().invoke(eval_command, [str(f), "--hard-kinds", " , "])
    assert result.exit_code != 0 and "comma-separated" in result.output


def test_channels_are_scored_at_the_source_level(tmp_path):
    f = tmp_path / "channels.json"
    f.write_text(json.dumps([
        {"id": "shop", "title": "Магазин 24/7", "label": "shop",
         "description": "Мефедрон, шишки, закладки по Алматы. Бот: @kristall_kz_bot",
         "posts": ["Доброе утро!", "Мефедрон 1г 15000 тг, закладка, бот @kristall_kz_bot"]},
        {"id": "city", "title": "Алматы сегодня", "label": "none",
         "description": "Новости города", "posts": ["Погода: +5, без осадков"]}],
        ensure_ascii=False))
    data = json.loads(CliRunner().invoke(eval_command, ["--channels", str(f), "--json"]).output)
    assert data["confusion"]["sale"]["sale"] == 1 and data["confusion"]["none"]["none"] == 1
    bad = tmp_path / "bad.json"
    bad.write_text('[{"posts": ["x"], "label": "seller"}]')
    result = CliRunner().invoke(eval_command, ["--channels", str(bad)])
    assert result.exit_code != 0 and "channel 1: 'label' must be one of" in result.output
    assert "Traceback" not in result.output
