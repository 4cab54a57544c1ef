"""Alembic environment: migrates the database named by DATABASE_URL (or the given engine)."""

from alembic import context
from sqlalchemy import text
from sqlmodel import SQLModel

import bot.models  # noqa: F401  (registers every table on SQLModel.metadata)
from bot.db import get_engine
from bot.settings import get_settings

target_metadata = SQLModel.metadata
MIGRATION_LOCK = 7245101  # any constant: the advisory lock only Rahnuma's migrations take


def run_migrations_online() -> None:
    connectable = context.config.attributes.get("connection")
    if connectable is None:
        url = context.config.attributes.get("database_url") or get_settings().database_url
        with get_engine(url).connect() as connection:
            _run(connection)
    else:
        _run(connectable)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Two instances starting on an empty database would both create alembic_version;
            # the second waits here, then finds the schema current. (SQLite: a lock file
            # around the whole upgrade, in bot/migrate.py.)
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                               {"key": MIGRATION_LOCK})
        context.run_migrations()
    if connection.in_transaction():
        connection.commit()


run_migrations_online()
