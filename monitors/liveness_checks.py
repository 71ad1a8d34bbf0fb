"""The checks behind liveness: is a Telegram channel, a bot or a web site still up?

Each check answers a `Check`: ``up``, ``gone`` (with how: ``404``, ``410``, ``blocked``,
``redirect``, ``empty``, ``dns`` or what a resolver says: ``deleted``, ``banned``, ``private`` …)
or ``unknown`` (the check itself failed: a network error, a timeout, a server error). Only what
the other side positively said counts as gone; a failure to ask is never taken for a takedown.

- A channel: its public preview ``BASE/s/NAME`` (not following redirects). A page with posts is
  up; Telegram redirects to ``/NAME`` when there is no preview, answers 200 with no posts for
  deleted and private channels, and 404 for what never existed.
- A bot or channel by resolving it: an async ``resolver(name) -> Check`` given by the caller (the
  daemon passes the Telegram monitor's); without one that method is skipped.
- A site: its host name in DNS (``socket.getaddrinfo``: a name that does not exist is gone,
  "dns"), then its HTTP status (redirects followed).
"""

from __future__ import annotations

import asyncio
import socket
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_BODY = 4 * 1024 * 1024  # enough for a preview page; larger answers are cut
# getaddrinfo's answers for a name that does not exist (as opposed to a resolver that failed)
_NO_SUCH_NAME = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}


@dataclass(frozen=True, slots=True)
class Check:
    """What one check found: state up | gone | unknown, how it is gone, and a short detail."""

    state: str
    how: str | None = None
    detail: str | None = None

    @property
    def failed(self) -> bool:
        return self.state == "unknown"


Resolver = Callable[[str], Awaitable[Check]]


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    location: str | None
    body: bytes
    content_type: str | None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 3xx answer itself is what the preview check reads


def http_get(url: str, timeout: float, user_agent: str, follow: bool) -> Answer:
    """GET `url` (blocking; run it in a thread). HTTP error statuses are answers, not errors;
    OSError (and urllib's URLError) for a network failure."""
    handlers = [urllib.request.ProxyHandler({})]  # checks go straight out, like the crawls
    if not follow:
        handlers.append(_NoRedirect())
    opener = urllib.request.build_opener(*handlers)
    request = urllib.request.Request(url, headers={"User-Agent": user_agent,
                                                   "Accept": "text/html,*/*;q=0.5"})
    try:
        response = opener.open(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        response = error
    with response:
        return Answer(response.status if hasattr(response, "status") else response.code,
                      response.headers.get("Location"), response.read(MAX_BODY),
                      response.headers.get("Content-Type"))


def _network_failure(exc: BaseException) -> Check:
    reason = getattr(exc, "reason", None) or exc
    text = str(reason).splitlines()[0] if str(reason) else type(reason).__name__
    return Check("unknown", None, f"network error: {text[:200]}")


async def check_preview(base_url: str, name: str, timeout: float, user_agent: str) -> Check:
    """A channel through its public preview page."""
    from spiders.tme_parser import parse_preview

    url = f"{base_url.rstrip('/')}/s/{name}"
    try:
        answer = await asyncio.to_thread(http_get, url, timeout, user_agent, False)
    except (OSError, ValueError) as exc:
        return _network_failure(exc)
    if answer.status in (301, 302, 303, 307, 308):
        target = urlsplit(answer.location or "").path.rstrip("/").lower()
        if target == f"/{name.lower()}":
            return Check("gone", "redirect", f"{url} redirects to /{name}: no public preview")
        return Check("unknown", None, f"{url} redirects elsewhere ({answer.status})")
    if answer.status in (404, 410, 451):
        how = {404: "404", 410: "410", 451: "blocked"}[answer.status]
        return Check("gone", how, f"{url} answers {answer.status}")
    if answer.status != 200:
        return Check("unknown", None, f"{url} answers {answer.status}")
    page = parse_preview(answer.body, url, name)
    status = page.channel.status
    if status == "active":
        return Check("up", None, f"{url}: preview with posts")
    if status == "empty":
        return Check("gone", "empty", f"{url}: preview without posts (deleted or private)")
    if status == "no_preview":
        return Check("gone", "redirect", f"{url}: no public preview")
    return Check("unknown", None, f"{url}: not a preview page")


async def check_resolve(resolver: Resolver, name: str) -> Check:
    """A bot or channel through the caller's resolver; its failure is unknown, not gone."""
    try:
        result = await resolver(name)
    except (asyncio.TimeoutError, OSError, ConnectionError) as exc:
        return _network_failure(exc)
    except Exception as exc:  # the resolver's own trouble (e.g. a flood wait): ask again later
        return Check("unknown", None, f"resolver failed: {type(exc).__name__}")
    if not isinstance(result, Check):
        return Check("unknown", None, "resolver gave no answer")
    return result


async def check_dns(host: str) -> Check:
    """Whether `host` exists in DNS: gone "dns" when the name does not exist."""
    loop = asyncio.get_running_loop()
    try:
        await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        if exc.errno in _NO_SUCH_NAME:
            return Check("gone", "dns", f"{host}: no such name in DNS")
        return Check("unknown", None, f"{host}: DNS lookup failed ({exc.strerror})")
    except (OSError, UnicodeError) as exc:
        return _network_failure(exc)
    return Check("up", None, f"{host} resolves")


async def check_site(url: str, timeout: float, user_agent: str) -> Check:
    """A site or a page: DNS first, then the HTTP status (redirects followed)."""
    host = urlsplit(url).hostname
    if not host:
        return Check("unknown", None, f"{url}: no host name")
    if not _is_ip(host):
        dns = await check_dns(host)
        if dns.state != "up":
            return dns
    try:
        answer = await asyncio.to_thread(http_get, url, timeout, user_agent, True)
    except (OSError, ValueError) as exc:
        return _network_failure(exc)
    if answer.status in (404, 410):
        return Check("gone", str(answer.status), f"{url} answers {answer.status}")
    if answer.status == 451:
        return Check("gone", "blocked", f"{url} answers 451 (unavailable for legal reasons)")
    if answer.status < 400 or answer.status in (401, 403):  # it answers: it is there
        return Check("up", None, f"{url} answers {answer.status}")
    return Check("unknown", None, f"{url} answers {answer.status}")


def _is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def combine(checks: list[Check]) -> Check:
    """One verdict from several methods: any that sees the subject up wins (a channel without a
    preview may still resolve); else the first that saw it gone; else unknown."""
    for wanted in ("up", "gone"):
        for check in checks:
            if check.state == wanted:
                return check
    details = "; ".join(check.detail for check in checks if check.detail)
    return Check("unknown", None, details or "no check could be made")
