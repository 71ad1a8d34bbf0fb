"""`kyran takedowns`: how long reported subjects stayed up — per recipient and platform the
median and 90th percentile hours from report to takedown and the share still up after 7 and 30
days (Kaplan–Meier: subjects still up count as censored), beside the best-measured comparison
(phishing takedowns); then the subjects to re-report."""

from __future__ import annotations

import click

from crawler.defang import json_line, one_line


def _hours(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f} h" if value < 48 else f"{value / 24:.1f} d"


def _share(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f} %"


def table(rows) -> list[str]:
    lines = [f"{'recipient':<10} {'platform':<9} {'reported':>8} {'down':>5} {'back':>5} "
             f"{'median':>8} {'p90':>8} {'up@7d':>6} {'up@30d':>7}"]
    for f in rows:
        lines.append(f"{f.recipient:<10} {f.platform:<9} {f.reported:>8} {f.taken_down:>5} "
                     f"{f.came_back:>5} {_hours(f.median_hours):>8} {_hours(f.p90_hours):>8} "
                     f"{_share(f.up_after_7d):>6} {_share(f.up_after_30d):>7}")
    return lines


def register(cli: click.Group, pass_context) -> None:
    @cli.command("takedowns")
    @click.option("--json", "as_json", is_flag=True, help="One JSON line: figures, subjects, "
                  "and the re-report list.")
    @click.option("--days", type=click.IntRange(1, 3650), default=None,
                  help="List for re-reporting what is still up this many days after its report "
                  "(default: [evidence] rereport_after_days).")
    @pass_context
    def takedowns(ctx, as_json, days):
        """Time from report to takedown per recipient and platform, and what to re-report."""
        from datetime import datetime, timezone

        from evidence.takedowns import BASELINE, figures, reported_subjects, rereport

        days = days or ctx.config.evidence.rereport_after_days
        now = datetime.now(timezone.utc)
        with ctx.store().reader() as session:
            rows = reported_subjects(session)
        stats, again = figures(rows, now), rereport(rows, days, now)
        if as_json:
            click.echo(json_line({"figures": [vars(f) for f in stats],
                                  "subjects": [r.as_dict(now) for r in rows],
                                  "rereport": [r.as_dict(now) for r in again],
                                  "rereport_after_days": days, "baseline": BASELINE}))
            return
        if not rows:
            click.echo("takedowns: nothing reported yet (`kyran export` reports candidates)")
            return
        for line in table(stats):
            click.echo(line)
        click.echo(f"compare: {BASELINE}")
        click.echo(f"re-report ({len(again)} still up {days}+ days after the report):")
        for r in again:
            click.echo(f"  #{r.candidate_id} {r.recipient} {one_line(r.target)} reported "
                       f"{r.reported_at:%Y-%m-%d %H:%M} ({_hours(r.hours_up(now))} up)")
