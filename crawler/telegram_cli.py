"""`kyran telegram login` and `kyran telegram accounts`: signing a monitor account in (the
session is saved to its 0600 file and never shown) and each account's state at a glance."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

import click
from sqlalchemy import select

from crawler.cli_support import InputError
from crawler.defang import json_line, one_line
from crawler.store.db import StoreUnavailable
from crawler.store.ingest import add_event
from crawler.store.models import utcnow
from crawler.store.models_ops import TelegramAccountState
from monitors.telegram.connection import (TelegramSetupError, TelegramUnreachable, build_client,
                                          connect)
from monitors.telegram.session import (SessionFileError, SessionSecret, session_file_state,
                                       write_session)


def register(cli: click.Group, pass_context) -> None:
    @cli.group("telegram")
    def telegram() -> None:
        """Sign monitor accounts in to Telegram and see how they are doing."""

    @telegram.command("login")
    @click.option("--account", "account_name", help="Account name from [telegram.accounts] "
                  "(default: the only one configured).")
    @pass_context
    def login(ctx, account_name):
        """Sign an account in (phone, code, two-step password) and save its session to a file
        of mode 0600. Prints who is signed in, never the session."""
        from monitors.telegram.login import LoginError, describe_user

        config = ctx.config
        name = _account(config, account_name)
        try:
            user, secret = asyncio.run(_login(config, name))
        except TelegramSetupError as exc:
            raise InputError(str(exc)) from None
        except (TelegramUnreachable, LoginError) as exc:
            raise click.ClickException(str(exc)) from None
        try:
            path = write_session(config, name, secret)
        except SessionFileError as exc:
            raise click.ClickException(f"signed in, but the session was not saved: {exc}") from None
        click.echo(f"account {name}: signed in as {one_line(describe_user(user))}")
        click.echo(f"session saved to {path} (mode 0600)")
        _mark_active(ctx, name, user)

    @telegram.command("accounts")
    @click.option("--json", "as_json", is_flag=True, help="JSON Lines instead of text.")
    @pass_context
    def accounts(ctx, as_json):
        """Each configured account: its session file (present, mode safe) and its state from
        the store (active, paused until, stopped and why; last success; flood waits)."""
        config = ctx.config
        states = _states(ctx)
        names = sorted(set(config.telegram.accounts) | set(states))
        if not names:
            click.echo("(no accounts: add [telegram.accounts.NAME] to the configuration)")
            return
        for name in names:
            record = _account_record(config, name, states.get(name))
            if as_json:
                click.echo(json_line(record))
                continue
            click.echo(f"{name}: session {record['session']}, {_state_text(record)}")


def _account(config, account_name: str | None) -> str:
    configured = sorted(config.telegram.accounts)
    if account_name is None:
        if len(configured) != 1:
            known = ", ".join(configured) or "none configured"
            raise InputError(f"say which account with --account NAME (configured: {known}); "
                             "accounts are [telegram.accounts.NAME] in the configuration")
        return configured[0]
    if account_name not in config.telegram.accounts:
        known = ", ".join(configured) or "none configured"
        raise InputError(f"no Telegram account {account_name!r} in the configuration "
                         f"(known: {known}); add [telegram.accounts.{account_name}]")
    return account_name


async def _login(config, name: str) -> tuple:
    """Sign `name` in; the user and the session. The client is built inside the running loop
    (Telethon 1.36 binds to it when a proxy is set)."""
    from monitors.telegram.login import sign_in

    _quiet_telethon()
    client = build_client(config, name)
    await connect(client)
    if client.session.auth_key is not None and not await client.is_user_authorized():
        # the saved session was revoked or logged out: sign in afresh
        await client.disconnect()
        client = build_client(config, name, fresh=True)
        await connect(client)
    try:
        user = await sign_in(client, _terminal_prompt, config.telegram.accounts[name].phone)
        return user, SessionSecret(client.session.save())
    finally:
        await client.disconnect()


def _quiet_telethon() -> None:
    """Telethon's reconnect warnings would go to the terminal between the prompts (Python's
    last-resort handler); the command's own one-line error says what failed. A process that
    configured logging keeps them."""
    if not logging.getLogger().handlers:
        logging.getLogger("telethon").addHandler(logging.NullHandler())


def _terminal_prompt(label: str, secret: bool) -> str:
    return click.prompt(label, hide_input=secret, err=True)


_terminal_prompt.notice = lambda text: click.echo(text, err=True)  # type: ignore[attr-defined]


def _mark_active(ctx, name: str, user) -> None:
    """A fresh sign-in makes a stopped account (revoked session) active again, with an event."""
    try:
        with ctx.store().session() as session:
            state = session.get(TelegramAccountState, name)
            if state is None:
                state = TelegramAccountState(name=name)
                session.add(state)
            before = state.state
            state.state, state.stop_reason, state.paused_until = "active", None, None
            state.updated_at = utcnow()
            add_event(session, "component:cli", "telegram.login", "account", None,
                      account=name, user_id=user.id, was=before)
    except Exception as exc:  # the session is saved: say so, do not fail
        click.echo(f"kyran: note: the account's state was not recorded in the store: "
                   f"{one_line(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)}",
                   err=True)


def _states(ctx) -> dict[str, TelegramAccountState]:
    try:
        with ctx.store(read_only=True).reader() as session:
            rows = session.scalars(select(TelegramAccountState)).all()
            session.expunge_all()
            return {row.name: row for row in rows}
    except StoreUnavailable:
        return {}


def _session_state(config, name: str) -> str:
    if name not in config.telegram.accounts:
        return "none (not configured)"
    return session_file_state(config, name)


def _account_record(config, name: str, state: TelegramAccountState | None) -> dict:
    account = config.telegram.accounts.get(name)
    record = {"account": name, "enabled": bool(account and account.enabled),
              "session": _session_state(config, name), "state": None, "paused_until": None,
              "stop_reason": None, "last_success": None, "last_error": None,
              "last_error_at": None, "flood_waits": 0, "flood_wait_seconds": 0}
    if state is not None:
        record.update(state=state.state, paused_until=state.paused_until,
                      stop_reason=state.stop_reason, last_success=state.last_success,
                      last_error=state.last_error, last_error_at=state.last_error_at,
                      flood_waits=state.flood_waits or 0,
                      flood_wait_seconds=state.flood_wait_seconds or 0)
    return record


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "never"


def _state_text(record: dict) -> str:
    state = record["state"] or "not run yet"
    if state == "paused" and record["paused_until"]:
        state = f"paused until {_when(record['paused_until'])}"
    elif state == "stopped":
        state = f"stopped: {one_line(record['stop_reason'] or 'no reason recorded')}"
    if not record["enabled"]:
        state += " (disabled)"
    parts = [state, f"last success {_when(record['last_success'])}",
             f"flood waits {record['flood_waits']} ({record['flood_wait_seconds']} s)"]
    if record["last_error"]:
        parts.append(f"last error {_when(record['last_error_at'])}: "
                     f"{one_line(record['last_error'])[:200]}")
    return ", ".join(parts)
