"""Alembic environment: runs Kyran's migrations on the connection (or URL) it is handed."""

from alembic import context
from sqlalchemy import create_engine

from crawler.store.models import Base

config = context.config


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as conn:
        _migrate(conn)
    engine.dispose()


def _ours(obj, name, type_, reflected, compare_to) -> bool:
    """APScheduler's job table (the daemon's, crawler/daemon/core.py) is not Kyran's schema."""
    return not (type_ == "table" and name == "apscheduler_jobs")


def _migrate(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_object=_ours,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
