"""One daemon per store: a lock that the operating system or the database frees when the
process dies, even by SIGKILL, so a restart is never blocked by a stale lock.

PostgreSQL: a session advisory lock held on a dedicated connection (the server frees it when the
connection closes). SQLite: `fcntl.flock` on a lock file beside the database file."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

# The daemon's lock (with the schema's hash as second key); 7254001 serialises migrations.
ADVISORY_KEY = 7254008


class DaemonAlreadyRunning(Exception):
    """Another daemon holds the lock of this store; the message is one line."""


class DaemonLock:
    """Held from `acquire()` to `release()` (or the process's death)."""

    def __init__(self, url: str, engine: Engine) -> None:
        self.url = url
        self.engine = engine
        self._file: int | None = None
        self._connection = None

    @property
    def where(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    def lock_path(self) -> Path:
        return Path(f"{make_url(self.url).database}.daemon.lock")

    def acquire(self) -> None:
        if self.engine.dialect.name == "sqlite":
            self._flock()
        else:
            self._advisory()

    def _flock(self) -> None:
        path = self.lock_path()
        handle = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(handle)
            raise DaemonAlreadyRunning(
                f"another kyran daemon already runs on {self.where} (it holds {path}); "
                "stop it first, a second one would run every job twice") from None
        os.ftruncate(handle, 0)
        os.write(handle, f"{os.getpid()}\n".encode())
        self._file = handle

    def _advisory(self) -> None:
        # A connection of its own, taken out of the pool: nothing else may reuse or close it.
        connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        connection.detach()
        # Keyed by the schema too: stores in two schemas of one database are two stores.
        held = connection.execute(text(
            "SELECT pg_try_advisory_lock(:key, hashtext(coalesce(current_schema(), '')))"),
            {"key": ADVISORY_KEY}).scalar()
        if not held:
            connection.close()
            raise DaemonAlreadyRunning(
                f"another kyran daemon already runs on {self.where} (it holds PostgreSQL "
                f"advisory lock {ADVISORY_KEY} of this schema); stop it first, a second one "
                "would run every job twice")
        self._connection = connection

    def verify(self) -> str:
        """"held" while the lock is held; "retaken" when its connection had died (with the
        network; the server then frees the lock) and it was acquired again; "unreachable" (try
        again later) while the database cannot be reached; DaemonAlreadyRunning when another
        daemon took it meanwhile."""
        from sqlalchemy.exc import DBAPIError

        if self._file is not None:
            return "held"
        try:
            if self._connection is not None:
                self._connection.execute(text("SELECT 1"))
                return "held"
        except DBAPIError:
            pass
        self.release()
        try:
            self._advisory()
        except DBAPIError:
            return "unreachable"
        return "retaken"

    def release(self) -> None:
        if self._file is not None:
            os.close(self._file)
            self._file = None
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:  # a dead connection: the server already freed the lock
                pass
            finally:
                self._connection = None


def held_elsewhere(url: str, engine: Engine) -> bool:
    """Whether a daemon holds the lock of this store now (for `kyran status`, `kyran jobs`)."""
    lock = DaemonLock(url, engine)
    if engine.dialect.name == "sqlite" and not lock.lock_path().exists():
        return False  # no daemon ever ran here (and a read-only folder gets no new file)
    try:
        lock.acquire()
    except DaemonAlreadyRunning:
        return True
    lock.release()
    return False
