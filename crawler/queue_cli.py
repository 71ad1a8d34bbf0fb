"""`kyran queue`, `kyran candidate`, `kyran entity`, `kyran watchlist`, `kyran rescore`: the
candidate queue and the watchlist from the command line.

Scraped text is shown defanged and stripped of control characters, and every one-line field
folded to one line (a title cannot forge a line); matched words are marked (bold and underlined
on a terminal, «between guillemets» otherwise). JSON output escapes control characters.
"""

from __future__ import annotations

import click
from sqlalchemy import select

from crawler.cli_support import ID, LIMIT, InputError
from crawler.defang import json_line, one_line, safe
from crawler.store.ingest import add_event, find_source, watch
from crawler.store.models import Source
from crawler.store.views import EvidencePost, candidate_view, entity_view, queue
from crawler.usernames import UsernameError, parse_username

# Candidate.status values (crawler/store/models.py), and `all`.
CANDIDATE_STATUSES = ["open", "in_review", "escalated", "confirmed", "dismissed", "reported",
                      "taken_down", "all"]


def register(cli: click.Group, pass_context) -> None:
    @cli.command("queue")
    @click.option("--status", type=click.Choice(CANDIDATE_STATUSES), default="open",
                  show_default=True)
    @click.option("--category", type=click.Choice(["sale", "recruitment"]))
    @click.option("--limit", type=LIMIT, default=30, show_default=True)
    @click.option("--json", "as_json", is_flag=True, help="JSON Lines instead of text.")
    @pass_context
    def queue_command(ctx, status, category, limit, as_json):
        """List candidates by priority, each with its subject and reasons."""
        with ctx.store(read_only=True).reader() as session:
            views = queue(session, None if status == "all" else status, category, limit)
            if as_json:
                for view in views:
                    c = view.candidate
                    click.echo(json_line({
                        "id": c.id, "priority": c.priority, "category": c.category,
                        "status": c.status, "score": round(c.score, 4),
                        "subject_type": c.subject_type, "subject_id": c.subject_id,
                        "subject": safe(view.subject), "sources": view.sources,
                        "reasons": c.reasons, "last_evidence_at": c.last_evidence_at}))
                return
            if not views:
                click.echo("(no candidates)")
            for view in views:
                c = view.candidate
                spread = f" · in {view.sources} sources" if view.sources > 1 else ""
                click.echo(f"#{c.id:<5} {c.priority:>3}  {c.category:<11} {c.status:<9} "
                           f"score {c.score:.2f}{spread}")
                click.echo(f"       {one_line(view.subject)}")
                click.echo(f"       {_reason_line(c.reasons)}")

    @cli.command("candidate")
    @click.argument("candidate_id", type=ID)
    @click.option("--posts", type=LIMIT, default=10, show_default=True,
                  help="Evidence posts to show.")
    @pass_context
    def candidate_command(ctx, candidate_id, posts):
        """Show one candidate: subject, reasons, evidence posts with the matched words marked,
        linked entities, and its history."""
        with ctx.store(read_only=True).reader() as session:
            view = candidate_view(session, candidate_id, posts)
            if view is None:
                raise click.UsageError(f"no candidate {candidate_id} (see kyran queue)")
            c = view.candidate
            click.secho(f"candidate #{c.id} · {c.category} · {c.status} · priority {c.priority}"
                        f" · score {c.score:.2f}", bold=True)
            click.echo(f"subject: {one_line(view.subject)}")
            if view.sources > 1:
                click.echo(f"posted in {view.sources} sources")
            click.echo(f"reasons: {_reason_line(c.reasons)}")
            click.echo(f"\nevidence ({len(view.evidence)} shown):")
            for evidence in view.evidence:
                _show_post(evidence)
            if view.entities:
                click.echo("\nentities:")
                for entity, n_posts, n_sources in view.entities:
                    click.echo(f"  {entity.kind:<16} {one_line(entity.value)}  ({n_posts} posts, "
                               f"{n_sources} sources)")
            click.echo("\nhistory:")
            for event in view.history:
                detail = one_line(str(event.payload.get("why") or event.payload.get("note") or ""))
                click.echo(f"  {event.at:%Y-%m-%d %H:%M} {event.actor:<28} {event.action}"
                           f" {detail}".rstrip())

    @cli.command("entity")
    @click.argument("value")
    @click.option("--kind", help="telegram_bot, telegram_handle, btc, eth, tron, xmr, onion, "
                  "domain, url, phone, invite_link.")
    @pass_context
    def entity_command(ctx, value, kind):
        """Show everything linked to a wallet, bot, handle, domain or phone: sources, posts,
        candidates."""
        value = value.strip()
        tried = [value]
        if value.startswith(("t.me/", "https://t.me/", "@")):
            tried = ["@" + value.rstrip("/").rsplit("/", 1)[-1].lstrip("@").lower()]
        elif not kind and value.isidentifier():  # a bare name may be a handle or a wallet
            tried.append("@" + value.lower())
        with ctx.store(read_only=True).reader() as session:
            views = next((found for found in (entity_view(session, kind, v) for v in tried)
                          if found), [])
            if not views:
                raise click.UsageError(f"no entity {' or '.join(map(repr, tried))} in the store")
            for view in views:
                e = view.entity
                click.secho(f"{e.kind} {one_line(e.value)}", bold=True)
                click.echo(f"first seen {e.first_seen:%Y-%m-%d %H:%M}, last seen "
                           f"{e.last_seen:%Y-%m-%d %H:%M}")
                click.echo(f"in {len(view.sources)} sources:")
                for source, n_posts, n_flagged in view.sources:
                    click.echo(f"  {source.platform} {one_line(source.handle)}: {n_posts} posts, "
                               f"{n_flagged} flagged")
                for candidate in view.candidates:
                    click.echo(f"candidate #{candidate.id} {candidate.category} "
                               f"{candidate.status} on {candidate.subject_type}")
                click.echo("latest posts:")
                for evidence in view.posts:
                    _show_post(evidence)

    @cli.group("watchlist", invoke_without_command=True)
    @click.option("--all", "show_all", is_flag=True, help="Also sources no longer watched.")
    @click.pass_context
    def watchlist(click_ctx, show_all):
        """List what is watched (default) or change it: add, remove, priority."""
        if click_ctx.invoked_subcommand is not None:
            return
        ctx = click_ctx.obj
        with ctx.store(read_only=True).reader() as session:
            query = select(Source).order_by(Source.watch_priority.desc(), Source.handle)
            if not show_all:
                query = query.where(Source.watched.is_(True))
            for s in session.scalars(query):
                mark = "" if s.watched else " (not watched)"
                click.echo(f"{s.watch_priority:>3}  {s.platform:<8} {s.kind:<8} "
                           f"{one_line(s.handle):<32} {s.status:<10} via {s.discovered_via} "
                           f"depth {s.discovery_depth}{mark}")

    @watchlist.command("add")
    @click.argument("names", nargs=-1, required=True)
    @click.option("--priority", type=click.IntRange(0, 100), default=50, show_default=True)
    @pass_context
    def watchlist_add(ctx, names, priority):
        """Watch Telegram channels (names or t.me links)."""
        try:
            handles = [parse_username(name) for name in names]
        except UsernameError as exc:
            raise InputError(f"{exc}; nothing was added") from None
        with ctx.store().session() as session:
            for handle in handles:
                source = watch(session, "telegram", handle, priority=priority,
                               actor="user:cli")
                if not source.watched:
                    source.watched = True
                    add_event(session, "user:cli", "source.watched", "source", source.id)
                click.echo(f"watching @{handle}")

    @watchlist.command("remove")
    @click.argument("names", nargs=-1, required=True)
    @pass_context
    def watchlist_remove(ctx, names):
        """Stop watching sources (their posts and evidence are kept)."""
        with ctx.store().session() as session:
            for name in names:
                source = _source_or_fail(session, name)
                source.watched = False
                add_event(session, "user:cli", "source.unwatched", "source", source.id)
                click.echo(f"no longer watching {one_line(source.handle)}")

    @watchlist.command("priority")
    @click.argument("name")
    @click.argument("priority", type=click.IntRange(0, 100))
    @pass_context
    def watchlist_priority(ctx, name, priority):
        """Set a source's watch priority (0-100; higher is crawled first)."""
        with ctx.store().session() as session:
            source = _source_or_fail(session, name)
            add_event(session, "user:cli", "source.priority", "source", source.id,
                      old=source.watch_priority, new=priority)
            source.watch_priority = priority
            click.echo(f"{one_line(source.handle)}: priority {priority}")

    @cli.command("rescore")
    @click.option("--since", help="Only posts posted since: 2026-11-01, an ISO time, or 7d.")
    @click.option("--source", "source_key", help="Only this source's posts.")
    @pass_context
    def rescore_command(ctx, since, source_key):
        """Score stored posts again (after a lexicon or model change) and update verdicts and
        candidates; decisions analysts made are kept."""
        from crawler.cli import parse_since
        from pipelines.rescore import rescore

        counts = rescore(ctx.store(), ctx.config, since=parse_since(since), source=source_key)
        for key in sorted(counts):
            click.echo(f"{key}: {counts[key]}")


def _source_or_fail(session, name: str) -> Source:
    source = find_source(session, "telegram", name) or find_source(session, "web", name)
    if source is None:
        raise click.UsageError(f"no source {name!r} (see kyran watchlist --all)")
    return source


def _reason_line(reasons: list[dict]) -> str:
    parts = []
    for reason in reasons[:4]:
        words = ", ".join(one_line(w) for w in reason.get("words", [])[:4])
        parts.append(f"{reason['rule']} ({reason['contribution']:+.2f}"
                     + (f": {words})" if words else ")"))
    return "; ".join(parts) or "-"


def highlighted(text: str, spans: list[tuple[int, int, str]], color: bool) -> str:
    """The original text with matched spans marked; every piece made safe on its own."""
    pieces, cursor = [], 0
    for start, end, _ in spans:
        start = max(start, cursor)
        if start >= end or start >= len(text):
            continue
        pieces.append(safe(text[cursor:start]))
        word = safe(text[start:end])
        pieces.append(click.style(word, bold=True, underline=True) if color else f"«{word}»")
        cursor = end
    pieces.append(safe(text[cursor:]))
    return "".join(pieces)


def _show_post(evidence: EvidencePost) -> None:
    post, source, verdict = evidence.post, evidence.source, evidence.verdict
    score = f"{verdict.category} {verdict.score:.2f}" if verdict else "not scored"
    when = f"{post.posted_at:%Y-%m-%d %H:%M}" if post.posted_at else "undated"
    click.echo(f"- post {post.id} · {source.platform} {one_line(source.handle)} · {when} · "
               f"{score} · {one_line(post.url)}")
    color = click.get_text_stream("stdout").isatty()
    for line in highlighted(post.text, evidence.spans(), color).splitlines() or [""]:
        click.echo(f"    {line}")
