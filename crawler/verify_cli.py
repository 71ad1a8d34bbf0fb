"""`kyran verify PACKAGE.zip [--key FILE] [--json]`: check an evidence package without a store
or configuration (the receiving side may have neither).

Exit status: 0 valid, 1 invalid (one line per problem), 2 the command could not run as given
(a missing package, an unreadable key).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from crawler.cli_support import InputError
from crawler.defang import one_line


def read_key_file(path: str):
    """The Ed25519 public key in `path` (PEM or base64); InputError (exit 2) otherwise."""
    from evidence.keys import KeyProblem, load_public_key

    try:
        return load_public_key(path)
    except KeyProblem as exc:
        raise InputError(one_line(str(exc))) from None


def print_report(report, as_json: bool) -> int:
    """Show a verification report; the exit status it means."""
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=True, sort_keys=True))
        return 0 if report.ok else 1
    name = Path(report.path).name
    for problem in report.problems:
        click.echo(f"{name}: {one_line(problem)}", err=True)
    if not report.ok:
        click.echo(f"{name}: INVALID ({len(report.problems)} problem"
                   f"{'s' if len(report.problems) != 1 else ''})", err=True)
        return 1
    manifest = report.manifest or {}
    by = manifest.get("created_by") or {}
    click.echo(f"{name}: valid, package {one_line(str(manifest.get('package_id')))}, "
               f"{len(report.sizes)} files, from {one_line(str(by.get('organisation_id')))}, "
               f"key {report.fingerprint}")
    for note in report.notes:
        click.echo(f"{name}: note: {one_line(note)}")
    return 0


def register(cli: click.Group, pass_context) -> None:
    @cli.command("verify")
    @click.argument("package", type=click.Path(exists=True, dir_okay=False))
    @click.option("--key", "key_file", type=click.Path(exists=True, dir_okay=False),
                  help="The signer's public key (PEM, or the raw key in base64); default: the "
                  "key the manifest carries, reported as unverified.")
    @click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON line.")
    def verify_command(package, key_file, as_json):
        """Check an evidence package: entry names, every file's size and SHA-256, the
        signature and the timestamp. Needs no store and no configuration.

        Exit status: 0 valid, 1 invalid (one line per problem), 2 a file cannot be read."""
        from evidence.verify import verify_package

        key = read_key_file(key_file) if key_file else None
        return print_report(verify_package(package, key), as_json)
