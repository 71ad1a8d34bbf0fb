"""A small SOCKS5 server for tests: no authentication, CONNECT with IPv4 or domain-name
addresses. `route(host, port)` maps a requested destination to a real (host, port) or None
(host unreachable); every request is recorded in `seen`."""

from __future__ import annotations

import select
import socket
import socketserver
import struct


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("client went away")
        data += chunk
    return data


class Socks5Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        client = self.request
        try:
            _version, nmethods = _recv_exact(client, 2)
            if 0 not in _recv_exact(client, nmethods):
                client.sendall(b"\x05\xff")
                return
            client.sendall(b"\x05\x00")
            _version, cmd, _rsv, atyp = _recv_exact(client, 4)
            if atyp == 1:
                host = socket.inet_ntoa(_recv_exact(client, 4))
            elif atyp == 3:
                host = _recv_exact(client, _recv_exact(client, 1)[0]).decode("ascii")
            else:
                client.sendall(b"\x05\x08\x00\x01" + bytes(6))  # address type not supported
                return
            (port,) = struct.unpack("!H", _recv_exact(client, 2))
            self.server.seen.append({"atyp": atyp, "host": host, "port": port})
            target = self.server.route(host, port)
            if cmd != 1 or target is None:
                client.sendall(b"\x05\x04\x00\x01" + bytes(6))  # host unreachable
                return
            try:
                upstream = socket.create_connection(target, timeout=5)
            except OSError:
                client.sendall(b"\x05\x05\x00\x01" + bytes(6))  # connection refused
                return
            upstream.settimeout(None)
            client.sendall(b"\x05\x00\x00\x01" + bytes(6))  # bound to 0.0.0.0:0, like Tor
            self._relay(client, upstream)
        except (ConnectionError, OSError):
            pass

    @staticmethod
    def _relay(client: socket.socket, upstream: socket.socket) -> None:
        with upstream:
            while True:
                readable, _, _ = select.select([client, upstream], [], [], 30)
                if not readable:
                    return
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (upstream if sock is client else client).sendall(data)


class Socks5Server(socketserver.ThreadingTCPServer):
    daemon_threads = True

    def __init__(self, route):
        super().__init__(("127.0.0.1", 0), Socks5Handler)
        self.route = route
        self.seen: list[dict] = []
