"""Building an account's Telethon client: session, API credentials, flood waits left to the
monitor, proxies, another MTProto server; one clear line for settings that cannot work; a real
connection attempt to a local server that hangs up or answers garbage fails within its bound."""

from __future__ import annotations

import asyncio
import os
import time

import pytest
import rsa
from telethon.crypto import AuthKey
from telethon.crypto import rsa as telethon_rsa
from telethon.network.connection import ConnectionTcpMTProxyRandomizedIntermediate
from telethon.sessions import StringSession

from crawler.config import load_config
from monitors.telegram.connection import (TelegramSetupError, TelegramUnreachable, build_client,
                                          connect)
from monitors.telegram.session import SessionSecret, write_session
from tests.socks5 import Socks5Server

API_HASH = "0123456789abcdef0123456789abcdef"


def build(config, name, **options):
    """build_client as the monitor calls it: inside a running event loop (Telethon 1.36 reads
    the running loop in TelegramClient() when a proxy is set)."""
    async def inside():
        return build_client(config, name, **options)

    return asyncio.run(inside())
MT_SECRET = "dd" + "a1" * 16


def configure(tmp_path, text: str = "", environ: dict | None = None, api: bool = True):
    path = tmp_path / "kyran.toml"
    head = f'[telegram]\napi_id = 12345\napi_hash = "{API_HASH}"\n' if api else "[telegram]\n"
    path.write_text(head + text, encoding="utf-8")
    return load_config(path, environ=environ or {})


def test_client_has_session_credentials_and_no_automatic_flood_sleep(tmp_path):
    config = configure(tmp_path, "[telegram.accounts.main]\n")
    saved = StringSession()
    saved.set_dc(4, "149.154.167.91", 443)
    saved.auth_key = AuthKey(os.urandom(256))
    write_session(config, "main", SessionSecret(saved.save()))
    client = build(config, "main")
    assert isinstance(client.session, StringSession)
    assert client.session.auth_key.key == saved.auth_key.key
    assert (client.session.dc_id, client.session.server_address) == (4, "149.154.167.91")
    assert client.flood_sleep_threshold == 0
    assert client.api_id == 12345 and client.api_hash == API_HASH
    assert client._proxy is None
    assert API_HASH not in repr(client) and saved.save() not in repr(client.session)


def test_fresh_session_without_file(tmp_path):
    client = build(configure(tmp_path, "[telegram.accounts.main]\n"), "main")
    assert client.session.auth_key is None


def test_socks5_proxy_with_credentials(tmp_path):
    config = configure(tmp_path, "[telegram.accounts.main.proxy]\n"
                       'url = "socks5h://kyran:p%40ss@10.0.0.7:1080"\n')
    client = build(config, "main")
    assert client._proxy == {"proxy_type": "socks5", "addr": "10.0.0.7", "port": 1080,
                             "username": "kyran", "password": "p@ss", "rdns": True}


def test_http_proxy(tmp_path):
    config = configure(tmp_path, '[telegram.accounts.main.proxy]\nurl = "http://10.0.0.7:3128"\n')
    assert build(config, "main")._proxy["proxy_type"] == "http"


def test_mtproto_proxy(tmp_path):
    config = configure(tmp_path, "[telegram.accounts.main.proxy]\n"
                       f'mtproxy = "proxy.example:443:{MT_SECRET}"\n')
    client = build(config, "main")
    assert client._connection is ConnectionTcpMTProxyRandomizedIntermediate
    assert client._proxy == ("proxy.example", 443, MT_SECRET)
    # Telethon's own reading of the secret gives the 16 bytes configured
    assert ConnectionTcpMTProxyRandomizedIntermediate.normalize_secret(
        client._proxy[2]) == bytes.fromhex("a1" * 16)


def test_plain_mtproto_secret_starting_with_dd_stays_whole(tmp_path):
    secret = "dd" + "0f" * 15
    config = configure(tmp_path, "[telegram.accounts.main.proxy]\n"
                       f'mtproxy = "127.0.0.1:8443:{secret}"\n')
    proxy = build(config, "main")._proxy
    assert ConnectionTcpMTProxyRandomizedIntermediate.normalize_secret(
        proxy[2]) == bytes.fromhex(secret)


@pytest.mark.parametrize("form", ["pkcs1", "spki"])
def test_other_server_sets_data_centre_and_rsa_key(tmp_path, form):
    public, _ = rsa.newkeys(512)
    pem = public.save_pkcs1() if form == "pkcs1" else _spki(public)
    (tmp_path / "server.pem").write_bytes(pem)
    config = configure(tmp_path, "[telegram.accounts.main]\n[telegram.server]\ndc_id = 2\n"
                       'address = "10.1.2.3"\nport = 8443\nrsa_key_file = "server.pem"\n')
    client = build(config, "main")
    session = client.session
    assert (session.dc_id, session.server_address, session.port) == (2, "10.1.2.3", 8443)
    fingerprint = telethon_rsa._compute_fingerprint(public)
    assert telethon_rsa._server_keys[fingerprint][0] == public


def _spki(public: rsa.PublicKey) -> bytes:
    """The key as `openssl rsa -pubout` writes it (SubjectPublicKeyInfo PEM)."""
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_public_key(public.save_pkcs1())
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.mark.parametrize(("text", "api", "expected"), [
    ("[telegram.accounts.main]\n", False, "telegram.api_id is not set"),
    ("", True, "no Telegram account 'main' in the configuration (known: none configured)"),
    ("[telegram.accounts.main.proxy]\nmtproxy = \"h:443:ee" + "ab" * 16 + "6578616d706c65\"\n",
     True, "telegram.accounts.main.proxy.mtproxy: fake-TLS secrets"),
    ("[telegram.accounts.main.proxy]\nmtproxy = \"h:443:" + "ab" * 20 + "\"\n",
     True, "telegram.accounts.main.proxy.mtproxy: the secret must be 32 hex digits"),
    ("[telegram.accounts.main.proxy]\nurl = \"socks5://u:hunter2@h:99999\"\n",
     True, "telegram.accounts.main.proxy.url: expected SCHEME://HOST:PORT"),
    ("[telegram.accounts.main]\n[telegram.server]\ndc_id = 2\naddress = \"dc.example\"\n",
     True, "telegram.server.address: expected an IP address (got 'dc.example')"),
    ("[telegram.accounts.main]\n[telegram.server]\ndc_id = 2\naddress = \"10.0.0.1\"\n"
     "rsa_key_file = \"nope.pem\"\n", True, "telegram.server.rsa_key_file: "),
    ("[telegram.accounts.main]\n[telegram.server]\ndc_id = 2\naddress = \"10.0.0.1\"\n"
     "rsa_key_file = \"kyran.toml\"\n", True, "not an RSA public key in PEM form"),
])
def test_settings_that_cannot_work_give_one_line(tmp_path, text, api, expected):
    with pytest.raises(TelegramSetupError) as caught:
        build(configure(tmp_path, text, api=api), "main")
    message = str(caught.value)
    assert expected in message and "\n" not in message
    assert "hunter2" not in message


def test_missing_api_hash_names_the_variable(tmp_path):
    path = tmp_path / "kyran.toml"
    path.write_text("[telegram]\napi_id = 5\n[telegram.accounts.main]\n")
    with pytest.raises(TelegramSetupError, match="KYRAN_TELEGRAM__API_HASH"):
        build(load_config(path, environ={}), "main")
    config = load_config(path, environ={"KYRAN_TELEGRAM__API_HASH": API_HASH})
    assert build(config, "main").api_hash == API_HASH


def test_unsafe_session_file_is_a_setup_error(tmp_path):
    config = configure(tmp_path, "[telegram.accounts.main]\n")
    saved = StringSession()
    saved.set_dc(2, "149.154.167.40", 443)
    saved.auth_key = AuthKey(os.urandom(256))
    path = write_session(config, "main", SessionSecret(saved.save()))
    path.chmod(0o644)
    with pytest.raises(TelegramSetupError, match="chmod 600") as caught:
        build(config, "main")
    assert saved.save() not in str(caught.value)


# -- real connection attempts to local servers ------------------------------------------------

async def _serve(behaviour: str):
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if behaviour == "garbage":
            await reader.read(64)
            writer.write(os.urandom(16) + b"\x00" * 200)
            await writer.drain()
            await reader.read(1 << 16)
        elif behaviour == "silent":
            await reader.read(1 << 16)  # holds the connection open without a word
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def _server_config(tmp_path, port: int, extra: str = ""):
    return configure(tmp_path, "[telegram.accounts.main]\n" + extra + "[telegram.server]\n"
                     f'dc_id = 2\naddress = "127.0.0.1"\nport = {port}\n')


@pytest.mark.parametrize("behaviour", ["close", "garbage", "silent"])
def test_connection_to_a_server_that_is_not_telegram_fails_within_the_bound(tmp_path, behaviour):
    async def attempt():
        server, port = await _serve(behaviour)
        async with server:
            client = build_client(_server_config(tmp_path, port), "main", timeout=2,
                                  connection_retries=1)
            started = time.monotonic()
            with pytest.raises(TelegramUnreachable) as caught:
                await connect(client, timeout=6)
            return caught.value, time.monotonic() - started, port, client

    error, took, port, client = asyncio.run(attempt())
    assert took < 8
    assert str(error).startswith(f"cannot reach Telegram at 127.0.0.1:{port} (DC 2)")
    assert "\n" not in str(error)
    assert not client.is_connected()


def test_connection_refused_through_a_socks5_proxy_names_the_proxy(tmp_path):
    import threading

    socks = Socks5Server(lambda host, port: None)  # every destination unreachable
    threading.Thread(target=socks.serve_forever, daemon=True).start()
    try:
        proxy = f"socks5://kyran:hunter2@127.0.0.1:{socks.server_address[1]}"
        config = _server_config(tmp_path, 9, f'[telegram.accounts.main.proxy]\nurl = "{proxy}"\n')
        async def attempt():
            client = build_client(config, "main", timeout=2, connection_retries=0)
            await connect(client, timeout=6)

        with pytest.raises(TelegramUnreachable) as caught:
            asyncio.run(attempt())
    finally:
        socks.shutdown()
        socks.server_close()
    message = str(caught.value)
    assert f"through socks5 proxy 127.0.0.1:{socks.server_address[1]}" in message
    assert "hunter2" not in message
    assert socks.seen and socks.seen[0]["port"] == 9  # the proxy was asked for the server


def test_mtproto_proxy_that_hangs_up_is_named_without_its_secret(tmp_path):
    async def attempt():
        server, port = await _serve("close")
        async with server:
            config = configure(tmp_path, "[telegram.accounts.main.proxy]\n"
                               f'mtproxy = "127.0.0.1:{port}:{MT_SECRET}"\n')
            client = build_client(config, "main", timeout=2, connection_retries=0)
            with pytest.raises(TelegramUnreachable) as caught:
                await connect(client, timeout=8)
            return str(caught.value), port

    message, port = asyncio.run(attempt())
    assert f"through MTProto proxy 127.0.0.1:{port}" in message
    assert MT_SECRET[2:] not in message and "\n" not in message
