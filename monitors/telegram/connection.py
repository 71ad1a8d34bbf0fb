"""How one account's Telethon client is built and connected: the saved StringSession, the API id
and hash, the account's proxy (SOCKS5/HTTP through python-socks, or an MTProto proxy) and,
optionally, another MTProto server (its data centre, address, port and RSA public key).

Every client is built with ``flood_sleep_threshold=0``: Telethon never sleeps through a flood
wait by itself, the monitor handles each one. Settings that cannot work raise `TelegramSetupError`
and a connection that fails raises `TelegramUnreachable`, each with one line that names what to
fix and never a secret (the session, the API hash, a proxy password or MTProto secret).
"""

from __future__ import annotations

import asyncio
import ipaddress
from pathlib import Path
from urllib.parse import unquote, urlsplit

from crawler.config import KyranConfig
from crawler.config_telegram import TelegramProxy, TelegramServer
from monitors.telegram.session import SessionFileError, SessionSecret, read_session

# Bounds of one connection attempt unless the caller asks otherwise.
CONNECT_TIMEOUT = 10.0
CONNECTION_RETRIES = 2


class TelegramSetupError(Exception):
    """The configuration of an account cannot give a working client (one line: what to fix)."""


class TelegramUnreachable(ConnectionError):
    """The client could not connect (one line: where to, how it failed)."""


def build_client(config: KyranConfig, account_name: str, *, session: SessionSecret | None = None,
                 fresh: bool = False, timeout: float = CONNECT_TIMEOUT,
                 connection_retries: int = CONNECTION_RETRIES, **options):
    """A Telethon `TelegramClient` for `account_name`, not yet connected. `session` defaults to
    the account's saved session (none yet, or `fresh`: a new one, for `kyran telegram login`).
    `options` go to TelegramClient as they are (e.g. ``receive_updates=False``).

    Call it inside the event loop that will run the client: Telethon 1.36 reads the running
    loop in TelegramClient() when a proxy is set."""
    from telethon import TelegramClient
    from telethon.sessions import StringSession

    telegram = config.telegram
    account = telegram.accounts.get(account_name)
    if account is None:
        known = ", ".join(sorted(telegram.accounts)) or "none configured"
        raise TelegramSetupError(f"no Telegram account {account_name!r} in the configuration "
                                 f"(known: {known}); add [telegram.accounts.{account_name}]")
    if telegram.api_id is None:
        raise TelegramSetupError("telegram.api_id is not set (get it at my.telegram.org)")
    if not telegram.api_hash:
        raise TelegramSetupError("telegram.api_hash is not set: set KYRAN_TELEGRAM__API_HASH "
                                 "(from my.telegram.org)")
    if session is None and not fresh:
        try:
            session = read_session(config, account_name)
        except SessionFileError as exc:
            raise TelegramSetupError(str(exc)) from None
    string_session = StringSession(session.reveal() if session else None)
    arguments = {"flood_sleep_threshold": 0, "timeout": timeout,
                 "connection_retries": connection_retries, "retry_delay": 1}
    arguments.update(proxy_arguments(account.proxy, f"telegram.accounts.{account_name}.proxy"))
    arguments.update(options)
    if telegram.server is not None:
        add_server_key(telegram.server, config.home)
    client = TelegramClient(string_session, telegram.api_id, telegram.api_hash, **arguments)
    if telegram.server is not None and client.session.auth_key is None:
        # A fresh session starts at the configured server; a saved one stays where it signed in.
        server = telegram.server
        client.session.set_dc(server.dc_id, server_ip(server), server.port)
    return client


def proxy_arguments(proxy: TelegramProxy, where: str) -> dict:
    """TelegramClient's `proxy` (and `connection`) arguments for an account's proxy setting."""
    if proxy.mtproxy:
        from telethon.network.connection import ConnectionTcpMTProxyRandomizedIntermediate

        host, port, secret = proxy.mtproxy.rsplit(":", 2)
        port = _port(port, f"{where}.mtproxy")
        secret = secret.lower()
        if secret.startswith("ee"):
            raise TelegramSetupError(f"{where}.mtproxy: fake-TLS secrets (starting ee) are not "
                                     "supported by Telethon; ask the proxy for a dd… secret")
        if secret.startswith("dd") and len(secret) == 34:
            secret = secret[2:]
        if len(secret) != 32:
            raise TelegramSetupError(f"{where}.mtproxy: the secret must be 32 hex digits "
                                     "(16 bytes), optionally after dd")
        # Telethon drops a leading dd: with it a plain secret that starts with dd stays whole.
        return {"connection": ConnectionTcpMTProxyRandomizedIntermediate,
                "proxy": (host, port, "dd" + secret)}
    if proxy.url:
        parts = urlsplit(proxy.url)
        scheme = parts.scheme.lower()
        try:
            port = parts.port
        except ValueError:
            port = None
        if port is None or not parts.hostname:
            raise TelegramSetupError(f"{where}.url: expected SCHEME://HOST:PORT with a port "
                                     "from 1 to 65535")
        return {"proxy": {
            "proxy_type": {"socks5": "socks5", "socks5h": "socks5", "socks4": "socks4",
                           "http": "http", "https": "http"}[scheme],
            "addr": parts.hostname, "port": _port(str(port), f"{where}.url"),
            "username": unquote(parts.username) if parts.username else None,
            "password": unquote(parts.password) if parts.password else None,
            # socks5h: the proxy resolves names (nothing is looked up locally)
            "rdns": scheme != "socks5"}}
    return {}


def _port(text: str, where: str) -> int:
    port = int(text)
    if not 1 <= port <= 65535:
        raise TelegramSetupError(f"{where}: port {port} is out of range (1 to 65535)")
    return port


def server_ip(server: TelegramServer) -> str:
    """The server's address, which must be an IP (a StringSession stores it as one)."""
    try:
        return ipaddress.ip_address(server.address).compressed
    except ValueError:
        raise TelegramSetupError(f"telegram.server.address: expected an IP address (got "
                                 f"{server.address!r}); a Telegram session stores the data "
                                 "centre's address as an IP") from None


def add_server_key(server: TelegramServer, home: Path) -> None:
    """Add the server's RSA public key (PKCS#1 or SubjectPublicKeyInfo PEM) to the keys
    Telethon accepts during the key exchange."""
    server_ip(server)
    if server.rsa_key_file is None:
        return
    import rsa
    from telethon.crypto import rsa as telethon_rsa

    path = server.rsa_key_file if server.rsa_key_file.is_absolute() else home / server.rsa_key_file
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise TelegramSetupError(f"telegram.server.rsa_key_file: {path}: {exc.strerror}") from None
    try:
        key = rsa.PublicKey.load_pkcs1(pem)
    except Exception:  # not PKCS#1: perhaps the OpenSSL (SubjectPublicKeyInfo) form
        try:
            key = rsa.PublicKey.load_pkcs1_openssl_pem(pem)
        except Exception:
            raise TelegramSetupError(
                f"telegram.server.rsa_key_file: {path}: not an RSA public key in PEM form "
                "(-----BEGIN RSA PUBLIC KEY----- or -----BEGIN PUBLIC KEY-----)") from None
    try:
        telethon_rsa.add_key(key.save_pkcs1().decode("ascii"), old=False)
    except TypeError:  # a Telethon whose add_key takes the key only
        telethon_rsa.add_key(key.save_pkcs1().decode("ascii"))


def describe_route(client) -> str:
    """Where `client` connects to, for messages: the data centre and the proxy host (never the
    proxy's password or secret)."""
    session = client.session
    where = (f"{session.server_address}:{session.port} (DC {session.dc_id})"
             if session.server_address else "its default data centre")
    proxy = getattr(client, "_proxy", None)
    if isinstance(proxy, dict):
        where += f" through {proxy.get('proxy_type')} proxy {proxy.get('addr')}:{proxy.get('port')}"
    elif isinstance(proxy, (tuple, list)) and len(proxy) >= 2:
        where += f" through MTProto proxy {proxy[0]}:{proxy[1]}"
    return where


async def connect(client, timeout: float = 2 * CONNECT_TIMEOUT) -> None:
    """Connect `client`, giving up after `timeout` seconds in all; TelegramUnreachable with one
    line when it cannot (the client is left disconnected)."""
    try:
        await asyncio.wait_for(client.connect(), timeout)
    except asyncio.TimeoutError:
        await _disconnect(client)
        raise TelegramUnreachable(f"cannot reach Telegram at {describe_route(client)}: no "
                                  f"working connection within {timeout:g} s") from None
    except asyncio.IncompleteReadError:
        await _disconnect(client)
        raise TelegramUnreachable(f"cannot reach Telegram at {describe_route(client)}: the "
                                  "server closed the connection during the handshake") from None
    except (OSError, ConnectionError, ValueError) as exc:
        await _disconnect(client)
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise TelegramUnreachable(f"cannot reach Telegram at {describe_route(client)}: "
                                  f"{reason}") from None
    except Exception as exc:  # a garbled handshake (security, buffer or type errors)
        await _disconnect(client)
        raise TelegramUnreachable(f"cannot reach Telegram at {describe_route(client)}: the "
                                  f"server did not speak MTProto ({type(exc).__name__})") from None
    if not client.is_connected():
        raise TelegramUnreachable(f"cannot reach Telegram at {describe_route(client)}")


async def _disconnect(client) -> None:
    try:
        await asyncio.wait_for(client.disconnect(), 5)
    except Exception:  # already down; nothing more to release
        pass
