"""`kyran quarantine`: the pages kept for a person to look at because they contradicted whose they
were (a header or posts claiming another channel, posts carrying different channel ids).

Nothing of such a page was applied; each entry names what was requested, what the page claimed,
and the capture that shows it. Everything a page claimed is hostile text: it is shown made safe
(no control characters, links defanged) and JSON is escaped to ASCII.
"""

from __future__ import annotations

import json

import click
from sqlalchemy import select

from crawler.defang import safe
from crawler.store.ingest import QUARANTINE
from crawler.store.models import Event


def _line(value) -> str:
    """Safe and on one line: a newline in a claimed name must not forge another entry."""
    return " ".join(safe(str(value) if value is not None else "").split())


def _record(event: Event) -> dict:
    p = event.payload or {}
    return {"event_id": event.id, "at": event.at.isoformat(), "source_id": event.subject_id,
            "requested": p.get("requested"), "reason": p.get("reason"), "url": p.get("url"),
            "claimed_names": p.get("claimed_names", []), "claimed_ids": p.get("claimed_ids", []),
            "capture_id": p.get("capture_id")}


def register(cli: click.Group, pass_context) -> None:
    @cli.command("quarantine")
    @click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
    @click.option("--json", "as_json", is_flag=True, help="JSON Lines instead of text.")
    @pass_context
    def quarantine_command(ctx, limit, as_json):
        """List pages quarantined for contradicting whose they are, newest first."""
        with ctx.store(read_only=True).reader() as session:
            events = session.scalars(select(Event).where(Event.action == QUARANTINE)
                                     .order_by(Event.id.desc()).limit(limit)).all()
            records = [_record(event) for event in events]
        for r in records:
            if as_json:
                click.echo(json.dumps(r))  # ASCII: a claimed name cannot drive a terminal
                continue
            claimed = ", ".join([*map(str, r["claimed_names"]), *map(str, r["claimed_ids"])])
            click.echo(f"#{r['event_id']} {r['at'][:19]}  requested {_line(r['requested'])}: "
                       f"{_line(r['reason'])}")
            click.echo(f"    claimed: {_line(claimed)}; capture {r['capture_id']} "
                       f"({_line(r['url'])})")
        if not records and not as_json:
            click.echo("no quarantined pages")
