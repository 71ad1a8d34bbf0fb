"""Click commands ``eval``, ``train`` and ``model``; the main ``kyran`` CLI registers them with
``cli.add_command(...)``.

``kyran train --corpus detection/corpus --out detection/models --name default`` rebuilds the
bundled model (with the old development set of a checkout and the corpus's training-only
``extra/`` files as extra training data);
``kyran eval --by-writer detection/corpus`` reports leave-one-writer-out figures.
From the analysts' decisions: ``kyran train --from-store`` (less a held-out slice), then
``kyran eval --compare NEW.npz --from-store`` (the new model beside the running one on that
slice), then ``kyran model use NEW.npz``, which copies the file to ``var/models/current.npz``
beside kyran.toml (``[detection] current_model``); the daemon picks the changed file up.
"""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["eval_command", "model_command", "train_command"]

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_DIR = click.Path(exists=True, file_okay=False, path_type=Path)


def _detector(lexicons: Path | None, model: Path | None, rules_only: bool):
    from detection.config import DetectionConfig
    from detection.scorer import Detector

    return Detector.from_config(DetectionConfig(lexicon_dir=lexicons, model_path=model,
                                                rules_only=rules_only))


def _errors():
    from pydantic import ValidationError

    from detection.evaluate import RecordError
    from detection.lexicon import LexiconError
    from detection.model import ModelError

    return LexiconError, ModelError, RecordError, ValidationError, ValueError


def _also(also: tuple[Path, ...], default: Path) -> list[Path]:
    """The extra training files: as given, else ``default`` where it exists (a checkout)."""
    return list(also) if also else [default] if default.is_file() else []


def _read(files: list[Path]) -> list[dict]:
    from detection.evaluate import read_jsonl

    return [rec for f in files for rec in read_jsonl(f)]


def _echo(report, as_json: bool) -> None:
    if as_json:
        from crawler.defang import json_line

        click.echo(json_line(report.to_dict()))
    else:
        click.echo(report.format())


def _kinds(value: str) -> tuple[str, ...]:
    kinds = tuple(k.strip() for k in value.split(",") if k.strip())
    if not kinds:
        raise click.BadParameter("give one kind prefix or more, comma-separated (hard/,quoted/)")
    return kinds


def _kyran_config():
    """The kyran.toml of the ``kyran`` command (its --config), or the default one."""
    obj = click.get_current_context().find_root().obj
    if obj is not None and hasattr(obj, "config"):
        return obj.config
    from crawler.config import load_config

    return load_config(None)


def _store_records() -> list[dict]:
    """The analysts' decisions as labelled posts (:func:`pipelines.training.store_records`)."""
    from crawler.store.db import open_store
    from pipelines.training import store_records

    config = _kyran_config()
    store = open_store(config.database_url, read_only=True, limits=config.store.limits())
    try:
        with store.reader() as session:
            return list(store_records(session))
    finally:
        store.dispose()


@click.command("eval")
@click.argument("file", required=False, type=_FILE)
@click.option("--by-writer", "corpus", type=_DIR,
              help="Leave-one-writer-out over a corpus directory of <writer>.jsonl files, beside "
                   "the rules alone and the old held-out set.")
@click.option("--also", multiple=True, type=_FILE,
              help="With --by-writer: extra training data in every fold (default: "
                   "tests/data/detection_dev.jsonl of a checkout), besides the corpus's "
                   "extra/*.jsonl.")
@click.option("--heldout", type=_FILE,
              help="With --by-writer: a set scored by the model trained on every writer "
                   "(default: tests/data/detection_heldout.jsonl of a checkout).")
@click.option("--nested", type=click.Choice(["full", "temperature"]),
              help="With --by-writer: also a model tuned by leave-one-writer-out inside each "
                   "fold (full: calibration, decision shifts, hard weight; temperature: the "
                   "temperature alone), the held-out writer never informing a choice.")
@click.option("--channels", type=_FILE,
              help="A JSON list of channels (title, description, posts, label shop/recruiter/"
                   "none) scored at the source level.")
@click.option("--compare", "new_model", type=_FILE,
              help="A new model file to compare with the running one (--against) on a held-out "
                   "slice (--slice or --from-store).")
@click.option("--against", default=None,
              help="With --compare: the model to beat, a file or 'bundled' (default: the model "
                   "kyran.toml runs).")
@click.option("--slice", "slice_file", type=_FILE,
              help="With --compare: labelled posts (JSON Lines) to compare on.")
@click.option("--from-store", is_flag=True,
              help="With --compare: the held-out slice of the analysts' decisions (the posts "
                   "'kyran train --from-store' leaves out).")
@click.option("--hard-kinds", default="hard/", show_default=True,
              callback=lambda _ctx, _param, value: _kinds(value),
              help="Comma-separated kind prefixes that make a negative a hard one.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
@click.option("--lexicons", type=_DIR, help="Lexicon directory (default: the bundled lexicons).")
@click.option("--model", type=_FILE, help="A model saved by 'kyran train' (default: the bundled "
                                          "model).")
@click.option("--rules-only", is_flag=True, help="Score with the rules alone.")
def eval_command(file: Path | None, corpus: Path | None, also: tuple[Path, ...],
                 heldout: Path | None, nested: str | None, channels: Path | None,
                 new_model: Path | None,
                 against: str | None, slice_file: Path | None, from_store: bool,
                 hard_kinds: tuple[str, ...], as_json: bool, lexicons: Path | None,
                 model: Path | None, rules_only: bool) -> None:
    """Score the labelled posts of FILE (JSON Lines: id, text, label) and report precision,
    recall and F1 per label, the confusion matrix and every misclassified post; or, with
    --by-writer, leave-one-writer-out figures per writer, average and worst; with --channels,
    the same figures per channel; with --compare, two models side by side."""
    from detection.evaluate import evaluate, evaluate_channels, read_channels, read_jsonl

    modes = [x for x in (file, corpus, channels, new_model) if x is not None]
    if len(modes) != 1:
        raise click.UsageError("give either FILE or --by-writer DIR, --channels FILE.json or "
                               "--compare NEW.npz (one of them)")
    if nested and corpus is None:
        raise click.UsageError("--nested goes with --by-writer")
    if new_model is None and (against or slice_file or from_store):
        raise click.UsageError("--against, --slice and --from-store go with --compare")
    try:
        if corpus is not None:
            report = _by_writer(corpus, also, heldout, lexicons, hard_kinds, nested)
        elif channels is not None:
            report = evaluate_channels(_detector(lexicons, model, rules_only),
                                       read_channels(channels), hard_kinds)
        elif new_model is not None:
            report = _compare(new_model, against, slice_file, from_store, lexicons, hard_kinds)
        else:
            report = evaluate(_detector(lexicons, model, rules_only), read_jsonl(file),
                              hard_kinds)
    except _errors() as exc:
        raise click.ClickException(str(exc)) from None
    _echo(report, as_json)


def _compare(new_model: Path, against: str | None, slice_file: Path | None, from_store: bool,
             lexicons: Path | None, hard_kinds: tuple[str, ...]):
    from detection.compare import compare
    from detection.config import BUNDLED_MODEL
    from detection.evaluate import read_jsonl
    from detection.training import split_slice

    if (slice_file is None) == (not from_store):
        raise click.UsageError("--compare needs --slice FILE or --from-store")
    if against == "bundled":
        current = BUNDLED_MODEL
    elif against is not None:
        current = Path(against)
        if not current.is_file():
            raise click.BadParameter(f"{against}: no such model file (or 'bundled')",
                                     param_hint="--against")
    else:
        current = _kyran_config().detection.resolved_model_path() or BUNDLED_MODEL
    if from_store:
        records = split_slice(_store_records())[1]
        if not records:
            raise ValueError("the store's held-out slice is empty: no analysts' decisions "
                             "(confirmed, or dismissed with a reason) fall in it yet")
    else:
        records = list(read_jsonl(slice_file))
    click.echo(f"comparing {new_model} with {current} on {len(records)} posts", err=True)
    return compare(_detector(lexicons, new_model, False), _detector(lexicons, current, False),
                   records, hard_kinds)


def _by_writer(corpus: Path, also: tuple[Path, ...], heldout: Path | None,
               lexicons: Path | None, hard_kinds: tuple[str, ...], nested: str | None = None):
    from detection.lowo import leave_one_writer_out
    from detection.evaluate import read_channels
    from detection.training import REPO_DEV, REPO_HELDOUT, extra_files, read_corpus

    extra = [*_also(also, REPO_DEV), *extra_files(corpus)]
    held = [heldout] if heldout else _also((), REPO_HELDOUT)
    click.echo(f"training also on: {', '.join(map(str, extra)) or '(nothing)'}; "
               f"old held-out: {', '.join(map(str, held)) or '(none)'}", err=True)
    files = [*sorted(corpus.glob("*.jsonl")), *extra]
    writers = read_corpus(corpus)
    # A writer's whole channels, where they wrote some, are scored by the writer's fold.
    channels = {w: read_channels(corpus / "channels" / f"{w}.json") for w in writers
                if (corpus / "channels" / f"{w}.json").is_file()}
    return leave_one_writer_out(writers, _read(extra), _read(held),
                                sources=[f.name for f in files], channels=channels,
                                lexicons=lexicons, hard_kinds=hard_kinds, tuning=nested)


@click.command("train")
@click.argument("file", required=False, type=_FILE)
@click.option("--corpus", type=_DIR, help="A corpus directory of <writer>.jsonl files to train "
                                          "on (with the --also files; with --from-store, "
                                          "default: the bundled corpus).")
@click.option("--also", multiple=True, type=_FILE,
              help="With --corpus: extra training data (default: tests/data/detection_dev.jsonl "
                   "of a checkout), besides the corpus's extra/*.jsonl.")
@click.option("--from-store", is_flag=True,
              help="Also train on the analysts' decisions in the store (confirmed: positive; "
                   "dismissed with a reason: negative), less the slice kept to compare models.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("var/models"), show_default=True,
              help="Directory for the versioned model file.")
@click.option("--name", help="File name without .npz (default: the model's version); "
                             "'default' in detection/models is the bundled model.")
@click.option("--lexicons", type=_DIR, help="Lexicon directory (default: the bundled lexicons).")
def train_command(file: Path | None, corpus: Path | None, also: tuple[Path, ...],
                  from_store: bool, out_dir: Path, name: str | None,
                  lexicons: Path | None) -> None:
    """Fit the model (logistic regression over the rules' evidence and hashed n-grams) on the
    labelled posts of FILE and/or a --corpus directory (and the store's decisions with
    --from-store), save it under --out and print its path. The same data gives the same file,
    byte for byte."""
    from detection.training import (BUNDLED_CORPUS, REPO_DEV, extra_files, fit_parts,
                                    read_corpus, rules_detector, split_slice)

    if from_store and corpus is None and BUNDLED_CORPUS.is_dir():
        corpus = BUNDLED_CORPUS
    if file is None and corpus is None and not from_store:
        raise click.UsageError("give FILE, --corpus DIR or both (or --from-store)")
    if name is not None and (not name or "/" in name or "\\" in name or name.startswith(".")):
        raise click.UsageError(f"--name {name!r}: a plain file name is needed")
    parts: dict[str, list[dict]] = {}
    try:
        if corpus is not None:
            parts.update(read_corpus(corpus))
        extra = [*_also(also, REPO_DEV), *extra_files(corpus)] if corpus is not None else []
        parts[""] = _read(([file] if file else []) + extra)
        files = ([file] if file else []) + ([] if corpus is None else [
            *sorted(corpus.glob("*.jsonl")), *extra])
        sources = [f.name for f in files]
        if from_store:
            decided, held = split_slice(_store_records())
            if not decided:
                raise ValueError("the store holds no analysts' decisions to train on outside "
                                 f"the held-out slice ({len(held)} in it): confirm candidates, "
                                 "or dismiss them with a reason, first")
            parts["store"] = decided
            sources.append(f"store ({len(decided)} posts, {len(held)} held out)")
        model = fit_parts(rules_detector(lexicons), parts, sources=sources)
        path = model.save(out_dir / f"{name or model.version}.npz")
    except _errors() as exc:
        raise click.ClickException(str(exc)) from None
    counts = ", ".join(f"{k}={v}" for k, v in model.meta["label_counts"].items())
    store = f" and {sources[-1]}" if from_store else ""
    point = ", ".join(f"{c} from {t}" for c, t in model.thresholds.items())
    click.echo(f"trained {model.version} on {model.meta['samples']} posts ({counts}) from "
               f"{len(files)} files{store}; flags {point} unless kyran.toml sets thresholds")
    click.echo(str(path))
    if from_store:
        click.echo(f"compare: kyran eval --compare {path} --from-store; switch on: "
                   f"kyran model use {path}", err=True)


@click.group("model")
def model_command() -> None:
    """The model detection runs."""


@model_command.command("use")
@click.argument("path")
def model_use(path: str) -> None:
    """Switch detection to the model file PATH (checked, then copied to [detection]
    current_model, var/models/current.npz beside kyran.toml), or back to the bundled one with
    PATH 'bundled'. A running daemon picks the change up."""
    import os
    import shutil

    from detection.model import ModelError, load_model

    detection = _kyran_config().detection
    target = detection.current_model
    if target is None:
        raise click.ClickException("[detection] current_model is unset: nowhere to switch to")
    if path == "bundled":
        target.unlink(missing_ok=True)
        click.echo(f"removed {target}: the bundled model is in use")
    else:
        source = Path(path)
        if not source.is_file():
            raise click.BadParameter(f"{path}: no such model file (or 'bundled')",
                                     param_hint="PATH")
        try:
            loaded = load_model(source)
        except ModelError as exc:
            raise click.ClickException(str(exc)) from None
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)  # a daemon reading the model never sees half a file
        click.echo(f"model {loaded.version} in use: {target}")
    if detection.model_path is not None:
        click.echo(f"note: [detection] model_path = {detection.model_path} in kyran.toml takes "
                   "precedence; unset it for this to take effect", err=True)
