"""Click commands ``eval`` and ``train``; the main ``kyran`` CLI registers them with
``cli.add_command(eval_command)`` and ``cli.add_command(train_command)``.

``kyran train --corpus detection/corpus --out detection/models --name default`` rebuilds the
bundled model (with the old development set of a checkout as extra training data);
``kyran eval --by-writer detection/corpus`` reports leave-one-writer-out figures.
"""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["eval_command", "train_command"]

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


@click.command("eval")
@click.argument("file", required=False, type=_FILE)
@click.option("--by-writer", "corpus", type=_DIR,
              help="Leave-one-writer-out over a corpus directory of <writer>.jsonl files, beside "
                   "the rules alone and the old held-out set.")
@click.option("--also", multiple=True, type=_FILE,
              help="With --by-writer: extra training data in every fold (default: "
                   "tests/data/detection_dev.jsonl of a checkout).")
@click.option("--heldout", type=_FILE,
              help="With --by-writer: a set scored by the model trained on every writer "
                   "(default: tests/data/detection_heldout.jsonl of a checkout).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
@click.option("--lexicons", type=_DIR, help="Lexicon directory (default: the bundled lexicons).")
@click.option("--model", type=_FILE, help="A model saved by 'kyran train' (default: the bundled "
                                          "model).")
@click.option("--rules-only", is_flag=True, help="Score with the rules alone.")
def eval_command(file: Path | None, corpus: Path | None, also: tuple[Path, ...],
                 heldout: Path | None, as_json: bool, lexicons: Path | None, model: Path | None,
                 rules_only: bool) -> None:
    """Score the labelled posts of FILE (JSON Lines: id, text, label) and report precision,
    recall and F1 per label, the confusion matrix and every misclassified post; or, with
    --by-writer, leave-one-writer-out figures per writer, average and worst."""
    from detection.evaluate import evaluate, read_jsonl

    if (file is None) == (corpus is None):
        raise click.UsageError("give either FILE or --by-writer DIR")
    try:
        if corpus is not None:
            report = _by_writer(corpus, also, heldout, lexicons)
        else:
            report = evaluate(_detector(lexicons, model, rules_only), read_jsonl(file))
    except _errors() as exc:
        raise click.ClickException(str(exc)) from None
    _echo(report, as_json)


def _by_writer(corpus: Path, also: tuple[Path, ...], heldout: Path | None,
               lexicons: Path | None):
    from detection.lowo import leave_one_writer_out
    from detection.training import REPO_DEV, REPO_HELDOUT, read_corpus

    extra = _also(also, REPO_DEV)
    held = [heldout] if heldout else _also((), REPO_HELDOUT)
    click.echo(f"training also on: {', '.join(map(str, extra)) or '(nothing)'}; "
               f"old held-out: {', '.join(map(str, held)) or '(none)'}", err=True)
    files = [*sorted(corpus.glob("*.jsonl")), *extra]
    return leave_one_writer_out(read_corpus(corpus), _read(extra), _read(held),
                                sources=[f.name for f in files], lexicons=lexicons)


@click.command("train")
@click.argument("file", required=False, type=_FILE)
@click.option("--corpus", type=_DIR, help="A corpus directory of <writer>.jsonl files to train "
                                          "on (with the --also files).")
@click.option("--also", multiple=True, type=_FILE,
              help="With --corpus: extra training data (default: tests/data/detection_dev.jsonl "
                   "of a checkout).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("var/models"), show_default=True,
              help="Directory for the versioned model file.")
@click.option("--name", help="File name without .npz (default: the model's version); "
                             "'default' in detection/models is the bundled model.")
@click.option("--lexicons", type=_DIR, help="Lexicon directory (default: the bundled lexicons).")
def train_command(file: Path | None, corpus: Path | None, also: tuple[Path, ...], out_dir: Path,
                  name: str | None, lexicons: Path | None) -> None:
    """Fit the model (logistic regression over the rules' evidence and hashed n-grams) on the
    labelled posts of FILE and/or a --corpus directory, save it under --out and print its path.
    The same data gives the same file, byte for byte."""
    from detection.training import REPO_DEV, fit_parts, read_corpus, rules_detector

    if file is None and corpus is None:
        raise click.UsageError("give FILE, --corpus DIR or both")
    if name is not None and (not name or "/" in name or "\\" in name or name.startswith(".")):
        raise click.UsageError(f"--name {name!r}: a plain file name is needed")
    parts: dict[str, list[dict]] = {}
    try:
        if corpus is not None:
            parts.update(read_corpus(corpus))
        extra = _also(also, REPO_DEV) if corpus is not None else []
        parts[""] = _read(([file] if file else []) + extra)
        files = ([file] if file else []) + ([] if corpus is None else [
            *sorted(corpus.glob("*.jsonl")), *extra])
        model = fit_parts(rules_detector(lexicons), parts, sources=[f.name for f in files])
        path = model.save(out_dir / f"{name or model.version}.npz")
    except _errors() as exc:
        raise click.ClickException(str(exc)) from None
    counts = ", ".join(f"{k}={v}" for k, v in model.meta["label_counts"].items())
    click.echo(f"trained {model.version} on {model.meta['samples']} posts ({counts}) from "
               f"{len(files)} files")
    click.echo(str(path))
