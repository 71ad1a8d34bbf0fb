"""A user's mistake or an unreachable database ends in one line and an exit status, never a
traceback: 2 when the command could not run as given, 1 when the job failed."""

import os
import socket

import pytest

from tests.conftest import POSTGRES, write_config


def one_line(result, status: int) -> str:
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if not line.startswith(("Usage:", "Try "))]
    assert len(errors) == 1, result.stderr
    return errors[0]


@pytest.mark.parametrize("args", [
    ["capture", "99999999999999999999"], ["candidate", "99999999999999999999"],
    ["capture", "--", "-1"], ["posts", "--limit", "99999999999999999999"],
    ["queue", "--limit", "9223372036854775808"], ["candidate", "1", "--posts", "1e99"],
])
def test_an_id_or_count_beyond_64_bits_is_a_usage_error(kyran, config_file, store, args):
    assert "Invalid value" in one_line(kyran(*args, config=config_file), 2)


@pytest.mark.parametrize("since, says", [
    ("99999999999d", "too far back"), ("999999999999999h", "too far back"),
    ("99999999999999999m", "too far back"),
    ("9999-12-31T23:00-05:00", "out of range once in UTC"),
    ("0001-01-01T00:30+05:00", "out of range once in UTC"),
])
def test_a_since_out_of_range_is_a_usage_error(kyran, config_file, store, since, says):
    for command in (["posts"], ["rescore"]):
        line = one_line(kyran(*command, "--since", since, config=config_file), 2)
        assert f"'{since}': {says}" in line


@pytest.mark.parametrize("args", [["posts", "--source", os.fsdecode(b"caf\xe9")],
                                  ["watchlist", "add", os.fsdecode(b"\xff\xfe")],
                                  ["entity", os.fsdecode(b"x\x80y")]])
def test_an_argument_that_is_not_utf8_is_a_usage_error(kyran, config_file, store, args):
    line = one_line(kyran(*args, config=config_file), 2)
    assert line.startswith("kyran: argument ") and line.endswith("is not valid UTF-8")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_at(**parts) -> str:
    base = POSTGRES.rsplit("/", 1)[0]
    if "port" in parts:
        base = f"postgresql+psycopg://127.0.0.1:{parts['port']}"
    return f"{base}/{parts.get('database', 'test')}"


@pytest.mark.parametrize("command", [["sources"], ["queue"], ["watchlist", "add", "some_name"],
                                     ["db", "upgrade"], ["db", "current"], ["rescore"]],
                         ids=" ".join)
@pytest.mark.parametrize("url, status, says", [
    (lambda tmp: postgres_at(port=closed_port()), 1, "Connection refused"),
    (lambda tmp: postgres_at(database="no_such_kyran_db"), 1,
     'database "no_such_kyran_db" does not exist'),
    (lambda tmp: "postgresql+nodriver://127.0.0.1/test", 2, "store.url"),
    (lambda tmp: f"sqlite:///{tmp}", 1, "unable to open database file"),
], ids=["refused", "no-database", "no-driver", "sqlite-folder"])
def test_an_unreachable_or_misnamed_database_is_one_line(kyran, tmp_path, command, url, status,
                                                         says):
    target = url(tmp_path)
    config = write_config(tmp_path / "kyran.toml", target)
    result = kyran(*command, config=config, timeout=60)
    if target.startswith("sqlite") and command[0] in ("sources", "queue") \
            or target.startswith("sqlite") and command == ["db", "current"]:
        # a read-only command does not open a folder as a store at all
        assert f"no store at {tmp_path}" in one_line(result, 2)
        return
    line = one_line(result, status)
    assert line.startswith("kyran: ") and says in line


def test_an_unknown_section_from_the_environment_blames_the_variable(kyran, config_file):
    result = kyran("sources", config=config_file, env={"KYRAN_NOPE__X": "1"})
    line = one_line(result, 2)
    assert line == ("kyran: configuration error: environment KYRAN_NOPE__X: nope: unknown key "
                    "(check the spelling against kyran.example.toml)")
    deeper = kyran("sources", config=config_file, env={"KYRAN_NOPE__A__B": "1"})
    assert "environment KYRAN_NOPE__A__B: nope: unknown key" in one_line(deeper, 2)
