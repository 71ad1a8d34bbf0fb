"""SOCKS5 proxies for Scrapy's HTTP/1.1 download handler, to reach .onion sites through Tor.

`SocksAwareDownloadHandler` behaves exactly like Scrapy's `HTTP11DownloadHandler` unless
``request.meta["proxy"]`` is a ``socks5://`` or ``socks5h://`` URL (default port 1080). Then the
TCP connection is opened through that proxy with txtorcon's SOCKS5 client, and for ``https`` TLS
is started inside the tunnel (SNI and certificate checks as in stock Scrapy). Everything else
(DOWNLOAD_MAXSIZE / DOWNLOAD_WARNSIZE, timeouts, the connection pool, headers_received /
bytes_received signals) is Scrapy's own code path.

Choices and limits:

* ``socks5://`` is treated like ``socks5h://``: the host name is always sent to the proxy and
  never resolved locally, so no DNS query leaks past Tor (curl would resolve locally for
  ``socks5://``). An IPv4 literal is sent as an IPv4 address.
* SOCKS authentication is not supported (txtorcon only offers "no authentication"): a proxy URL
  with ``user:password`` -- or the ``Proxy-Authorization`` header that HttpProxyMiddleware makes
  from it -- fails the request with a ``ValueError`` instead of silently dropping the credentials
  (which with Tor would silently lose IsolateSOCKSAuth stream isolation).
* IPv6 literal targets and other SOCKS versions (``socks4://``, ``socks4a://``) are refused with
  a ``ValueError``.
* ``response.ip_address`` is ``None`` for SOCKS responses: only the proxy knows the server's
  address (stock Scrapy reports the proxy's address for HTTP proxies).
* An unreachable proxy fails with the usual Twisted connection error (``ConnectionRefusedError``,
  ``TimeoutError``, ...) whose message names the proxy; a proxy that answers but cannot reach the
  target fails with `SocksProxyError`, a ``ConnectError``. Both are in Scrapy's RETRY_EXCEPTIONS.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlparse

from twisted.internet import error
from twisted.internet.defer import CancelledError
from twisted.internet.endpoints import HostnameEndpoint
from twisted.python.failure import Failure
from txtorcon.socks import SocksError, TorSocksEndpoint

from scrapy.core.downloader.handlers.http11 import (
    HTTP11DownloadHandler,
    _BindAddressAgent,
    _ScrapyAgent,
)
from scrapy.exceptions import ResponseDataLossError
from scrapy.http import Request, Response
from scrapy.utils._download_handlers import (
    get_dataloss_msg,
    normalize_bind_address,
    wrap_twisted_exceptions,
)
from scrapy.utils.defer import maybe_deferred_to_future

SOCKS_SCHEMES = ("socks5", "socks5h")
DEFAULT_SOCKS_PORT = 1080

logger = logging.getLogger(__name__)


class SocksProxyError(error.ConnectError):
    """The SOCKS proxy answered but could not open the connection to the target."""

    MESSAGE = "SOCKS5 proxy could not connect to the target"


def _socks_proxy(request: Request) -> tuple[str, int] | None:
    """(host, port) of the request's SOCKS5 proxy, None if it has none; ValueError if unusable."""
    proxy = request.meta.get("proxy")
    if not proxy:
        return None
    parsed = urlparse(proxy)
    scheme = parsed.scheme.lower()
    if not scheme.startswith("socks"):
        return None
    if scheme not in SOCKS_SCHEMES:
        raise ValueError(f"Unsupported proxy scheme {scheme}:// (use socks5h:// or socks5://)")
    if parsed.username or parsed.password or b"Proxy-Authorization" in request.headers:
        raise ValueError(
            f"SOCKS5 proxy authentication is not supported (proxy {parsed.hostname}:"
            f"{parsed.port or DEFAULT_SOCKS_PORT}): remove user:password from the proxy URL"
        )
    if not parsed.hostname:
        raise ValueError(f"SOCKS5 proxy URL without a host: {proxy!r}")
    return parsed.hostname, parsed.port or DEFAULT_SOCKS_PORT


class _ProxyEndpoint:
    """TCP endpoint of the proxy that names the proxy in connection errors and remembers the
    SOCKS protocol, so a cancelled handshake (download timeout) can close the connection."""

    def __init__(self, reactor: Any, host: str, port: int, timeout: float, bind: Any):
        self._endpoint = HostnameEndpoint(reactor, host, port, timeout=timeout, bindAddress=bind)
        self.name = f"{host}:{port}"
        self.protocol: Any = None

    def connect(self, factory: Any) -> Any:
        d = self._endpoint.connect(factory)
        d.addCallbacks(self._connected, self._failed)
        return d

    def _connected(self, protocol: Any) -> Any:
        self.protocol = protocol
        return protocol

    def _failed(self, failure: Failure) -> Failure:
        exc = failure.value
        where = f"SOCKS5 proxy {self.name} unreachable"
        if isinstance(exc, error.ConnectError):
            return Failure(type(exc)(exc.osError, f"{where} ({exc.args[0] or exc.MESSAGE})"))
        if isinstance(exc, error.DNSLookupError):
            return Failure(error.DNSLookupError(f"{where}: {exc}"))
        return failure


class _SocksEndpoint:
    """IStreamClientEndpoint: `host:port` through a SOCKS5 proxy, optionally with TLS inside."""

    def __init__(self, proxy: _ProxyEndpoint, host: str, port: int, tls: Any):
        self._proxy, self._host, self._port, self._tls = proxy, host, port, tls

    def __repr__(self) -> str:
        return f"<SOCKS5 {self._proxy.name} -> {self._host}:{self._port}>"

    def connect(self, factory: Any) -> Any:
        endpoint = TorSocksEndpoint(self._proxy, self._host, self._port, tls=self._tls or False)
        d = endpoint.connect(factory)
        d.addErrback(self._failed)
        return d

    def _failed(self, failure: Failure) -> Failure:
        if failure.check(CancelledError) and self._proxy.protocol is not None:
            # txtorcon leaves the half-open SOCKS connection behind on cancel: close it.
            self._proxy.protocol.transport.abortConnection()
        if failure.check(SocksError):
            reason = failure.value.message
            if isinstance(reason, Failure):
                reason = reason.getErrorMessage()
            return Failure(
                SocksProxyError(
                    string=f"{self._proxy.name} -> {self._host}:{self._port}: {reason}"
                )
            )
        return failure


class _SocksAgent(_BindAddressAgent):
    """Twisted Agent whose connections go through a SOCKS5 proxy; the proxy is part of the
    connection-pool key so pooled connections are never shared with other routes."""

    def __init__(self, *, proxy: tuple[str, int], **kwargs: Any):
        super().__init__(**kwargs)
        self._proxy = proxy

    def _getEndpoint(self, uri: Any) -> _SocksEndpoint:
        host = uri.host.decode("ascii")
        if ":" in host:  # txtorcon cannot send IPv6 addresses
            raise ValueError(f"IPv6 targets are not supported through SOCKS5: {host}")
        factory = self._endpointFactory
        tls = None
        if uri.scheme == b"https":
            tls = factory._policyForHTTPS.creatorForNetloc(uri.host, uri.port)
        proxy = _ProxyEndpoint(
            self._reactor, *self._proxy, factory._connectTimeout, factory._bindAddress
        )
        return _SocksEndpoint(proxy, host, uri.port, tls)

    def _requestWithEndpoint(self, key: Any, endpoint: Any, *args: Any, **kwargs: Any) -> Any:
        key += ("socks5", *self._proxy)
        return super()._requestWithEndpoint(key, endpoint, *args, **kwargs)


class _SocksScrapyAgent(_ScrapyAgent):
    _socks = False

    def _get_agent(self, request: Request, timeout: float) -> Any:
        proxy = _socks_proxy(request)
        if proxy is None:
            return super()._get_agent(request, timeout)
        from twisted.internet import reactor

        self._socks = True
        bind = normalize_bind_address(request.meta.get("bindaddress") or self._bindAddress)
        return _SocksAgent(
            proxy=proxy,
            reactor=reactor,
            contextFactory=self._contextFactory,
            connectTimeout=timeout,
            bindAddress=bind,
            pool=self._pool,
        )

    def _cb_bodydone(self, result: Any, url: str) -> Response:
        if self._socks:
            result["ip_address"] = None  # the peer is the proxy, not the server
        return super()._cb_bodydone(result, url)


class SocksAwareDownloadHandler(HTTP11DownloadHandler):
    """HTTP11DownloadHandler that also honours socks5:// and socks5h:// proxies in meta["proxy"]."""

    async def download_request(self, request: Request) -> Response:
        # Same as HTTP11DownloadHandler.download_request, with the SOCKS-aware agent.
        spider = self._crawler.spider
        agent = _SocksScrapyAgent(
            contextFactory=self._contextFactory,
            bindAddress=self._bind_address,
            pool=self._pool,
            maxsize=getattr(spider, "download_maxsize", self._default_maxsize),
            warnsize=getattr(spider, "download_warnsize", self._default_warnsize),
            fail_on_dataloss=self._fail_on_dataloss,
            crawler=self._crawler,
            tls_verbose_logging=self._tls_verbose_logging,
        )
        try:
            with wrap_twisted_exceptions():
                return await maybe_deferred_to_future(agent.download_request(request))
        except ResponseDataLossError:
            if not self._fail_on_dataloss_warned:
                self._fail_on_dataloss_warned = True
                logger.warning(get_dataloss_msg(request.url))
            raise
