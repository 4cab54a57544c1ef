"""Database engine and sessions: SQLite by default, PostgreSQL through DATABASE_URL."""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session, create_engine


def _prepare_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: object) -> None:
        # Let SQLAlchemy issue BEGIN itself (below): pysqlite's own deferred BEGIN makes two
        # writers deadlock on upgrade instead of waiting their turn.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # Waiting first: on a new file, switching to WAL needs the lock another starting
        # instance may hold.
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Deleted rows are overwritten with zeros, not just unlinked: `contact forget` must
        # not leave the number readable in free pages of the file.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Read-only work (read_only()) must not queue behind writers for the write lock.
        readonly = connection.get_execution_options().get(READ_ONLY)
        connection.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


READ_ONLY = "rahnuma_read_only"


def checkpoint_sqlite(engine: Engine) -> bool:
    """Copy the write-ahead log into the database file and empty it (SQLite only); False if
    a reader kept it from finishing.

    After an erasure the deleted rows' old pages still sit in the -wal file until the next
    checkpoint; TRUNCATE writes them back (zeroed, with secure_delete) and cuts the log to
    nothing. Run outside any transaction (the raw connection is in autocommit): inside one,
    SQLite refuses to checkpoint. PostgreSQL needs VACUUM instead (README, production)."""
    if engine.dialect.name != "sqlite":
        return True
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        busy, _log_pages, _done = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        cursor.close()
    finally:
        connection.close()
    return busy == 0


def read_only(engine: Engine) -> Engine:
    """The same engine for reads only: on SQLite its transactions skip the write lock."""
    return engine.execution_options(**{READ_ONLY: True})


@lru_cache
def get_engine(database_url: str) -> Engine:
    url = make_url(database_url)
    if url.drivername.startswith("sqlite"):
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _prepare_sqlite(engine)
        return engine
    if url.drivername in {"postgresql", "postgres"}:
        url = url.set(drivername="postgresql+psycopg")
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
