"""The monitor as the daemon runs it: real Telethon clients built from the configuration,
one per enabled account; an account that cannot start is stopped with its reason and the
others go on; an account whose server cannot be reached is recorded, never retried in a loop
inside one pass. No connection ever leaves this machine."""

import asyncio
import os

from sqlalchemy import select
from telethon.crypto import AuthKey
from telethon.sessions import StringSession

from crawler.config import load_config
from crawler.store.models_ops import TelegramAccountState
from monitors.telegram.service import TelegramService
from monitors.telegram.session import SessionSecret, write_session
from tests.conftest import write_config

API = '[telegram]\napi_id = 12345\napi_hash = "0123456789abcdef0123456789abcdef"\n'


def session_for(port: int) -> str:
    """A saved session (an auth key) on a data centre at 127.0.0.1:PORT."""
    session = StringSession()
    session.set_dc(2, "127.0.0.1", port)
    session.auth_key = AuthKey(os.urandom(256))
    return session.save()


async def closing_server():
    async def answer(reader, writer):
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def test_each_account_starts_or_is_stopped_with_its_reason(tmp_path, store, db_url):
    async def scenario():
        server, port = await closing_server()
        async with server:
            config_path = write_config(
                tmp_path / "kyran.toml", db_url,
                API + "[telegram.accounts.unsigned]\n[telegram.accounts.reachable]\n"
                "[telegram.accounts.off]\nenabled = false\n")
            config = load_config(config_path, environ={})
            secret = session_for(port)
            write_session(config, "reachable", SessionSecret(secret))
            service = TelegramService(config, store)
            return secret, port, await service.run_once()

    secret, port, summary = asyncio.run(scenario())
    assert summary["accounts"] == 1  # the unsigned one never got a client, the disabled none
    with store.session() as session:
        rows = {row.name: row for row in session.scalars(select(TelegramAccountState))}
    assert set(rows) == {"unsigned", "reachable"}
    assert rows["unsigned"].state == "stopped"
    assert rows["unsigned"].stop_reason == ("account unsigned is not signed in: run kyran "
                                            "telegram login --account unsigned")
    assert "cannot connect" in rows["reachable"].last_error
    assert f"127.0.0.1:{port}" in rows["reachable"].last_error
    assert rows["reachable"].state == "active"
    for row in rows.values():
        assert secret not in f"{row.last_error} {row.stop_reason}"
