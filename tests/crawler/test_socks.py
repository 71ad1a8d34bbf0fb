"""End-to-end tests of crawler.socks.SocksAwareDownloadHandler.

Starts, on 127.0.0.1 ports chosen by the OS: a small SOCKS5 server (no auth, CONNECT with IPv4 or
domain-name addresses; it maps any *.onion name to the local web servers and records what it was
asked for), an HTTP and an HTTPS server, and a "silent" server that accepts and never answers.
Then runs one real Scrapy crawl in a subprocess (the Twisted reactor cannot be restarted in one
process) with settings built from scratch, and checks each request's outcome.
"""

from __future__ import annotations

import datetime
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.socks5 import Socks5Server as _Socks5Server

REPO = Path(__file__).resolve().parents[2]

# --------------------------------------------------------------------------- servers


class _PageHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so the client's connection pool is exercised

    def do_GET(self) -> None:
        self.server.seen.append({"requestline": self.requestline, "host": self.headers["Host"]})
        if self.path.endswith("/big"):
            body = b"x" * 200_000
        else:
            body = f"page {self.path} host={self.headers['Host']}".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        if self.path.endswith("/close"):  # body delimited by closing the connection
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def _page_server(tls_context: ssl.SSLContext | None = None) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PageHandler)
    server.daemon_threads = True
    server.seen = []
    if tls_context is not None:
        server.socket = tls_context.wrap_socket(server.socket, server_side=True)
    return server


def _tls_context(tmp: Path) -> ssl.SSLContext:
    """Server context with a fresh self-signed certificate (Scrapy does not verify by default)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "securemarket.onion")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("securemarket.onion")]), False)
        .sign(key, hashes.SHA256())
    )
    (tmp / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp / "cert.pem", tmp / "key.pem")
    return context


class _SilentServer:
    """Accepts connections and never answers; records whether each one was closed by the client."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.opened = 0
        self.closed = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.opened += 1
            threading.Thread(target=self._hold, args=(conn,), daemon=True).start()

    def _hold(self, conn: socket.socket) -> None:
        with conn:
            try:
                while conn.recv(1024):
                    pass
            except OSError:
                pass
        self.closed += 1


def _dead_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return sock.getsockname()[1]


def _serve(server) -> None:
    threading.Thread(target=server.serve_forever, daemon=True).start()


# --------------------------------------------------------------------------- the crawl

RUNNER = r"""
import json, sys
from scrapy import Request, Spider
from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

spec = json.load(open(sys.argv[1]))
results = []

class SocksTestSpider(Spider):
    name = "socks_test"

    async def start(self):
        for r in spec["requests"]:
            yield self.make(r)

    def make(self, r):
        return Request(r["url"], meta=r.get("meta", {}), callback=self.ok, errback=self.err,
                       dont_filter=True, cb_kwargs={"r": r})

    def ok(self, response, r):
        results.append({"tag": r["tag"], "status": response.status, "body": response.text,
                        "ip": str(response.ip_address) if response.ip_address else None,
                        "certificate": response.certificate is not None,
                        "flags": response.flags})
        if r.get("then"):
            yield self.make(r["then"])

    def err(self, failure):
        results.append({"tag": failure.request.cb_kwargs["r"]["tag"],
                        "error": type(failure.value).__name__, "message": str(failure.value)})

settings = Settings({
    "DOWNLOAD_HANDLERS": {"http": "crawler.socks.SocksAwareDownloadHandler",
                          "https": "crawler.socks.SocksAwareDownloadHandler"},
    "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
    "ROBOTSTXT_OBEY": False,
    "RETRY_TIMES": 1,
    "DOWNLOAD_TIMEOUT": 5,
    "DNS_TIMEOUT": 3,
    "TELNETCONSOLE_ENABLED": False,
    "REMOTE_CONTROL_ENABLED": False,
    "LOG_LEVEL": "INFO",
})
process = CrawlerProcess(settings)
crawler = process.create_crawler(SocksTestSpider)
process.crawl(crawler)
process.start()
with open(sys.argv[2], "w") as out:
    json.dump({"results": results, "stats": crawler.stats.get_stats()}, out, default=str)
"""


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("socks")
    http = _page_server()
    https = _page_server(_tls_context(tmp))
    http_port, https_port = http.server_address[1], https.server_address[1]

    def route(host: str, port: int):
        if host.endswith(".onion"):
            return ("127.0.0.1", https_port if port == 443 else http_port)
        if host == "127.0.0.1":
            return (host, port)
        return None  # no real DNS here: any other name is "unreachable"

    socks = _Socks5Server(route)
    silent = _SilentServer()
    for server in (http, https, socks):
        _serve(server)
    yield {
        "tmp": tmp,
        "http": http,
        "socks": socks,
        "silent": silent,
        "http_port": http_port,
        "socks_port": socks.server_address[1],
    }
    for server in (http, https, socks):
        server.shutdown()
        server.server_close()
    silent.sock.close()


@pytest.fixture(scope="module")
def crawl(env):
    socks5h = f"socks5h://127.0.0.1:{env['socks_port']}"
    dead = _dead_port()
    no_retry = {"dont_retry": True}
    requests = [
        {"tag": "onion_http", "url": "http://marketxyz.onion/page", "meta": {"proxy": socks5h}},
        {"tag": "onion_https", "url": "https://securemarket.onion/secure",
         "meta": {"proxy": socks5h}},
        {"tag": "socks5_name", "url": "http://plainsocks.onion/p",
         "meta": {"proxy": f"socks5://127.0.0.1:{env['socks_port']}"}},
        {"tag": "socks_ipv4", "url": f"http://127.0.0.1:{env['http_port']}/ipv4",
         "meta": {"proxy": socks5h}},
        {"tag": "pooled_1", "url": "http://pooled.onion/first", "meta": {"proxy": socks5h},
         "then": {"tag": "pooled_2", "url": "http://pooled.onion/second",
                  "meta": {"proxy": socks5h}}},
        {"tag": "close_delimited", "url": "http://closing.onion/close",
         "meta": {"proxy": socks5h}},
        {"tag": "close_direct", "url": f"http://127.0.0.1:{env['http_port']}/close"},
        {"tag": "no_proxy_onion", "url": "http://marketxyz.onion/page", "meta": no_retry},
        {"tag": "dead_proxy", "url": "http://deadmarket.onion/page",
         "meta": {"proxy": f"socks5h://127.0.0.1:{dead}"}},
        {"tag": "silent_proxy", "url": "http://slowmarket.onion/page",
         "meta": {"proxy": f"socks5h://127.0.0.1:{env['silent'].port}",
                  "download_timeout": 2, **no_retry}},
        {"tag": "target_unreachable", "url": "http://nowhere.example/page",
         "meta": {"proxy": socks5h, **no_retry}},
        {"tag": "maxsize", "url": "http://bigmarket.onion/big",
         "meta": {"proxy": socks5h, "download_maxsize": 1000}},
        {"tag": "socks_auth", "url": "http://authmarket.onion/page",
         "meta": {"proxy": f"socks5h://user:s3cret@127.0.0.1:{env['socks_port']}"}},
        {"tag": "ipv6_target", "url": "http://[::1]/page", "meta": {"proxy": socks5h}},
        {"tag": "socks4", "url": "http://oldmarket.onion/page",
         "meta": {"proxy": f"socks4a://127.0.0.1:{env['socks_port']}"}},
        {"tag": "direct", "url": f"http://127.0.0.1:{env['http_port']}/direct"},
        {"tag": "http_proxy", "url": "http://proxied.example/viaproxy",
         "meta": {"proxy": f"http://127.0.0.1:{env['http_port']}"}},
    ]
    runner, spec, out = (env["tmp"] / name for name in ("runner.py", "spec.json", "out.json"))
    # A file, not `python -c`: Scrapy inspects the callbacks' source code.
    runner.write_text(RUNNER)
    spec.write_text(json.dumps({"requests": requests}))
    # No proxy from the environment: HttpProxyMiddleware would otherwise apply it to "direct".
    child_env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    paths = [str(REPO), os.environ.get("PYTHONPATH", "")]
    child_env["PYTHONPATH"] = os.pathsep.join(filter(None, paths))
    proc = subprocess.run(
        [sys.executable, str(runner), str(spec), str(out)],
        cwd=REPO,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=120,  # the crawl must finish, not hang
    )
    assert proc.returncode == 0, proc.stderr[-5000:]
    data = json.loads(out.read_text())
    by_tag = {}
    for result in data["results"]:
        assert result["tag"] not in by_tag, f"two outcomes for {result['tag']}"
        by_tag[result["tag"]] = result
    assert set(by_tag) == {r["tag"] for r in requests} | {"pooled_2"}, proc.stderr[-5000:]
    return {"results": by_tag, "stats": data["stats"], "dead_port": dead, "log": proc.stderr}


def _socks_hosts(env) -> list[str]:
    return [seen["host"] for seen in env["socks"].seen]


# --------------------------------------------------------------------------- tests


def test_crawl_finishes(crawl):
    assert crawl["stats"]["finish_reason"] == "finished"


def test_onion_page_over_socks5h_is_resolved_by_the_proxy(crawl, env):
    result = crawl["results"]["onion_http"]
    assert result["status"] == 200
    assert result["body"] == "page /page host=marketxyz.onion"
    assert {"atyp": 3, "host": "marketxyz.onion", "port": 80} in env["socks"].seen
    assert result["ip"] is None  # only the proxy knows the server's address


def test_https_runs_tls_inside_the_socks_tunnel(crawl, env):
    result = crawl["results"]["onion_https"]
    assert result["status"] == 200
    assert result["body"] == "page /secure host=securemarket.onion"
    assert result["certificate"]
    assert {"atyp": 3, "host": "securemarket.onion", "port": 443} in env["socks"].seen


def test_socks5_scheme_also_lets_the_proxy_resolve(crawl, env):
    assert crawl["results"]["socks5_name"]["body"] == "page /p host=plainsocks.onion"
    assert {"atyp": 3, "host": "plainsocks.onion", "port": 80} in env["socks"].seen


def test_ip_literal_is_sent_as_ipv4_address(crawl, env):
    assert crawl["results"]["socks_ipv4"]["body"].startswith("page /ipv4 ")
    assert {"atyp": 1, "host": "127.0.0.1", "port": env["http_port"]} in env["socks"].seen


def test_socks_connections_are_pooled(crawl, env):
    assert crawl["results"]["pooled_1"]["body"] == "page /first host=pooled.onion"
    assert crawl["results"]["pooled_2"]["body"] == "page /second host=pooled.onion"
    assert _socks_hosts(env).count("pooled.onion") == 1


def test_body_ended_by_connection_close_is_kept_as_in_stock_scrapy(crawl):
    result = crawl["results"]["close_delimited"]
    assert result["body"] == "page /close host=closing.onion"
    assert result["flags"] == crawl["results"]["close_direct"]["flags"] == ["partial"]


def test_onion_without_proxy_fails(crawl):
    result = crawl["results"]["no_proxy_onion"]
    assert "error" in result and "body" not in result


def test_dead_proxy_fails_with_clear_retryable_error(crawl):
    result = crawl["results"]["dead_proxy"]
    assert result["error"] == "DownloadConnectionRefusedError"
    assert f"SOCKS5 proxy 127.0.0.1:{crawl['dead_port']} unreachable" in result["message"]
    assert crawl["stats"].get("retry/count", 0) >= 1  # RetryMiddleware retried it


def test_silent_proxy_times_out_and_connection_is_closed(crawl, env):
    result = crawl["results"]["silent_proxy"]
    assert result["error"] == "DownloadTimeoutError"
    assert env["silent"].opened == 1
    assert env["silent"].closed == 1  # the half-open SOCKS handshake was not leaked


def test_proxy_refusing_target_is_a_connect_error(crawl):
    result = crawl["results"]["target_unreachable"]
    assert result["error"] == "SocksProxyError"
    assert "nowhere.example:80" in result["message"]
    assert "Host unreachable" in result["message"]


def test_download_maxsize_applies_over_socks(crawl):
    result = crawl["results"]["maxsize"]
    assert "error" in result
    assert "1000" in result["message"]


def test_socks_credentials_are_refused_not_dropped(crawl, env):
    result = crawl["results"]["socks_auth"]
    assert result["error"] == "ValueError"
    assert "authentication is not supported" in result["message"]
    assert "s3cret" not in result["message"]
    assert "authmarket.onion" not in _socks_hosts(env)


def test_other_socks_versions_are_refused(crawl, env):
    result = crawl["results"]["socks4"]
    assert result["error"] == "ValueError"
    assert "socks4a" in result["message"]
    assert "oldmarket.onion" not in _socks_hosts(env)


def test_ipv6_targets_are_refused_clearly(crawl):
    result = crawl["results"]["ipv6_target"]
    assert result["error"] == "ValueError"
    assert "IPv6" in result["message"]


def test_plain_request_without_proxy_still_works(crawl, env):
    result = crawl["results"]["direct"]
    assert result["body"] == f"page /direct host=127.0.0.1:{env['http_port']}"
    assert result["ip"] == "127.0.0.1"


def test_http_proxy_works_as_in_stock_scrapy(crawl, env):
    result = crawl["results"]["http_proxy"]
    assert result["body"] == "page http://proxied.example/viaproxy host=proxied.example"
    lines = [seen["requestline"] for seen in env["http"].seen]
    assert "GET http://proxied.example/viaproxy HTTP/1.1" in lines
