"""The `kyran` command line: crawl, inspect the store, read captures back, run the demo."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import click
from sqlalchemy import func, select

from crawler.config import KyranConfig, load_config
from crawler.cli_support import ID, LIMIT, check_channels, run_main
from crawler.content_coding import decode_body
from crawler.defang import json_line, one_line, safe
from crawler.daemon_cli import register as register_daemon_commands
from crawler.decide_cli import register as register_decide_command
from crawler.export_cli import register as register_export_commands
from crawler.import_cli import register as register_import_commands
from crawler.quarantine_cli import register as register_quarantine_command
from crawler.liveness_cli import register as register_liveness_command
from crawler.takedowns_cli import register as register_takedowns_command
from crawler.queue_cli import register as register_queue_commands
from crawler.telegram_cli import register as register_telegram_commands
from crawler.store.captures import CaptureError, read_capture, read_record_bytes
from crawler.store.db import Store, open_store
from crawler.store.ingest import find_source, watch
from crawler.store.post_captures import captures_of, check_captures, newest_verified
from crawler.store.models import Post, Source
from crawler.retention_cli import register as register_retention_command
from crawler.review_cli import register as register_review_commands
from crawler.status_cli import register as register_status_command
from crawler.verify_cli import register as register_verify_commands
from detection.commands import eval_command, model_command, train_command


class Context:
    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path
        self._config: KyranConfig | None = None

    @property
    def config(self) -> KyranConfig:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    def store(self, read_only: bool = False) -> Store:
        """The store; `read_only` for commands that only read: never created nor migrated."""
        return open_store(self.config.database_url, read_only=read_only,
                          limits=self.config.store.limits())


pass_context = click.make_pass_decorator(Context)

# Source.status values (crawler/store/models.py); a mistyped filter must not list nothing.
SOURCE_STATUSES = ["unknown", "active", "no_preview", "empty", "gone", "blocked", "merged"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kyran", prog_name="kyran", message="%(prog)s %(version)s")
@click.option("--config", "config_path", envvar="KYRAN_CONFIG", type=click.Path(dir_okay=False),
              help="kyran.toml to read (default: $KYRAN_CONFIG, then ./kyran.toml).")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """Kyran watches public Telegram channels and web marketplaces for drug-shop advertising and
    courier recruitment, and keeps every post with its raw capture."""
    ctx.obj = Context(config_path)


@cli.group()
def db() -> None:
    """Manage the store's schema."""


@db.command("upgrade")
@pass_context
def db_upgrade(ctx: Context) -> None:
    """Migrate the store to the newest schema (a fresh start does this by itself)."""
    store = Store(ctx.config.database_url)
    before = store.current_revision()
    store.upgrade()
    click.echo(f"store at revision {store.current_revision()} (was {before or 'empty'})")


@db.command("current")
@pass_context
def db_current(ctx: Context) -> None:
    """Print the store's schema revision and the newest one."""
    store = Store(ctx.config.database_url, read_only=True)
    click.echo(f"current {store.current_revision() or 'empty'}, head {store.head_revision()}")


@cli.group()
def crawl() -> None:
    """Run a crawl now, in the foreground."""


@crawl.command("telegram")
@click.argument("names", nargs=-1)
@click.option("--file", "channels_file", type=click.Path(exists=True, dir_okay=False),
              help="A file of channel names, one per line.")
@click.option("--max-pages", type=click.IntRange(min=1), help="Pages per channel at most.")
@click.option("--stats", "show_stats", is_flag=True, help="Print the crawl's counters too.")
@pass_context
def crawl_telegram(ctx: Context, names, channels_file, max_pages, show_stats) -> None:
    """Crawl public channels through t.me/s/NAME (the watchlist when no NAME is given).

    Exit status: 0 ok, 1 the crawl failed or is partial, 2 usage or configuration error."""
    from crawler.crawl import run_spider

    names = check_channels(names, channels_file)
    _preflight(ctx)
    if not names and not channels_file:
        with ctx.store().session() as session:
            for seed in ctx.config.telegram_preview.channels:
                watch(session, "telegram", seed, actor="component:cli")
    stats = run_spider("telegram_preview", ctx.config_path, channels=",".join(names) or None,
                       channels_file=channels_file, max_pages=max_pages)
    _report(stats, "telegram", show_stats)


@crawl.command("site")
@click.argument("target")
@click.option("--stats", "show_stats", is_flag=True, help="Print the crawl's counters too.")
@pass_context
def crawl_site(ctx: Context, target: str, show_stats: bool) -> None:
    """Crawl one site target from the [sites] section of the configuration.

    Exit status: 0 ok, 1 the crawl failed or is partial (no posts found counts), 2 usage or
    configuration error."""
    from crawler.crawl import run_spider

    if target not in ctx.config.sites:
        known = ", ".join(sorted(ctx.config.sites)) or "none configured"
        raise click.UsageError(f"no site target {target!r} (known: {known})")
    _preflight(ctx)
    site = ctx.config.sites[target]
    overrides = {"DOWNLOAD_DELAY": site.download_delay} if site.download_delay is not None else {}
    _report(run_spider("site", ctx.config_path, overrides, target=target), f"site {target}",
            show_stats, expect_posts=True)


def _preflight(ctx: Context) -> None:
    from crawler.crawl import CrawlNotStarted, preflight

    try:
        preflight(ctx.config)
    except CrawlNotStarted as exc:
        click.echo(f"kyran: crawl not started: {exc}", err=True)
        sys.exit(1)


def _report(stats: dict, what: str, show_stats: bool = False,
            expect_posts: bool = False) -> None:
    """The crawl's summary line (stdout when it went well, stderr when not) and its exit
    status (see crawler.outcome)."""
    from crawler.outcome import judge

    if show_stats:
        keys = sorted(key for key in stats if key.startswith("kyran/") or key in (
            "item_scraped_count", "response_received_count", "finish_reason"))
        for key in keys:
            click.echo(f"{key}: {safe(str(stats[key]))}")
    outcome = judge(stats, what, expect_posts)
    click.echo(safe(outcome.summary), err=bool(outcome.code))
    if outcome.code:
        sys.exit(outcome.code)


@cli.command("sources")
@click.option("--platform", type=click.Choice(["telegram", "web"]))
@click.option("--status", type=click.Choice(SOURCE_STATUSES))
@click.option("--json", "as_json", is_flag=True, help="JSON Lines instead of a table.")
@pass_context
def sources(ctx: Context, platform, status, as_json) -> None:
    """List watched sources with their status and post counts."""
    with ctx.store(read_only=True).reader() as session:
        counts = select(Post.source_id, func.count().label("n")).group_by(Post.source_id)
        counts = counts.subquery()
        query = select(Source, counts.c.n).outerjoin(counts, counts.c.source_id == Source.id)
        if platform:
            query = query.where(Source.platform == platform)
        if status:
            query = query.where(Source.status == status)
        rows = session.execute(query.order_by(Source.platform, Source.handle)).all()
        records = [_source_record(source, n or 0) for source, n in rows]
    if as_json:
        for record in records:
            click.echo(json_line(record))
        return
    _table(records, ["platform", "handle", "external_id", "status", "subscribers", "posts",
                     "title"])


def _source_record(source: Source, posts: int) -> dict:
    return {
        "id": source.id, "platform": source.platform, "kind": source.kind,
        "handle": source.handle, "external_id": source.external_id, "status": source.status,
        "title": source.title, "about": source.about, "subscribers": source.subscribers,
        "verified": source.verified, "watched": source.watched, "posts": posts,
        "discovered_via": source.discovered_via, "first_seen": source.first_seen,
        "last_crawled": source.last_crawled,
    }


def parse_since(value: str | None) -> datetime | None:
    """`2026-11-01`, an ISO datetime, or a relative `7d` / `12h`."""
    if value is None:
        return None
    units = {"d": "days", "h": "hours", "m": "minutes"}
    if value[:-1].isdigit() and value[-1:] in units:
        try:
            return datetime.now(timezone.utc) - timedelta(**{units[value[-1]]: int(value[:-1])})
        except OverflowError:
            raise click.BadParameter(f"{value!r}: too far back") from None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r}: expected a date (2026-11-01), an ISO time or 7d") from None
    try:  # the store compares in UTC: a moment that has no UTC date is no filter
        return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(
            timezone.utc)
    except OverflowError:
        raise click.BadParameter(f"{value!r}: out of range once in UTC") from None


@cli.command("posts")
@click.option("--source", "source_key", help="Handle, numeric id or site target name.")
@click.option("--since", help="Posted at or after: 2026-11-01, an ISO time, or 7d / 12h.")
@click.option("--limit", type=LIMIT, default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="JSON Lines instead of a table.")
@pass_context
def posts(ctx: Context, source_key, since, limit, as_json) -> None:
    """List stored posts, newest first."""
    since_at = parse_since(since)
    with ctx.store(read_only=True).reader() as session:
        query = select(Post, Source.handle).join(Source)
        if source_key:
            source = find_source(session, "telegram", source_key) or find_source(
                session, "web", source_key)
            if source is None:
                raise click.UsageError(f"no source {source_key!r} in the store (see kyran sources)")
            query = query.where(Post.source_id == source.id)
        if since_at:
            query = query.where(Post.posted_at >= since_at)
        query = query.order_by(Post.posted_at.desc().nulls_last(), Post.id.desc()).limit(limit)
        records = [_post_record(post, handle) for post, handle in session.execute(query).all()]
    if as_json:
        for record in records:
            click.echo(json_line(record))
        return
    for record in records:
        record["text"] = one_line(record["text"])[:70]
    _table(records, ["id", "source", "external_id", "posted_at", "views", "text"])


def _post_record(post: Post, handle: str | None) -> dict:
    return {
        "id": post.id, "source": handle, "external_id": post.external_id, "url": post.url,
        "posted_at": post.posted_at, "edited": post.edited, "text": post.text,
        "views": post.views, "forwarded_from": post.forwarded_from, "reply_to": post.reply_to,
        "media_kind": post.media_kind, "media_url": post.media_url, "links": post.links,
        "mentions": post.mentions, "title": post.title, "author": post.author,
        "price": post.price, "content_hash": post.content_hash, "capture_id": post.capture_id,
        "revisions": len(post.revisions),
    }


def _table(records: list[dict], columns: list[str]) -> None:
    if not records:
        click.echo("(none)")
        return
    cells = [[("" if r.get(c) is None else one_line(str(r.get(c)))) for c in columns]
             for r in records]
    widths = [min(60, max(len(c), *(len(row[i]) for row in cells))) for i, c in
              enumerate(columns)]
    click.echo("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in cells:
        click.echo("  ".join(v[:w].ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


@cli.command("capture")
@click.argument("post_id", type=ID)
@click.option("--body", "mode", flag_value="body", help="Only the response body (decoded).")
@click.option("--warc", "mode", flag_value="warc",
              help="The exact WARC record bytes, as stored (verify with any WARC tool).")
@pass_context
def capture(ctx: Context, post_id: int, mode: str | None) -> None:
    """Show the raw capture behind a post: URL, status, headers, hash and body. The newest
    capture that verifies is shown; a damaged newer or older one is named on stderr."""
    with ctx.store(read_only=True).reader() as session:
        post = session.get(Post, post_id)
        if post is None:
            raise click.UsageError(f"no post {post_id}")
        captures = captures_of(session, post)
        if not captures:
            raise click.ClickException(f"post {post_id} has no capture")
    root = ctx.config.captures_path
    checked = check_captures(root, captures)
    chosen = newest_verified(checked)
    for position, item in enumerate(checked):
        if not item.verified:
            when = "newer" if chosen is None or position < checked.index(chosen) else "older"
            click.echo(f"kyran: capture {item.capture.id} of post {post_id} ({when}, fetched "
                       f"{item.capture.fetched_at.isoformat()}) is damaged: {item.error}", err=True)
    if chosen is None:
        raise click.ClickException(f"none of the {len(checked)} captures of post {post_id} "
                                   "verifies")
    ref = chosen.capture
    try:
        if mode == "warc":
            sys.stdout.buffer.write(read_record_bytes(root, ref.path, ref.offset, ref.length,
                                                      ref.sha256))
            return
        record = read_capture(root, ref.path, ref.offset, ref.length, ref.sha256)
    except CaptureError as exc:
        raise click.ClickException(str(exc)) from None
    body = _decoded(record.payload, {k.lower(): v for k, v in record.http_headers})
    if mode == "body":  # the bytes, for a file or another tool
        sys.stdout.buffer.write(body)
        return
    # On the terminal everything the server sent is made safe: no control sequences, no links.
    click.echo(f"capture {ref.id}: {ref.kind} {ref.path} @ {ref.offset} ({ref.length} bytes)")
    click.echo(f"sha256 {ref.sha256} (verified)")
    click.echo(f"fetched {ref.fetched_at.isoformat()} by {ref.tool_version}")
    click.echo(f"url {one_line(record.url)}")
    click.echo(f"status {record.status}")
    for key, value in record.http_headers:
        click.echo(f"{one_line(key)}: {one_line(value)}")
    click.echo("")
    click.echo(safe(body.decode("utf-8", errors="replace")))


def _decoded(payload: bytes, headers: dict[str, str]) -> bytes:
    """The body without its content encoding (gzip, deflate, br, zstd), cut at 20 MB."""
    return decode_body(payload, headers.get("content-encoding"))


register_status_command(cli, pass_context)
register_retention_command(cli, pass_context)
cli.add_command(eval_command)
cli.add_command(train_command)
cli.add_command(model_command)
register_queue_commands(cli, pass_context)
register_decide_command(cli, pass_context)
register_quarantine_command(cli, pass_context)
register_telegram_commands(cli, pass_context)
register_liveness_command(cli, pass_context)
register_takedowns_command(cli, pass_context)
register_daemon_commands(cli, pass_context)
register_review_commands(cli, pass_context)
register_export_commands(cli, pass_context)
register_verify_commands(cli, pass_context)
register_import_commands(cli, pass_context)


@cli.command("demo")
@click.option("--keep-serving", is_flag=True, help="Leave the fixture site up afterwards.")
@click.option("--home", type=click.Path(file_okay=False), default="var/demo", show_default=True,
              help="Where the demo's store and captures go.")
def demo(keep_serving: bool, home: str) -> None:
    """Crawl the bundled fixture site (fictional Telegram channels and a marketplace) into a
    fresh SQLite store and show what was found."""
    from crawler.demo import run_demo

    run_demo(Path(home), keep_serving=keep_serving)


def main() -> None:
    """The `kyran` entry point: every failure a user can cause ends in one line and an exit
    status (2: usage or configuration, 1: the job failed)."""
    run_main(cli)
