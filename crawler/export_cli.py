"""`kyran export` (build a signed evidence package for confirmed candidates) and `kyran keys`
(the organisation's signing key and its partners' trusted keys).

Every failure a person can cause (no key, an unknown or unconfirmed candidate, a user without
the lead role, an unreadable key file, a bad organisation id) is one line and exit status 1;
usage errors exit 2.
"""

from __future__ import annotations

import click

from crawler.cli_support import ID
from crawler.config_evidence import RECIPIENTS
from crawler.decide_cli import _default_user
from crawler.defang import one_line
from evidence import keys


class ExportError(click.ClickException):
    """An export or key operation that did not happen: one line, exit 1."""

    exit_code = 1


def _key_action(action, *args):
    """Run a key operation; its KeyProblem as one line."""
    try:
        return action(*args)
    except keys.KeyProblem as exc:
        raise ExportError(one_line(str(exc))) from None


def _extras(config):
    """The report part's hooks (request templates, report, PDF, screenshots, WACZ, timestamp)
    when installed; None: the builder writes a plain report and request texts."""
    try:
        from evidence.extras import Extras
    except ImportError:
        return None
    return Extras(config)


def _signing_path(ctx):
    return ctx.config.resolve(ctx.config.evidence.signing_key_file)


def register(cli: click.Group, pass_context) -> None:
    @cli.command("export")
    @click.argument("ids", nargs=-1, type=ID, metavar="[IDS]...")
    @click.option("--recipient", required=True, type=click.Choice(RECIPIENTS),
                  help="Who the package is for: the request texts and letter it carries.")
    @click.option("--all-confirmed", is_flag=True, help="Every confirmed candidate not yet "
                  "reported.")
    @click.option("--status", type=click.Choice(["confirmed", "reported", "taken_down"]),
                  help="Filter: candidates in this status (default confirmed).")
    @click.option("--category", type=click.Choice(["sale", "recruitment"]), help="Filter.")
    @click.option("--platform", type=click.Choice(["telegram", "web"]), help="Filter.")
    @click.option("--since", help="Filter: decided at or after (2026-11-01, an ISO time, 7d).")
    @click.option("--out", "out_dir", type=click.Path(file_okay=False),
                  help="Directory to write the package to (default: [evidence] out_dir).")
    @click.option("--plain", is_flag=True, help="Plain report and request texts only: no "
                  "templates, PDF, screenshots, WACZ or timestamp.")
    @click.option("--as", "username", metavar="USERNAME",
                  help="Who exports (a lead): a user in the store (default: $USER).")
    @pass_context
    def export(ctx, ids, recipient, all_confirmed, status, category, platform, since, out_dir,
               plain, username):
        """Build a signed evidence package (kyran-<id>.zip) of confirmed candidates — by IDS,
        by filter, or --all-confirmed — and mark them reported.

        \b
        kyran export 12 15 --recipient telegram
        kyran export --all-confirmed --recipient regulator --out /mnt/usb
        kyran export --category recruitment --since 7d --recipient generic
        """
        from crawler.cli import parse_since
        from evidence.build import BuildError, build_package
        from evidence.collect import Selection, SelectionError

        selection = Selection(ids=tuple(ids), status=status, category=category,
                              platform=platform, since=parse_since(since),
                              all_confirmed=all_confirmed)
        name = username or _default_user()
        if not name:
            raise ExportError("who exports? give --as USERNAME ($USER is not set)")
        config = ctx.config
        try:
            result = build_package(ctx.store(), config, selection, recipient, name,
                                   extras=None if plain else _extras(config), out_dir=out_dir)
        except (BuildError, SelectionError) as exc:
            raise ExportError(one_line(str(exc))) from None
        missing = f", {result.missing} captures missing" if result.missing else ""
        click.echo(f"{result.path}: {result.subjects} subjects, {result.items} posts{missing}; "
                   f"sha256 {result.sha256}; signed by {result.fingerprint}")

    @cli.group("keys")
    def keys_group():
        """The organisation's Ed25519 signing key and partners' trusted public keys."""

    @keys_group.command("generate")
    @click.option("--force", is_flag=True, help="Replace an existing key (packages signed "
                  "with the old one then verify only with the old public key).")
    @pass_context
    def keys_generate(ctx, force):
        """Make the signing key ([evidence] signing_key_file, mode 0600)."""
        path = _signing_path(ctx)
        key = _key_action(lambda: keys.generate(path, force=force))
        click.echo(f"{path}: new signing key {keys.fingerprint(key)}")
        click.echo(f"public key (give it to partners): {keys.public_b64(key)}")

    @keys_group.command("show")
    @click.option("--pem", is_flag=True, help="Print the public key as PEM only (to a file "
                  "for a partner's `kyran keys trust`).")
    @pass_context
    def keys_show(ctx, pem):
        """The signing key's fingerprint and public key."""
        path = _signing_path(ctx)
        if not path.exists():
            raise ExportError(f"no signing key at {path}: run `kyran keys generate` first")
        key = _key_action(keys.load_private_key, path)
        if pem:
            click.echo(keys.public_pem(key).decode("ascii"), nl=False)
            return
        click.echo(f"organisation:  {ctx.config.evidence.organisation_id}")
        click.echo(f"fingerprint:   {keys.fingerprint(key)}")
        click.echo(f"public key:    {keys.public_b64(key)}")

    @keys_group.command("trust")
    @click.argument("org")
    @click.argument("keyfile", type=click.Path(dir_okay=False))
    @click.option("--replace", is_flag=True, help="Replace the key trusted for ORG.")
    @pass_context
    def keys_trust(ctx, org, keyfile, replace):
        """Trust KEYFILE (PEM or base64 public key) as organisation ORG's signing key."""
        trusted = keys.TrustedKeys(ctx.config.resolve(ctx.config.evidence.trusted_keys_dir))
        _key_action(keys.check_org_id, org)
        key = _key_action(keys.load_public_key, keyfile)
        path = _key_action(lambda: trusted.add(org, key, replace=replace))
        click.echo(f"trusted {org}: {keys.fingerprint(key)} ({path})")

    @keys_group.command("list")
    @pass_context
    def keys_list(ctx):
        """Partners' trusted keys: organisation id and fingerprint."""
        trusted = keys.TrustedKeys(ctx.config.resolve(ctx.config.evidence.trusted_keys_dir))
        found = trusted.list()
        for org, fingerprint in found:
            click.echo(f"{org:<24} {one_line(fingerprint)}")
        if not found:
            click.echo(f"no trusted keys in {trusted.directory}", err=True)
