"""`kyran serve` (the analysts' review app) and `kyran user …` (accounts and API tokens).

`serve` binds its socket itself, so an address in use is one line and exit 1, and port 0 works:
the address actually bound is printed ("listening on http://HOST:PORT") for whoever started it.
Passwords are asked twice on a terminal or read from stdin with --password-stdin; they are never
echoed nor logged. A new API token is printed once: only its SHA-256 is kept.
"""

from __future__ import annotations

import errno
import socket
import sys

import click

from crawler.cli_support import InputError

ACTOR = "component:cli"
ROW_ID = click.IntRange(1, 2**31 - 1)  # api_token.id is an INTEGER column


def _listen_address(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit() or int(port) > 65535:
        raise InputError(f"--listen {listen!r}: expected HOST:PORT, e.g. 127.0.0.1:8080")
    return host, int(port)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        why = "address in use" if exc.errno == errno.EADDRINUSE else exc.strerror
        click.echo(f"kyran: cannot listen on {host}:{port}: {why}", err=True)
        sys.exit(1)
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise InputError("no password given")
    return password


def register(cli: click.Group, pass_context) -> None:
    @cli.command("serve")
    @click.option("--listen", help="HOST:PORT (default: review.listen; port 0 picks one).")
    @pass_context
    def serve_command(ctx, listen):
        """Run the analysts' review web app."""
        import uvicorn

        from review.app import create_app
        from review.security import SecretKeyError

        config = ctx.config
        host, port = _listen_address(listen or config.review.listen)
        store = ctx.store()
        try:
            app = create_app(config, store)
        except SecretKeyError as exc:
            raise InputError(str(exc)) from None
        sock = _bind(host, port)
        bound_host, bound_port = sock.getsockname()[:2]
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        click.echo(f"listening on http://{shown}:{bound_port}", err=True)
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False,
                                               proxy_headers=False, server_header=False))
        try:
            server.run(sockets=[sock])
        finally:
            store.dispose()

    @cli.group("user")
    def user_group():
        """Manage analysts' accounts and API tokens."""

    @user_group.command("add")
    @click.argument("username")
    @click.option("--role", type=click.Choice(["analyst", "lead", "admin"]), required=True)
    @click.option("--display-name", help="The name others see (a pseudonym is fine).")
    @click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
    @pass_context
    def user_add(ctx, username, role, display_name, password_stdin):
        """Add an account."""
        from review.users import UserError, add_user

        password = _read_password(password_stdin)
        try:
            with ctx.store().session() as session:
                add_user(session, ACTOR, username, role, password, display_name)
        except UserError as exc:
            raise InputError(str(exc)) from None
        click.echo(f"added {username} ({role})")

    @user_group.command("list")
    @pass_context
    def user_list(ctx):
        """List accounts."""
        from crawler.defang import one_line
        from review.users import list_users

        with ctx.store(read_only=True).reader() as session:
            users = list_users(session)
        if not users:
            click.echo("(no users)")
        for user in users:
            state = "active" if user.active else "disabled"
            last = user.last_login.strftime("%Y-%m-%d %H:%M") if user.last_login else "never"
            click.echo(f"{user.username:<20} {user.role:<8} {state:<9} last login {last}  "
                       f"{one_line(user.display_name or '')}")

    @user_group.command("disable")
    @click.argument("username")
    @pass_context
    def user_disable(ctx, username):
        """Disable an account: its sessions and tokens stop working at once."""
        from review.users import UserError, find_user, set_active

        try:
            with ctx.store().session() as session:
                set_active(session, ACTOR, find_user(session, username), False)
        except UserError as exc:
            raise InputError(str(exc)) from None
        click.echo(f"disabled {username}")

    @user_group.command("token")
    @click.argument("username")
    @click.option("--name", required=True, help="What the token is for.")
    @pass_context
    def user_token(ctx, username, name):
        """Make an API token acting as USERNAME; it is printed once."""
        from review.users import UserError, find_user, issue_token

        try:
            with ctx.store().session() as session:
                issued = issue_token(session, ACTOR, find_user(session, username), name)
                token_id = issued.row.id
        except UserError as exc:
            raise InputError(str(exc)) from None
        click.echo(f"token {token_id} for {username} (shown once, keep it safe):", err=True)
        click.echo(issued.token)

    @user_group.command("revoke-token")
    @click.argument("token_id", type=ROW_ID)
    @pass_context
    def user_revoke(ctx, token_id):
        """Revoke an API token (by its id)."""
        from review.users import UserError, revoke_token

        try:
            with ctx.store().session() as session:
                revoke_token(session, ACTOR, token_id)
        except UserError as exc:
            raise InputError(str(exc)) from None
        click.echo(f"revoked token {token_id}")
