"""What the `kyran` commands share around their work: argument types with the bounds the store
can hold, the check of channel names given on the command line, and the entry point that turns
every failure a user can cause into one line and an exit status.

Exit status: 0 done; 1 the job failed (the database could not be reached or answered with an
error, a capture could not be read); 2 the command could not run as given (a usage or
configuration error, no store at the configured place, a store whose schema is not this
kyran's).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click
from sqlalchemy.exc import ArgumentError, DBAPIError

from crawler.config import ConfigError
from crawler.store.db import StoreUnavailable
from crawler.usernames import UsernameError, parse_username

BIGINT_MAX = 2**63 - 1  # the largest id or count either database stores
ID = click.IntRange(1, BIGINT_MAX)
LIMIT = click.IntRange(1, BIGINT_MAX)


class InputError(click.ClickException):
    """Bad input that is not a misuse of the options: one line, exit 2."""

    exit_code = 2


def check_channels(names: tuple[str, ...], channels_file: str | None) -> list[str]:
    """The channel names given, as usernames; InputError naming every bad name (and every bad
    line of the file, with its number) before anything is fetched."""
    problems, usernames = [], []
    for name in names:
        try:
            usernames.append(parse_username(name))
        except UsernameError as exc:
            problems.append(str(exc))
    if channels_file is not None:
        try:
            text = Path(channels_file).read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            line = Path(channels_file).read_bytes()[: exc.start].count(b"\n") + 1
            raise InputError(f"{channels_file} line {line}: not UTF-8 text") from None
        except OSError as exc:
            raise InputError(f"{channels_file}: {exc.strerror}") from None
        for number, line in enumerate(text.splitlines(), 1):
            line = line.split("#", 1)[0].strip()
            if line:
                try:
                    parse_username(line)
                except UsernameError as exc:
                    problems.append(f"{channels_file} line {number}: {exc}")
    if problems:
        raise InputError("\n".join(problems) + "\nnothing was crawled")
    return usernames


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    line = text.splitlines()[0] if text else type(error).__name__
    return re.sub(r"(//[^/:@\s]*:)[^@\s]*@", r"\1***@", line)  # no password from a URL


def _fail(message: str, status: int) -> None:
    click.echo(f"kyran: {message}", err=True)
    sys.exit(status)


def run_main(cli: click.Group) -> None:
    for number, argument in enumerate(sys.argv[1:], 1):
        if re.search(r"[\udc80-\udcff]", argument):
            shown = argument.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            _fail(f"argument {number} ({ascii(shown)}) is not valid UTF-8", 2)
    try:
        status = cli(standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ConfigError as exc:
        _fail(f"configuration error: {exc}", 2)
    except StoreUnavailable as exc:
        _fail(str(exc), 2)
    except ArgumentError as exc:  # a store URL SQLAlchemy cannot use (e.g. an unknown driver)
        _fail(f"configuration error: store.url: {_first_line(exc)}", 2)
    except DBAPIError as exc:
        _fail(f"database error: {_first_line(exc)} (is the store reachable, and is store.url "
              "right?)", 1)
    if isinstance(status, int) and status:
        sys.exit(status)
