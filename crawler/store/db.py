"""Opening the store: the engine (SQLite with WAL and foreign keys, or PostgreSQL), sessions, and
Alembic migrations run programmatically (`kyran db upgrade`, and on every fresh start)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")


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


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


class Store:
    """The database behind Kyran: an engine plus a session factory."""

    def __init__(self, url: str, limits: dict | None = None) -> None:
        self.url = url
        self.engine = make_engine(url, limits)
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

    def dispose(self) -> None:
        self.engine.dispose()


def open_store(url: str, migrate: bool = True, limits: dict | None = None) -> Store:
    store = Store(url, limits)
    if migrate:
        store.ensure_schema()
    return store
