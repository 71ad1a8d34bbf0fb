"""/healthz and /metrics served from a thread beside the daemon's event loop (port 0, address
read back): healthy while the loop answers and the store answers, 503 with the reason when not."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request

import pytest

from crawler.daemon.health import parse_listen, start_health_server
from crawler.daemon.metrics import build_registry


def get(server, path: str) -> tuple[int, str, str]:
    host, port = server.address
    try:
        with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=30) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


def test_healthy_daemon_answers_ok_and_serves_metrics(store):
    async def main():
        server = start_health_server("127.0.0.1:0", store, build_registry(store),
                                     loop=asyncio.get_running_loop())
        try:
            assert server.address[1] != 0
            status, kind, body = await asyncio.to_thread(get, server, "/healthz")
            assert status == 200 and kind == "application/json"
            assert json.loads(body)["status"] == "ok"
            status, kind, body = await asyncio.to_thread(get, server, "/metrics")
            assert status == 200 and kind.startswith("text/plain")
            assert "kyran_store_up 1.0" in body
            assert (await asyncio.to_thread(get, server, "/nope"))[0] == 404
        finally:
            await asyncio.to_thread(server.stop)

    asyncio.run(main())


def test_a_blocked_event_loop_is_unhealthy(store):
    loop = asyncio.new_event_loop()
    release = threading.Event()
    blocked = threading.Event()

    def block():  # a step that blocks the loop, as a synchronous call by mistake would
        blocked.set()
        release.wait(30)

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = start_health_server("127.0.0.1:0", store, build_registry(store), loop=loop)
    try:
        assert get(server, "/healthz")[0] == 200
        server.probe_timeout = 0.5  # the loop is blocked until released: no need to wait long
        loop.call_soon_threadsafe(block)
        assert blocked.wait(10)
        status, _, body = get(server, "/healthz")
        assert status == 503
        assert "event loop did not answer" in json.loads(body)["reason"]
    finally:
        release.set()
        server.stop()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
    assert "not running" in server.problem()


def test_a_store_that_does_not_answer_is_unhealthy(tmp_path):
    from crawler.store.db import open_store

    store = open_store(f"sqlite:///{tmp_path}/k.sqlite")
    server = start_health_server("127.0.0.1:0", store, build_registry(store))
    try:
        assert get(server, "/healthz")[0] == 200
        store.dispose()
        (tmp_path / "k.sqlite").unlink()
        (tmp_path / "k.sqlite").mkdir()
        status, _, body = get(server, "/healthz")
        assert status == 503 and "the store does not answer" in json.loads(body)["reason"]
        assert "kyran_store_up 0.0" in get(server, "/metrics")[2]
    finally:
        server.stop()


def test_extra_check_reason_is_reported(store):
    server = start_health_server("127.0.0.1:0", store, build_registry(store),
                                 extra_check=lambda: "scheduler stopped")
    try:
        status, _, body = get(server, "/healthz")
        assert (status, json.loads(body)["reason"]) == (503, "scheduler stopped")
    finally:
        server.stop()


@pytest.mark.parametrize("listen,expected", [("127.0.0.1:9464", ("127.0.0.1", 9464)),
                                             ("[::1]:0", ("::1", 0))])
def test_parse_listen(listen, expected):
    assert parse_listen(listen) == expected


def test_ipv6_listen(store):
    import socket

    if not socket.has_ipv6:
        pytest.fail("this host has no IPv6")
    server = start_health_server("[::1]:0", store, build_registry(store))
    try:
        host, port = server.address
        assert host == "::1" and port
        with urllib.request.urlopen(f"http://[::1]:{port}/healthz", timeout=30) as response:
            assert response.status == 200
    finally:
        server.stop()


def test_an_address_in_use_is_one_configuration_line(store):
    from crawler.config import ConfigError

    first = start_health_server("127.0.0.1:0", store, build_registry(store))
    try:
        listen = "127.0.0.1:%d" % first.address[1]
        with pytest.raises(ConfigError) as caught:
            start_health_server(listen, store, build_registry(store))
        assert str(caught.value) == (f"daemon.health_listen: cannot listen on {listen} "
                                     "(Address already in use): free it or choose another")
    finally:
        first.stop()


def test_health_service_serves_until_stopped(tmp_path, db_url, store):
    from crawler.config import load_config
    from crawler.daemon.health import HealthService
    from tests.conftest import write_config

    config = load_config(write_config(tmp_path / "kyran.toml", db_url,
                                      '\n[daemon]\nhealth_listen = "127.0.0.1:0"\n'))
    service = HealthService(config, store)

    async def main():
        stop = asyncio.Event()
        task = asyncio.create_task(service.run(stop))
        for _ in range(200):  # bounded wait for the server to be up
            if service.server is not None:
                break
            await asyncio.sleep(0.05)
        status, _, body = await asyncio.to_thread(get, service.server, "/healthz")
        assert status == 200 and json.loads(body)["status"] == "ok"
        stop.set()
        await asyncio.wait_for(task, 10)

    asyncio.run(main())
    with pytest.raises(urllib.error.URLError):  # stopped: nothing listens any more
        get(service.server, "/healthz")
