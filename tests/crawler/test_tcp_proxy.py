"""The loopback TCP proxy that breaks the network on purpose: it forwards, cuts and black-holes
a real PostgreSQL connection (the server itself is never touched)."""

import os
import socket

import psycopg
import pytest

from crawler.fixtures.tcp_proxy import TcpProxy


def _postgres():
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=2):
            return ("127.0.0.1", 5432)
    except OSError as exc:
        reason = f"PostgreSQL at 127.0.0.1:5432 unreachable: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (CI must run the PostgreSQL tests)")
        pytest.skip(reason)


def _connect(proxy):
    host, port = proxy.address
    return psycopg.connect(host=host, port=port, dbname="test", connect_timeout=3,
                           autocommit=True)


def test_forward_then_cut():
    with TcpProxy(_postgres()) as proxy:
        conn = _connect(proxy)
        assert conn.execute("select 41 + 1").fetchone() == (42,)
        assert proxy.connections == 1
        proxy.cut()
        with pytest.raises(psycopg.OperationalError):
            conn.execute("select 1")
        with pytest.raises(psycopg.OperationalError):
            _connect(proxy)  # refused while cut
        proxy.forward()
        with _connect(proxy) as again:
            assert again.execute("select 1").fetchone() == (1,)


def test_blackhole_is_silence_not_an_error():
    with TcpProxy(_postgres()) as proxy:
        conn = _connect(proxy)
        conn.execute("set statement_timeout = 0")
        proxy.blackhole()
        # The client hears nothing: only its own bound ends the wait.
        with pytest.raises(psycopg.OperationalError):
            _connect(proxy)  # accepted, then no answer: connect_timeout fires
        sock = socket.socket(fileno=conn.fileno())
        sock.settimeout(1.0)
        sock.sendall(b"Q\x00\x00\x00\x0dselect 1\x00")
        with pytest.raises(TimeoutError):
            sock.recv(1)
        sock.detach()
        conn.close()
