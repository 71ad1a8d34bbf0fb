"""`kyran import` and `kyran push`: bring a partner's evidence package into this store, and send
one of ours to a partner's review app over HTTPS.

`kyran import PACKAGE.zip --from ORG` verifies the package against the key trusted for ORG
(`kyran keys trust`) and refuses it whole when anything fails (exit 1, one line per problem).
`kyran push PACKAGE.zip --to URL --token-file FILE` posts it to URL's `/api/packages` with the
partner's API token, read from a file only its owner may read; the token is never printed.
Plain http is refused except to this machine (a partner is always reached over HTTPS).
"""

from __future__ import annotations

import ipaddress
import json
import os
import stat
from pathlib import Path
from urllib.parse import urlsplit

import click

from crawler.cli_support import InputError
from crawler.defang import one_line

MAX_TOKEN_FILE = 4096


def read_token(path: str) -> str:
    """The API token in `path`; InputError when it cannot be read or others may read it."""
    try:
        mode = os.stat(path).st_mode
        with open(path, "rb") as handle:
            data = handle.read(MAX_TOKEN_FILE + 1)
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InputError(f"the token file {path} is open to other users (mode "
                         f"{stat.S_IMODE(mode):o}); run: chmod 600 {path}")
    token = data.decode("ascii", "replace").strip()
    if not token or len(data) > MAX_TOKEN_FILE or any(ch.isspace() for ch in token) \
            or not token.isprintable():
        raise InputError(f"{path}: not an API token (one line, as `kyran user token` printed it)")
    return token


def endpoint(url: str) -> str:
    """The partner's `/api/packages` URL; InputError for anything but https (or http to this
    machine)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InputError(f"--to {one_line(url)[:80]!r}: expected https://HOST[:PORT] of the "
                         "partner's review app")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise InputError(f"--to {one_line(url)[:80]!r}: plain http would send the token in the "
                         "clear; use https")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise InputError("--to: give the address without user, query or fragment")
    base = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
    return base if base.endswith("/api/packages") else base + "/api/packages"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def push(package: str, url: str, token: str, organisation: str, ca_file: str | None,
         timeout: float) -> tuple[int, dict]:
    """POST the package; (HTTP status, JSON answer). httpx errors propagate."""
    import httpx

    verify: object = True
    if ca_file:
        import ssl

        verify = ssl.create_default_context(cafile=ca_file)
    with open(package, "rb") as handle, httpx.Client(verify=verify, timeout=timeout) as client:
        response = client.post(url, headers={"Authorization": f"Bearer {token}"},
                               data={"organisation": organisation},
                               files={"package": (Path(package).name, handle,
                                                  "application/zip")})
    try:
        answer = response.json()
    except ValueError:
        answer = {"error": f"the partner answered {response.status_code} without JSON"}
    return response.status_code, answer if isinstance(answer, dict) else {}


def register(cli: click.Group, pass_context) -> None:
    @cli.command("import")
    @click.argument("package", type=click.Path(exists=True, dir_okay=False))
    @click.option("--from", "organisation", required=True, metavar="ORG",
                  help="The sending organisation's id (its key must be trusted: kyran keys "
                  "trust ORG KEYFILE).")
    @click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON line.")
    @pass_context
    def import_command(ctx, package, organisation, as_json):
        """Verify a partner's evidence package against its trusted key and bring its subjects,
        posts, captures and indicators in as open candidates marked with their origin.

        Exit status: 0 imported (or imported before: nothing changed), 1 refused (nothing
        written), 2 a usage or configuration error."""
        from evidence.importer import ImportRefused, import_package
        from evidence.keys import TrustedKeys

        config = ctx.config
        trusted = TrustedKeys(config.resolve(config.evidence.trusted_keys_dir))
        name = Path(package).name
        try:
            result = import_package(ctx.store(), package, organisation, trusted,
                                    config.captures_path)
        except ImportRefused as exc:
            for problem in exc.problems:
                click.echo(f"{name}: {one_line(problem)}", err=True)
            click.echo(f"{name}: REFUSED, nothing imported", err=True)
            return 1
        click.echo(json.dumps(result.as_dict(), sort_keys=True) if as_json
                   else result.summary())
        return 0

    @cli.command("push")
    @click.argument("package", type=click.Path(exists=True, dir_okay=False))
    @click.option("--to", "url", required=True, metavar="URL",
                  help="The partner's review app, https://HOST[:PORT].")
    @click.option("--token-file", required=True, type=click.Path(dir_okay=False),
                  help="A file (mode 0600) holding the API token the partner gave us.")
    @click.option("--from-org", "organisation", metavar="ID",
                  help="Our organisation id as the partner trusts it (default: [evidence] "
                  "organisation_id).")
    @click.option("--ca-file", type=click.Path(exists=True, dir_okay=False),
                  help="CA certificate(s) to trust for the partner (default: the system's).")
    @click.option("--timeout", type=click.FloatRange(1, 3600), default=300, show_default=True,
                  help="Seconds to wait for the partner.")
    @pass_context
    def push_command(ctx, package, url, token_file, organisation, ca_file, timeout):
        """Send an evidence package to a partner's Kyran, which verifies and imports it.

        Exit status: 0 accepted, 1 refused or unreachable, 2 a usage error."""
        import httpx

        target = endpoint(url)
        token = read_token(token_file)
        organisation = organisation or ctx.config.evidence.organisation_id
        try:
            status, answer = push(package, target, token, organisation, ca_file, timeout)
        except httpx.HTTPError as exc:
            click.echo(f"kyran push: {target}: {one_line(str(exc)) or type(exc).__name__}",
                       err=True)
            return 1
        if status == 200:
            click.echo(f"{urlsplit(target).netloc}: {one_line(str(answer.get('summary')))}")
            return 0
        for problem in answer.get("problems") or [answer.get("error") or "refused"]:
            click.echo(f"kyran push: {urlsplit(target).netloc} answered {status}: "
                       f"{one_line(str(problem))}", err=True)
        return 1
