"""`kyran retention [--dry-run]`: drop the raw captures of posts that never scored, older than
`retention.unscored_captures_after` (see crawler/daemon/retention.py for what is kept)."""

from __future__ import annotations

import click

from crawler.config_base import parse_interval
from crawler.defang import json_line, one_line


def register(cli: click.Group, pass_context) -> None:
    @cli.command("retention")
    @click.option("--dry-run", is_flag=True, help="Say what would be dropped; change nothing.")
    @click.option("--json", "as_json", is_flag=True, help="The report as one JSON document.")
    @pass_context
    def retention_command(ctx, dry_run, as_json):
        """Drop raw captures of posts that never scored once older than
        retention.unscored_captures_after. Evidence, anything under review and anything a
        decision names is kept; WARC files are compacted."""
        from crawler.daemon.retention import run_retention

        config = ctx.config
        after = config.retention.unscored_captures_after
        report = run_retention(ctx.store(), config.captures_path, parse_interval(after),
                               dry_run=dry_run)
        if as_json:
            click.echo(json_line(report.as_dict()))
            return
        verb = "would drop" if dry_run else "dropped"
        line = (f"retention: {verb} {report.captures_dropped} captures of "
                f"{report.posts_touched} posts older than {after}")
        if not dry_run:
            line += (f"; {report.files_compacted} files compacted, {report.files_removed} "
                     f"removed, {report.bytes_freed} bytes freed")
            if report.leftovers_removed:
                line += f"; {report.leftovers_removed} files left by an interrupted run removed"
        click.echo(line)
        for skipped in report.files_skipped:
            click.echo(f"kyran: retention skipped {one_line(skipped)}", err=True)
