"""The Alembic migrations create exactly what the models declare."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import bot.models  # noqa: F401


def test_migrations_match_the_models(db):
    with db.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, SQLModel.metadata) == []


def test_instances_starting_together_on_an_empty_database_all_start(database_url, tmp_path):
    """Two `rahnuma serve` on one empty database: the later ones must wait, not crash on
    alembic_version (PostgreSQL: an advisory lock; SQLite: a lock file). Separate processes,
    as real instances are: Alembic's context is global to a process."""
    import os
    import subprocess
    import sys
    import uuid

    from sqlalchemy import text

    from bot.db import get_engine
    from tests.conftest import _postgres_url

    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        url = _postgres_url(f"rahnuma_empty_{uuid.uuid4().hex[:10]}")
    starts = [subprocess.Popen([sys.executable, "-c",
                                f"from bot.migrate import upgrade; upgrade({url!r})"],
                               stderr=subprocess.PIPE, text=True) for _ in range(3)]
    errors = [start.communicate(timeout=120)[1] for start in starts]
    assert [start.returncode for start in starts] == [0, 0, 0], errors
    with get_engine(url).connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    if not database_url.startswith("sqlite"):
        schema = url.split("search_path%3D")[1]
        get_engine(url).dispose()
        with get_engine(os.environ["TEST_DATABASE_URL"]).connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            connection.commit()
