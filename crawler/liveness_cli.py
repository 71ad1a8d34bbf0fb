"""`kyran liveness`: one pass of the liveness checks over reported and confirmed subjects, a
line per subject that went gone or came back, and a summary. Exit 1 when a check failed (the
subject's state could not be learnt), so a cron job or the daemon sees it."""

from __future__ import annotations

import asyncio
import sys

import click

from crawler.defang import json_line, one_line


def summary_line(summary: dict) -> str:
    failed = f" ({summary['failed']} failed)" if summary["failed"] else ""
    return (f"liveness: {summary['subjects']} subjects, {summary['checked']} checked: "
            f"{summary['up']} up, {summary['gone']} gone, {summary['unknown']} unknown{failed}, "
            f"{summary['skipped']} skipped (no check applies); {summary['went_gone']} went gone, "
            f"{summary['came_back']} came back")


def change_line(change: dict) -> str:
    subject = f"{change['subject_type']} {change['subject_id']} {one_line(change['target'])}"
    if change["to"] == "gone":
        return f"gone  {subject} ({change['how']}) since {change['first_gone_at']}"
    return (f"back  {subject} (was gone since {change['first_gone_at']}, "
            f"{change['how']})")


def register(cli: click.Group, pass_context) -> None:
    @cli.command("liveness")
    @click.option("--json", "as_json", is_flag=True, help="One JSON line: the counts and the "
                  "changes.")
    @pass_context
    def liveness(ctx, as_json):
        """Check once whether reported and confirmed channels, bots and sites are still up;
        record when each was first seen gone and when one comes back.

        Exit status: 0 ok, 1 some checks failed (network errors: state unknown), 2 usage or
        configuration error."""
        from monitors.liveness import check_subjects

        summary = asyncio.run(check_subjects(ctx.config, ctx.store()))
        if as_json:
            click.echo(json_line(summary))
        else:
            for change in summary["changes"]:
                click.echo(change_line(change))
            click.echo(summary_line(summary), err=bool(summary["failed"]))
        if summary["failed"]:
            sys.exit(1)
