"""Click commands ``eval`` and ``train``; the main ``kyran`` CLI registers them with
``cli.add_command(eval_command)`` and ``cli.add_command(train_command)``.
"""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["eval_command", "train_command"]


def _detector(lexicons: Path | None, model: Path | None):
    from detection.config import DetectionConfig
    from detection.scorer import Detector

    return Detector.from_config(DetectionConfig(lexicon_dir=lexicons, model_path=model))


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc))


@click.command("eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
@click.option("--lexicons", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Lexicon directory (default: the bundled lexicons).")
@click.option("--model", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A model saved by 'kyran train' (default: rules alone).")
def eval_command(file: Path, as_json: bool, lexicons: Path | None, model: Path | None) -> None:
    """Score the labelled posts of FILE (JSON Lines: id, text, label) and report precision,
    recall and F1 per label, the confusion matrix and every misclassified post."""
    from detection.evaluate import RecordError, evaluate, read_jsonl
    from detection.lexicon import LexiconError
    from detection.model import ModelError

    try:
        detector = _detector(lexicons, model)
        report = evaluate(detector, read_jsonl(file))
    except (LexiconError, ModelError, RecordError) as exc:
        raise _fail(exc) from None
    if as_json:
        from crawler.defang import json_line

        click.echo(json_line(report.to_dict()))
    else:
        click.echo(report.format())


@click.command("train")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("var/models"), show_default=True,
              help="Directory for the versioned model file.")
def train_command(file: Path, out_dir: Path) -> None:
    """Fit the learned model (character n-gram TF-IDF + logistic regression) on the labelled
    posts of FILE and save it, versioned, under --out; prints the file's path."""
    from detection.evaluate import RecordError, read_jsonl
    from detection.model import ModelError, train_model

    try:
        path, model = train_model(read_jsonl(file), out_dir, source=str(file))
    except (ModelError, RecordError) as exc:
        raise _fail(exc) from None
    counts = ", ".join(f"{k}={v}" for k, v in model.meta["label_counts"].items())
    click.echo(f"trained {model.version} on {model.meta['samples']} posts ({counts})")
    click.echo(str(path))
