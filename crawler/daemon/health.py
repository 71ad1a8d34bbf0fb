"""The daemon's health endpoint: `/healthz` and Prometheus `/metrics` over HTTP.

It runs in a thread of its own (a standard-library threaded HTTP server), so a slow scrape or a
slow store never blocks the daemon's event loop. `/healthz` answers 200 with JSON
`{"status": "ok", …}` while the daemon's event loop runs a probe within `probe_timeout` seconds
and the store answers `SELECT 1`, and 503 with `{"status": "unhealthy", "reason": …}` otherwise.

    server = start_health_server("127.0.0.1:0", store, registry, loop=asyncio.get_running_loop())
    server.address   # ("127.0.0.1", 43117): the port actually bound
    # ConfigError (one line) when the address cannot be bound.
    server.stop()    # blocks up to half a second: from async code, await asyncio.to_thread(...)

or, as one of the daemon's long-lived services, `HealthService(config, store).run(stop)`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import text

from crawler.config import ConfigError
from crawler.daemon.metrics import build_registry
from crawler.store.db import Store

log = logging.getLogger(__name__)


def parse_listen(listen: str) -> tuple[str, int]:
    """`HOST:PORT` (or `[v6]:PORT`) as a (host, port) pair."""
    host, _, port = listen.rpartition(":")
    return host.strip("[]"), int(port)


class _ServerV6(ThreadingHTTPServer):
    address_family = socket.AF_INET6


async def _probe() -> None:
    return None


class HealthServer:
    """The HTTP server and the checks behind `/healthz`."""

    def __init__(self, listen: str, store: Store, registry: CollectorRegistry,
                 loop: asyncio.AbstractEventLoop | None = None,
                 extra_check: Callable[[], str | None] | None = None,
                 probe_timeout: float = 5.0) -> None:
        self.store, self.registry, self.loop = store, registry, loop
        self.extra_check, self.probe_timeout = extra_check, probe_timeout
        self.started = time.monotonic()
        host, port = parse_listen(listen)
        server_class = _ServerV6 if ":" in host else ThreadingHTTPServer
        try:
            self._httpd = server_class((host, port), _handler(self))
        except OSError as exc:  # in use, or an address this host does not have
            raise ConfigError(f"daemon.health_listen: cannot listen on {listen} "
                              f"({exc.strerror or exc}): free it or choose another") from None
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        name="kyran-health", daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._httpd.server_address[:2]
        return str(host), int(port)

    def start(self) -> HealthServer:
        self._thread.start()
        log.info("health endpoint on http://%s:%d/healthz", *self.address)
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def problem(self) -> str | None:
        """Why the daemon is not healthy, or None."""
        if self.loop is not None:
            if self.loop.is_closed() or not self.loop.is_running():
                return "the daemon's event loop is not running"
            future = asyncio.run_coroutine_threadsafe(_probe(), self.loop)
            try:
                future.result(timeout=self.probe_timeout)
            except TimeoutError:
                future.cancel()
                return f"the daemon's event loop did not answer within {self.probe_timeout:g} s"
        try:
            with self.store.reader() as session:
                session.execute(text("SELECT 1"))
        except Exception as exc:  # any database failure makes the daemon unhealthy
            first = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or ["?"])[0]
            return f"the store does not answer: {first[:200]}"
        if self.extra_check is not None:
            return self.extra_check()
        return None

    def health(self) -> tuple[int, dict]:
        try:
            reason = self.problem()
        except Exception as exc:  # a check that breaks is a reason, not a dropped connection
            reason = f"health check failed: {type(exc).__name__}: {str(exc)[:200]}"
        uptime = round(time.monotonic() - self.started, 1)
        if reason:
            return 503, {"status": "unhealthy", "reason": reason, "uptime_seconds": uptime}
        return 200, {"status": "ok", "store": self.store.dialect, "uptime_seconds": uptime}


def _handler(server: HealthServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            path = self.path.split("?", 1)[0]
            if path == "/healthz":
                status, body = server.health()
                self._send(status, "application/json", json.dumps(body).encode())
            elif path == "/metrics":
                self._send(200, CONTENT_TYPE_LATEST, generate_latest(server.registry))
            else:
                self._send(404, "text/plain; charset=utf-8", b"not found: /healthz, /metrics\n")

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args) -> None:  # noqa: A002 - http.server's name
            log.debug("health: " + format, *args)

    return Handler


def start_health_server(listen: str, store: Store, registry: CollectorRegistry,
                        loop: asyncio.AbstractEventLoop | None = None,
                        extra_check: Callable[[], str | None] | None = None) -> HealthServer:
    """Bind `listen` (port 0: any free port, see `.address`) and serve in a thread."""
    return HealthServer(listen, store, registry, loop, extra_check).start()


class HealthService:
    """The endpoint as a daemon service (`async run(stop)`): serves `daemon.health_listen` from
    the start of `run` until `stop` is set; with no address configured it only waits."""

    def __init__(self, config, store: Store,
                 extra_check: Callable[[], str | None] | None = None) -> None:
        self.listen = config.daemon.health_listen
        self.store, self.extra_check = store, extra_check
        self.server: HealthServer | None = None

    async def run(self, stop: asyncio.Event) -> None:
        if not self.listen:
            await stop.wait()
            return
        self.server = start_health_server(self.listen, self.store, build_registry(self.store),
                                          asyncio.get_running_loop(), self.extra_check)
        try:
            await stop.wait()
        finally:
            await asyncio.to_thread(self.server.stop)
