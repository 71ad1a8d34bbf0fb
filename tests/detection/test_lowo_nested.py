"""Nested leave-one-writer-out: settings chosen on the training writers alone, folded into the
model's weights; the held-out writer never informs a choice."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from detection.commands import eval_command
from detection.evaluate import read_jsonl
from detection.training import rules_detector
from detection.tuning import Settings, apply, fold_into, logits_of, prepare, tuned_fit


@pytest.fixture(scope="module")
def corpus(data_dir):
    rows = list(read_jsonl(data_dir / "detection_dev.jsonl"))
    return {name: rows[w::3][:60] for w, name in enumerate(("ann", "bob", "cid"))}


@pytest.fixture(scope="module")
def rules():
    return rules_detector()


def test_the_held_out_writer_never_informs_the_settings(rules, corpus):
    data = prepare(rules, corpus, [])
    model, chosen = tuned_fit(rules, data, ["ann"], c=4.0, bits=18, hard_weights=(3.0,))
    swap = {"sale": "none", "none": "recruitment", "recruitment": "sale"}
    scrambled = {**corpus, "ann": [{**r, "label": swap[r["label"]], "text": r["text"][::-1]}
                                   for r in corpus["ann"]]}
    again, chosen_again = tuned_fit(rules, prepare(rules, scrambled, []), ["ann"], c=4.0,
                                    bits=18, hard_weights=(3.0,))
    assert chosen == chosen_again and model.version == again.version
    assert chosen.temperature > 0 and chosen.hard_weight == 3.0


def test_settings_are_folded_into_the_weights(rules, corpus):
    data = prepare(rules, corpus, [])
    model, _ = tuned_fit(rules, data, ["ann"], c=4.0, bits=18, hard_weights=(3.0,),
                         mode="temperature")
    settings = Settings(3.0, 1.7, (0.0, -0.4, 0.3), (0.0, 0.5, -0.25))
    folded = fold_into(model, settings)
    rows = data.rows["bob"][:20]
    raw = logits_of(model, rows, rules.space.names)
    expected = apply(raw, 1.7, settings.bias, settings.shift)
    got = apply(logits_of(folded, rows, rules.space.names), 1.0, (0.0, 0.0, 0.0))
    assert np.allclose(got, expected, atol=1e-4)
    assert folded.meta["tuning"] == settings.to_dict() and folded.version != model.version


def test_eval_by_writer_nested_reports_the_tuned_model(tmp_path, corpus):
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name, recs in corpus.items():
        (folder / f"{name}.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs[:40]))
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = CliRunner().invoke(eval_command, ["--by-writer", str(folder), "--nested",
                                               "temperature", "--also", str(empty), "--heldout",
                                               str(empty), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data["settings"]) == {"ann", "bob", "cid"}
    assert all({"model", "tuned", "rules"} == set(by) for by in data["writers"].values())
    assert "tuned" in data["summary"]
    result = CliRunner().invoke(eval_command, ["x.jsonl", "--nested", "full"])
    assert result.exit_code != 0
