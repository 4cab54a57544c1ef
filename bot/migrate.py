"""Running the Alembic migrations from code (`rahnuma db upgrade`, `serve`, tests)."""

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from bot.settings import PROJECT_ROOT


def alembic_config(database_url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    with _sqlite_migration_lock(database_url):
        command.upgrade(alembic_config(database_url), revision)


@contextmanager
def _sqlite_migration_lock(database_url: str) -> Iterator[None]:
    """Instances starting together on one SQLite file migrate one after the other. Alembic runs
    SQLite's migrations without transactional DDL, one transaction per step, so a second
    process can read the version between the first one's steps and run a step again ("table
    already exists"). A lock file beside the database holds the whole upgrade; PostgreSQL's
    advisory lock in migrations/env.py does the same there."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        yield
        return
    lock_path = Path(url.database).with_name(Path(url.database).name + ".migrate-lock")
    with open(lock_path, "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)  # waits for the instance already migrating
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)
