"""`kyran telegram login` and `kyran telegram accounts` through click's runner, with the client
factory patched to a client that behaves like Telethon's; the store on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import stat
import time
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from crawler import telegram_cli
from crawler.cli import cli
from crawler.config import load_config
from crawler.store.db import open_store
from crawler.store.models import Event
from crawler.store.models_ops import TelegramAccountState
from monitors.telegram.session import read_session
from tests.conftest import run_kyran, write_config
from tests.monitors.liveness_world import BadServer
from tests.monitors.login_fakes import PHONE, FakeSignInClient

TELEGRAM = ('[telegram]\napi_id = 12345\napi_hash = "0123456789abcdef0123456789abcdef"\n'
            f'[telegram.accounts.main]\nphone = "{PHONE}"\n[telegram.accounts.spare]\n')


@pytest.fixture
def setup(tmp_path, db_url, monkeypatch):
    config = write_config(tmp_path / "kyran.toml", db_url, TELEGRAM)
    clients: list[FakeSignInClient] = []
    behaviour: dict = {}

    def factory(config, account_name, fresh=False, **_):
        assert account_name in config.telegram.accounts
        kind = dict(behaviour)
        if fresh:
            kind.pop("revoked", None)
        clients.append(FakeSignInClient(**kind))
        clients[-1].fresh = fresh
        return clients[-1]

    monkeypatch.setattr(telegram_cli, "build_client", factory)
    return {"config": config, "clients": clients, "behaviour": behaviour, "db_url": db_url}


def invoke(config, *args, input=None):
    return CliRunner().invoke(cli, ["--config", str(config), "telegram", *args], input=input)


def test_login_saves_the_session_privately_and_says_who(setup, caplog):
    caplog.set_level(logging.DEBUG)
    result = invoke(setup["config"], "login", "--account", "main", input="12345\n")
    assert result.exit_code == 0, result.output
    assert "account main: signed in as Aigerim Analyst (@kyran_watch), id 424242" in result.stdout
    path = setup["config"].parent / "var" / "telegram" / "main.session"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    saved = read_session(load_config(setup["config"], environ={}), "main").reveal()
    assert saved == setup["clients"][0].session.save()
    for shown in (result.output, caplog.text):
        assert saved not in shown and saved[1:40] not in shown
    assert setup["clients"][0].connected is False  # disconnected afterwards
    store = open_store(setup["db_url"])
    with store.session() as session:
        state = session.get(TelegramAccountState, "main")
        assert state.state == "active"
        event = session.scalars(select(Event).where(Event.action == "telegram.login")).one()
        assert event.payload["account"] == "main" and saved not in str(event.payload)
    store.dispose()


def test_login_reactivates_a_stopped_account(setup):
    store = open_store(setup["db_url"])
    with store.session() as session:
        session.add(TelegramAccountState(name="main", state="stopped",
                                         stop_reason="session revoked"))
    result = invoke(setup["config"], "login", "--account", "main", input="12345\n")
    assert result.exit_code == 0, result.output
    with store.session() as session:
        state = session.get(TelegramAccountState, "main")
        assert (state.state, state.stop_reason) == ("active", None)
    store.dispose()


def test_login_two_step_and_wrong_code(setup):
    setup["behaviour"].update(password="secret pw")
    result = invoke(setup["config"], "login", "--account", "main",
                    input="00000\n12345\nbad\nsecret pw\n")
    assert result.exit_code == 0, result.output
    assert "the code is wrong, try again (2 left)" in result.stderr
    assert "the password is wrong, try again (2 left)" in result.stderr
    assert "secret pw" not in result.output  # hidden input is not echoed


def test_login_gives_up_with_one_line_and_saves_nothing(setup):
    result = invoke(setup["config"], "login", "--account", "main", input="1\n2\n3\n")
    assert result.exit_code == 1
    assert result.stderr.strip().endswith(
        "Error: the code is wrong (3 attempts): nothing was saved; run kyran telegram login again")
    assert not (setup["config"].parent / "var" / "telegram" / "main.session").exists()


def test_login_asks_for_the_phone_when_not_configured(setup):
    result = invoke(setup["config"], "login", "--account", "spare", input=f"{PHONE}\n12345\n")
    assert result.exit_code == 0, result.output
    assert setup["clients"][0].codes_sent == [PHONE]
    assert (setup["config"].parent / "var" / "telegram" / "spare.session").exists()


@pytest.mark.parametrize(("args", "behaviour", "code", "line"), [
    ([], {}, 2, "say which account with --account NAME (configured: main, spare)"),
    (["--account", "nope"], {}, 2, "no Telegram account 'nope' in the configuration"),
    (["--account", "main"], {"flood": 7200}, 1, "Telegram asks to wait 7200 s"),
    (["--account", "main"], {"unreachable": True}, 1,
     "cannot reach Telegram at its default data centre: Connection to Telegram failed"),
])
def test_login_failures_are_one_line(setup, args, behaviour, code, line):
    setup["behaviour"].update(behaviour)
    result = invoke(setup["config"], "login", *args, input="12345\n")
    assert result.exit_code == code, result.output
    assert line in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_accounts_show_session_and_state_never_the_session(setup):
    invoke(setup["config"], "login", "--account", "main", input="12345\n")
    saved = (setup["config"].parent / "var" / "telegram" / "main.session").read_text().strip()
    store = open_store(setup["db_url"])
    with store.session() as session:
        state = session.get(TelegramAccountState, "main")
        state.state, state.paused_until = "paused", datetime(2026, 12, 1, 8, 30, tzinfo=timezone.utc)
        state.flood_waits, state.flood_wait_seconds = 2, 4200
        session.add(TelegramAccountState(name="spare", state="stopped",
                                         stop_reason="AuthKeyDuplicatedError: used from two "
                                         "places\x1b[31m"))
    store.dispose()
    result = invoke(setup["config"], "accounts")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("main: session saved (")
    assert "paused until 2026-12-01 08:30 UTC" in lines[0] and "flood waits 2 (4200 s)" in lines[0]
    assert lines[1].startswith("spare: session none (run kyran telegram login), stopped: "
                               "AuthKeyDuplicatedError: used from two places")
    assert "\x1b" not in result.stdout and saved not in result.stdout
    as_json = invoke(setup["config"], "accounts", "--json")
    assert '"account": "main"' in as_json.stdout and saved not in as_json.stdout


def test_accounts_flag_an_unsafe_session_file(setup):
    invoke(setup["config"], "login", "--account", "main", input="12345\n")
    path = setup["config"].parent / "var" / "telegram" / "main.session"
    path.chmod(0o644)
    result = invoke(setup["config"], "accounts")
    assert f"main: session UNSAFE: {path} is accessible by group or others (mode 0644)" in (
        result.stdout)
    assert f"chmod 600 {path}" in result.stdout
    assert path.read_text().strip() not in result.stdout


def test_login_over_a_revoked_session_starts_afresh(setup):
    setup["behaviour"].update(revoked=True)
    result = invoke(setup["config"], "login", "--account", "main", input="12345\n")
    assert result.exit_code == 0, result.output
    first, second = setup["clients"]
    assert (first.fresh, second.fresh) == (False, True)
    assert first.connected is False and first.codes_sent == []
    saved = read_session(load_config(setup["config"], environ={}), "main").reveal()
    assert saved == second.session.save() != first.session.save()


# -- the real command in a subprocess: the real client factory, never the internet ------------

def test_login_without_api_hash_is_one_line_exit_2(tmp_path, db_url):
    config = write_config(tmp_path / "kyran.toml", db_url,
                          "[telegram]\napi_id = 5\n[telegram.accounts.main]\n")
    result = run_kyran("telegram", "login", config=config, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Error: telegram.api_hash is not set: set KYRAN_TELEGRAM__API_HASH (from my.telegram.org)"]


def test_login_refuses_a_session_file_others_can_read(tmp_path, db_url):
    config = write_config(tmp_path / "kyran.toml", db_url, TELEGRAM)
    path = tmp_path / "var" / "telegram" / "main.session"
    path.parent.mkdir(parents=True)
    session = FakeSignInClient(authorized=True).session.save()
    path.write_text(session)
    path.chmod(0o644)
    result = run_kyran("telegram", "login", "--account", "main", config=config, timeout=60)
    assert result.returncode == 2
    assert f"run: chmod 600 {path}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and session not in result.stderr


def test_login_to_a_server_that_hangs_up_fails_in_one_line(tmp_path, db_url):
    with BadServer("close") as bad:
        config = write_config(tmp_path / "kyran.toml", db_url, TELEGRAM + (
            f'[telegram.server]\ndc_id = 2\naddress = "127.0.0.1"\nport = {bad.port}\n'))
        started = time.monotonic()
        result = run_kyran("telegram", "login", "--account", "main", config=config, timeout=90)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines == [f"Error: cannot reach Telegram at 127.0.0.1:{bad.port} (DC 2): the server "
                     "closed the connection during the handshake"] or (
        len(lines) == 1 and lines[0].startswith(f"Error: cannot reach Telegram at 127.0.0.1:"
                                                f"{bad.port} (DC 2): "))
    assert time.monotonic() - started < 60
    assert not (tmp_path / "var" / "telegram" / "main.session").exists()
