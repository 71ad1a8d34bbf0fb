"""`kyran decide`: record an analyst's decision on a candidate from the command line, through the
same library (review/decisions.py) as the web app and its API, so it is the same event.

The actor is a user in the store (`--as NAME`, default $USER); every failure a person can cause
(an unknown user, a bad id, a missing reason, an unknown policy, a decided candidate) is one line
and exit status 1.
"""

from __future__ import annotations

import getpass
import os

import click
from sqlalchemy import select

from crawler.defang import one_line
from crawler.store.models import User

ACTIONS = ("confirm", "dismiss", "escalate", "note", "assign", "reopen")


class DecideError(click.ClickException):
    """A decision that was not recorded: one line, exit 1."""

    exit_code = 1


def _default_user() -> str | None:
    try:
        return os.environ.get("USER") or getpass.getuser()
    except (KeyError, OSError):
        return None


def register(cli: click.Group, pass_context) -> None:
    @cli.command("decide")
    @click.argument("candidate_id", required=False, metavar="ID")
    @click.argument("action", required=False, type=click.Choice(ACTIONS))
    @click.option("--category", type=click.Choice(["sale", "recruitment"]),
                  help="confirm: what it is (default: the detector's category).")
    @click.option("--policy", help="confirm: the policy it breaks (see --list-policies).")
    @click.option("--reason", help="dismiss: why (see --list-reasons).")
    @click.option("--note", help="An internal note (the text of a `note`, or added to any "
                  "decision).")
    @click.option("--to", "assignee", metavar="USERNAME", help="assign: to whom.")
    @click.option("--as", "username", metavar="USERNAME",
                  help="Who decides: a user in the store (default: $USER).")
    @click.option("--list-policies", is_flag=True, help="Print the configured policies.")
    @click.option("--list-reasons", is_flag=True, help="Print the configured dismissal "
                  "reasons.")
    @pass_context
    def decide_command(ctx, candidate_id, action, category, policy, reason, note, assignee,
                       username, list_policies, list_reasons):
        """Confirm, dismiss, escalate, note, assign (lead) or reopen (lead) candidate ID,
        recorded as the same event the web app records.

        \b
        kyran decide 12 confirm --category sale --policy drug-sale
        kyran decide 12 dismiss --reason news-or-prevention --note "a police report"
        kyran decide 12 assign --to ann --as lead_user
        """
        review = ctx.config.review
        if list_policies or list_reasons:
            for key, text in (review.policies if list_policies else {}).items():
                click.echo(f"{key:<24} {text}")
            for key, text in (review.dismiss_reasons if list_reasons else {}).items():
                click.echo(f"{key:<24} {text}")
            return
        if candidate_id is None or action is None:
            raise click.UsageError("give a candidate ID and an action (or --list-policies, "
                                   "--list-reasons)")
        if not candidate_id.isdigit() or not 0 < int(candidate_id) < 2**63:
            raise DecideError(f"candidate id: expected a whole number, got "
                              f"{one_line(candidate_id)[:40]!r}")
        from review.decisions import DecisionError, decide  # the review app's library

        name = username or _default_user()
        if not name:
            raise DecideError("who decides? give --as USERNAME ($USER is not set)")
        with ctx.store().session() as session:
            user = session.scalars(select(User).where(User.username == name)).one_or_none() \
                if "\x00" not in name else None
            if user is None:
                raise DecideError(f"no user {one_line(name)!r} in the store: give --as USERNAME "
                                  "(kyran user add creates one)")
            try:
                outcome = decide(session, user, int(candidate_id), action, policy=policy,
                                 reason=reason, note=note, category=category,
                                 assignee=assignee, review=review, via="cli")
            except DecisionError as exc:
                raise DecideError(str(exc)) from None
            c = outcome.candidate
            detail = {"confirm": f" as {c.decision} under {c.policy}",
                      "dismiss": f": {c.reason}", "assign": f" to {assignee or 'nobody'}"}
            click.echo(f"candidate #{c.id}: {action}{detail.get(action, '')} by {name}; "
                       f"now {c.status} (event {outcome.event.id})")
