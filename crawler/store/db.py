"""Opening the store: the engine (SQLite with WAL and foreign keys, or PostgreSQL), sessions, and
Alembic migrations run programmatically (`kyran db upgrade`, and on every fresh start).

Commands that only read open the store read-only (`open_store(url, read_only=True)`): they never
create a store, never migrate one, and work on an archived copy whose file and folder cannot be
written (SQLite `mode=ro`, or `immutable=1` where not even the WAL index can be created)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
import os
import sqlite3
import urllib.parse
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

MIGRATIONS = Path(__file__).with_name("migrations")


class StoreUnavailable(Exception):
    """The store cannot be opened as asked; the message is one line saying what to do."""


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Let SQLAlchemy, not the driver, open transactions (pysqlite's own handling breaks
    # SAVEPOINT), and open them with BEGIN IMMEDIATE (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn) -> None:
    # Writers take the write lock at the start: two processes that both read and then write
    # would otherwise deadlock, and SQLite resolves that by failing one at once ("database is
    # locked") instead of waiting busy_timeout. Readers (Store.reader) begin plainly and, in WAL
    # mode, never wait for a writer.
    if conn.get_execution_options().get("kyran_read_only"):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


# Bounds of every wait on PostgreSQL, in seconds (`[store]` in kyran.toml sets them): a server
# or network that stops answering without closing the connection must not hang a crawl.
POSTGRES_LIMITS = {"connect_timeout": 10, "statement_timeout": 300, "idle_timeout": 300,
                   "network_timeout": 60}


def postgres_connect_args(url, limits: dict | None = None) -> dict:
    """libpq parameters that bound connecting, a dead network (TCP keepalives and
    tcp_user_timeout) and, on the server, a statement or an idle transaction. A parameter the
    URL sets itself wins; server settings are added to the URL's own `options`."""
    given = {**POSTGRES_LIMITS, **(limits or {})}
    network = int(given["network_timeout"])
    wanted = {
        "connect_timeout": int(given["connect_timeout"]),
        "keepalives": 1,
        "keepalives_idle": max(1, network // 3),
        "keepalives_interval": max(1, network // 9),
        "keepalives_count": 3,
        "tcp_user_timeout": network * 1000,
    }
    args = {key: value for key, value in wanted.items() if key not in url.query}
    server = (f"-c statement_timeout={int(given['statement_timeout'])}s "
              f"-c idle_in_transaction_session_timeout={int(given['idle_timeout'])}s")
    own = url.query.get("options")
    own = " ".join(own) if isinstance(own, tuple) else own
    args["options"] = f"{own} {server}" if own else server
    return args


def make_engine(url: str, limits: dict | None = None) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(url, pool_pre_ping=True,
                             connect_args=postgres_connect_args(parsed, limits))
    return create_engine(url, pool_pre_ping=True)


def _sqlite_reader_pragmas(dbapi_connection, _record) -> None:
    # As _sqlite_pragmas, without switching the journal mode (that is a write).
    dbapi_connection.isolation_level = None
    dbapi_connection.execute("PRAGMA foreign_keys=ON")
    dbapi_connection.execute("PRAGMA busy_timeout=30000")
    # Reads (the review app's pages) go through memory-mapped pages shared with the OS cache
    # instead of a copy per read, and each connection keeps more pages (32 MiB) between reads.
    dbapi_connection.execute("PRAGMA mmap_size=1073741824")
    dbapi_connection.execute("PRAGMA cache_size=-32768")


def _read_only_transaction(conn) -> None:
    conn.exec_driver_sql("SET TRANSACTION READ ONLY")


def _sqlite_read_uri(path: Path) -> str:
    """`mode=ro` where SQLite can open the WAL index (the folder is writable, or the -wal and
    -shm files are there); otherwise `immutable=1`: the file is then read as it stands, which
    for a store nobody can write is what it is."""
    wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
    mode = "mode=ro" if os.access(path.parent, os.W_OK) or (wal.exists() and shm.exists()) \
        else "immutable=1"
    return f"file:{urllib.parse.quote(str(path))}?{mode}"


def make_reader_engine(url: str, limits: dict | None = None) -> Engine:
    """An engine that cannot write and never creates anything (StoreUnavailable when a SQLite
    file is missing)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = make_engine(url, limits)
        event.listen(engine, "begin", _read_only_transaction)
        return engine
    if not parsed.database or parsed.database == ":memory:":
        raise StoreUnavailable(f"{url}: an in-memory store holds nothing to read")
    path = Path(parsed.database).absolute()
    if not path.is_file():
        raise StoreUnavailable(f"no store at {path} (check store.url in the configuration; "
                               "`kyran db upgrade` creates one)")
    uri = _sqlite_read_uri(path)
    engine = create_engine("sqlite://", poolclass=QueuePool,  # a file, not ":memory:"
                           creator=lambda: sqlite3.connect(uri, uri=True, timeout=30,
                                                           check_same_thread=False))
    event.listen(engine, "connect", _sqlite_reader_pragmas)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


class Store:
    """The database behind Kyran: an engine plus a session factory."""

    def __init__(self, url: str, read_only: bool = False, limits: dict | None = None) -> None:
        self.url = url
        self.engine = (make_reader_engine(url, limits) if read_only
                       else make_engine(url, limits))
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.readers = sessionmaker(self.engine.execution_options(kyran_read_only=True),
                                    expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on error."""
        with self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A session that only reads: on SQLite it does not queue behind crawls' writes."""
        with self.readers() as session, session.begin():
            yield session

    def current_revision(self) -> str | None:
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def head_revision(self) -> str | None:
        return ScriptDirectory.from_config(alembic_config(self.url)).get_current_head()

    def upgrade(self, revision: str = "head") -> None:
        cfg = alembic_config(self.url)
        with self.engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            raw = conn.connection.dbapi_connection
            if sqlite:
                # A migration that rebuilds a table must not cascade deletes into its children:
                # foreign keys are off while migrating (the pragma only works outside a
                # transaction, so it goes to the driver directly) and checked afterwards.
                raw.execute("PRAGMA foreign_keys=OFF")
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    # Two processes starting at once must not both create the schema.
                    conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7254001)")
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
            if sqlite:
                broken = raw.execute("PRAGMA foreign_key_check").fetchall()
                raw.execute("PRAGMA foreign_keys=ON")
                if broken:
                    raise RuntimeError(f"migration left broken foreign keys: {broken[:5]}")

    def ensure_schema(self) -> None:
        """Migrate to head when the store is behind (a fresh start migrates by itself)."""
        if self.current_revision() != self.head_revision():
            self.upgrade()

    def check_schema(self) -> None:
        """StoreUnavailable unless the store is at the schema this code expects."""
        current, head = self.current_revision(), self.head_revision()
        if current == head:
            return
        where = make_url(self.url).render_as_string(hide_password=True)
        if current is None:
            raise StoreUnavailable(f"no Kyran store in {where} (an empty database): "
                                   "run `kyran db upgrade` to create one")
        try:
            known = ScriptDirectory.from_config(alembic_config(self.url)).get_revision(current)
        except CommandError:
            known = None
        if known is None:
            raise StoreUnavailable(f"the store in {where} is at schema revision {current}, "
                                   f"newer than this kyran knows ({head}): upgrade kyran")
        raise StoreUnavailable(f"the store in {where} is at schema revision {current}, behind "
                               f"this kyran ({head}): run `kyran db upgrade` first")

    def dispose(self) -> None:
        self.engine.dispose()


def open_store(url: str, migrate: bool = True, read_only: bool = False,
               limits: dict | None = None) -> Store:
    """The store at `url`; migrated to the newest schema unless `migrate` is false. Read-only:
    never created nor migrated, and refused (StoreUnavailable) unless at the newest schema.
    `limits`: the [store] bounds on PostgreSQL (see `postgres_connect_args`)."""
    store = Store(url, read_only=read_only, limits=limits)
    if read_only:
        try:
            store.check_schema()
        except BaseException:
            store.dispose()
            raise
    elif migrate:
        store.ensure_schema()
    return store
