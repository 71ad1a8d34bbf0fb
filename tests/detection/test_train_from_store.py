"""``kyran train --from-store`` on a real store (SQLite and PostgreSQL), ``kyran eval --compare
--from-store`` on its held-out slice, ``kyran model use`` and the daemon's detector holder
picking the switched-on model up."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from crawler.cli import cli
from crawler.config import load_config
from detection.config import BUNDLED_MODEL
from detection.evaluate import read_jsonl
from detection.training import AUGMENT_COPIES, in_slice, split_slice
from pipelines.chain import ProcessingChain
from pipelines.scoring import DetectorHolder
from pipelines.training import store_records
from tests.conftest import write_config
from tests.pipelines.test_chain import shop_channel_items
from tests.pipelines.test_training_data import decide


@pytest.fixture
def small_corpus(tmp_path, data_dir):
    """Two writers of forty development posts each: enough to train on, quick to."""
    dev = list(read_jsonl(data_dir / "detection_dev.jsonl"))
    folder = tmp_path / "corpus"
    folder.mkdir()
    for n, writer in enumerate(("one", "two")):
        recs = dev[40 * n:40 * (n + 1)]
        (folder / f"{writer}.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs))
    return folder


def kyran(config, *args):
    return CliRunner().invoke(cli, ["--config", str(config), *args])


def test_train_from_store_learns_the_decisions_outside_the_slice(store, config_file, tmp_path,
                                                                  small_corpus):
    ProcessingChain(store, load_config(config_file), "component:test").process(
        shop_channel_items())
    decide(store, "sale", "confirmed", decision="sale")
    with store.reader() as session:
        decided = list(store_records(session))
    train, held = split_slice(decided)
    assert len(decided) == 4 and train and all(not in_slice(r) for r in train)
    result = kyran(config_file, "train", "--from-store", "--corpus", str(small_corpus),
                   "--also", str(small_corpus / "one.jsonl"), "--out", str(tmp_path / "m"))
    assert result.exit_code == 0, result.output + result.stderr
    path = result.stdout.strip().splitlines()[-1]
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
    assert f"store ({len(train)} posts, {len(held)} held out)" in meta["sources"]
    # The two writers, the extra file and the store's posts, each with its obfuscated copies.
    assert meta["samples"] == (1 + AUGMENT_COPIES) * (40 + 40 + 40 + len(train))
    assert "kyran eval --compare" in result.stderr and "kyran model use" in result.stderr


def test_train_from_an_undecided_store_says_so(store, config_file, tmp_path, small_corpus):
    result = kyran(config_file, "train", "--from-store", "--corpus", str(small_corpus),
                   "--out", str(tmp_path / "m"))
    assert result.exit_code == 1 and "no analysts' decisions to train on" in result.stderr
    assert "Traceback" not in result.stderr
    result = kyran(config_file, "eval", "--compare", str(BUNDLED_MODEL), "--from-store")
    assert result.exit_code == 1 and "held-out slice is empty" in result.stderr


def test_compare_on_the_store_slice(store, config_file):
    chain = ProcessingChain(store, load_config(config_file), "component:test")
    items = shop_channel_items()
    for n in range(2, 12):  # enough shops that some posts fall in the held-out slice
        items += shop_channel_items(name=f"shop_{n}", numeric_id=n, bot=f"shop{n}_kz_bot")
    chain.process(items)
    decide(store, "sale", "confirmed", decision="sale")
    with store.reader() as session:
        held = split_slice(list(store_records(session)))[1]
    assert held
    result = kyran(config_file, "eval", "--compare", str(BUNDLED_MODEL), "--against", "bundled",
                   "--from-store", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["posts"] == len(held) and data["better"] == "same"
    assert data["new"]["sale"]["support"] == len(held)


def test_model_use_switches_the_model_the_config_and_the_daemon_load(tmp_path, db_url, data_dir):
    config_file = write_config(tmp_path / "kyran.toml", db_url)
    result = CliRunner().invoke(cli, ["train", str(data_dir / "detection_dev.jsonl"), "--out",
                                      str(tmp_path / "models"), "--name", "dev"])
    assert result.exit_code == 0, result.output
    new = tmp_path / "models" / "dev.npz"
    config = load_config(config_file).detection
    current = tmp_path / "var" / "models" / "current.npz"
    assert config.current_model == current and config.resolved_model_path() == BUNDLED_MODEL
    holder = DetectorHolder(config, tmp_path / "lexicons.last-good")
    bundled_version = holder.get().model_version
    assert holder.reload_if_changed() is False

    result = kyran(config_file, "model", "use", str(new))
    assert result.exit_code == 0, result.stderr
    assert current.read_bytes() == new.read_bytes()
    assert load_config(config_file).detection.resolved_model_path() == current
    assert holder.reload_if_changed() is True
    assert holder.get().model_version != bundled_version
    assert holder.get().model_version.endswith(json.loads(str(np.load(new)["meta"]))["version"])

    current.write_bytes(b"not a model")  # a broken file keeps the model already loaded
    running = holder.get().model_version
    assert holder.reload_if_changed() is False and "not a Kyran model file" in holder.problem
    assert holder.get().model_version == running

    result = kyran(config_file, "model", "use", str(tmp_path / "kyran.toml"))
    assert result.exit_code == 1 and "not a Kyran model file" in result.stderr
    result = kyran(config_file, "model", "use", "bundled")
    assert result.exit_code == 0 and not current.exists()
    assert holder.reload_if_changed() is True and holder.get().model_version == bundled_version
