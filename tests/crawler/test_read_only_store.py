"""Commands that only read open the store read-only: an archived copy on read-only media can be
read (with or without a WAL left beside it), a mistyped path or an empty or outdated database is
refused in one line and never created nor migrated."""

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from crawler.store.db import Store, open_store
from tests.conftest import REPO, write_config
from tests.crawler.conftest import fill

# `capture` on a read-only store: tests/crawler/test_capture_body.py (it needs a real crawl).
READ_COMMANDS = [["sources"], ["sources", "--json"], ["posts"], ["posts", "--json"],
                 ["queue"], ["queue", "--json"], ["candidate", "1"],
                 ["entity", "@kristall_kz_bot"], ["watchlist"], ["db", "current"],
                 ["quarantine"]]


def run_on_read_only_folder(folder: Path, *args: str) -> subprocess.CompletedProcess:
    """`kyran ARGS` with `folder` unwritable: a read-only bind mount of it (root ignores file
    modes) in a private mount namespace, or without root its modes taken away."""
    command = [sys.executable, "-m", "crawler", "--config", str(folder / "kyran.toml"), *args]
    if os.geteuid() == 0:
        command = ["unshare", "--mount", "sh", "-c",
                   'mount --bind -o ro "$0" "$0" && exec "$@"', str(folder), *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=REPO)
    modes = {path: path.stat().st_mode for path in [folder, *folder.rglob("*")]}
    try:
        for path in sorted(modes, key=lambda p: len(p.parts), reverse=True):
            path.chmod(modes[path] & 0o555)
        return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=REPO)
    finally:
        for path, mode in sorted(modes.items(), key=lambda item: len(item[0].parts)):
            path.chmod(mode)


@pytest.fixture
def archive(tmp_path):
    """A filled SQLite store, cleanly closed (no -wal or -shm file), in a folder of its own with
    its captures and a configuration, as an archived copy would be."""
    folder = tmp_path / "archive"
    folder.mkdir()
    config = write_config(folder / "kyran.toml", "sqlite:///kyran.sqlite")
    store = open_store(f"sqlite:///{folder}/kyran.sqlite")
    try:
        fill(store, config)
    finally:
        store.dispose()
    conn = sqlite3.connect(folder / "kyran.sqlite")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    assert not list(folder.glob("kyran.sqlite-*"))  # the WAL index must be made to read it
    return folder


@pytest.mark.parametrize("command", READ_COMMANDS, ids=" ".join)
def test_every_read_command_reads_an_archived_read_only_store(archive, command):
    before = {p.name: p.read_bytes() for p in archive.iterdir() if p.is_file()}
    result = run_on_read_only_folder(archive, *command)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() and "(none)" not in result.stdout
    assert "readonly" not in result.stderr
    assert {p.name: p.read_bytes() for p in archive.iterdir() if p.is_file()} == before


def test_a_read_only_copy_with_its_wal_shows_what_the_wal_holds(archive):
    writer = sqlite3.connect(archive / "kyran.sqlite")
    try:
        writer.execute("PRAGMA wal_autocheckpoint=0")
        writer.execute("UPDATE source SET title = 'only in the wal' WHERE handle = 'city_chat'")
        writer.commit()
        copy = archive.parent / "copy"
        shutil.copytree(archive, copy)  # copied while the WAL is not checkpointed
    finally:
        writer.close()
    assert (copy / "kyran.sqlite-wal").stat().st_size > 0
    result = run_on_read_only_folder(copy, "sources")
    assert result.returncode == 0, result.stderr
    assert "only in the wal" in result.stdout


@pytest.mark.parametrize("command", [*READ_COMMANDS, ["capture", "1"]], ids=" ".join)
def test_a_mistyped_sqlite_path_is_refused_and_not_created(kyran, tmp_path, command):
    missing = tmp_path / "typo" / "kyran.sqlite"
    config = write_config(tmp_path / "kyran.toml", f"sqlite:///{missing}")
    result = kyran(*command, config=config)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"kyran: no store at {missing} (check store.url in the configuration; "
        "`kyran db upgrade` creates one)"]
    assert not missing.parent.exists()


def _tables(db_url: str) -> set[str]:
    engine = create_engine(db_url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.parametrize("command", [["sources"], ["posts"], ["queue"], ["capture", "1"]],
                         ids=" ".join)
def test_an_empty_database_is_not_made_a_store_by_reading_it(kyran, tmp_path, db_url, command):
    if db_url.startswith("sqlite"):
        sqlite3.connect(db_url.removeprefix("sqlite:///")).close()  # an empty file
    config = write_config(tmp_path / "kyran.toml", db_url)
    result = kyran(*command, config=config)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "no Kyran store in" in line and "run `kyran db upgrade`" in line
    assert _tables(db_url) == set()


def test_a_store_behind_the_code_says_to_upgrade_and_is_left_as_it_is(kyran, tmp_path, db_url):
    old = Store(db_url)
    old.upgrade("0001")
    head = old.head_revision()
    old.dispose()
    config = write_config(tmp_path / "kyran.toml", db_url)
    result = kyran("sources", config=config)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert f"at schema revision 0001, behind this kyran ({head})" in line
    assert "run `kyran db upgrade`" in line
    assert Store(db_url).current_revision() == "0001"
    assert kyran("db", "upgrade", config=config).returncode == 0
    assert kyran("sources", config=config).returncode == 0


def test_a_store_opened_read_only_refuses_every_write(store, db_url):
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    with store.session() as session:
        session.execute(text("INSERT INTO source (platform, kind, handle, status, watched, "
                             "watch_priority, verified, discovered_via, discovery_depth, "
                             "first_seen) VALUES ('telegram', 'channel', 'kept_one', 'unknown',"
                             " true, 50, false, 'seed', 0, CURRENT_TIMESTAMP)"))
    reader = open_store(db_url, read_only=True)
    try:
        for opened in (reader.session, reader.reader):
            with pytest.raises(DBAPIError, match="read-?only"), opened() as session:
                session.execute(text("DELETE FROM source"))
        with reader.reader() as session:
            assert session.execute(text("SELECT handle FROM source")).scalars().all() == [
                "kept_one"]
    finally:
        reader.dispose()
