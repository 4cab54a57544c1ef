"""Shared fixtures: a migrated database per backend, the real content, a fake NLU.

Every database test runs on SQLite and, when TEST_DATABASE_URL is set (CI sets it), on
PostgreSQL too, each session in a schema of its own so parallel runs never collide.
"""

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlmodel import SQLModel

from bot.content.store import Content, get_content
from bot.conversation.engine import Engine as BotEngine
from bot.db import get_engine
from bot.migrate import upgrade
from bot.settings import PROJECT_ROOT, Settings
from tests.factories import FakeNlu

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


def _postgres_url(schema: str) -> str:
    base = os.environ["TEST_DATABASE_URL"]
    with get_engine(base).connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        connection.commit()
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'rahnuma.db'}"
        upgrade(url)
        yield url
        return
    schema = f"rahnuma_test_{uuid.uuid4().hex[:10]}"
    url = _postgres_url(schema)
    upgrade(url)
    yield url
    get_engine(url).dispose()
    with get_engine(os.environ["TEST_DATABASE_URL"]).connect() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        connection.commit()


@pytest.fixture
def db(database_url: str) -> Iterator[Engine]:
    engine = get_engine(database_url)
    yield engine
    with engine.begin() as connection:  # children first
        for table in reversed(SQLModel.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture(scope="session")
def content() -> Content:
    return get_content(PROJECT_ROOT / "content")


@pytest.fixture
def fake_nlu() -> FakeNlu:
    return FakeNlu()


@pytest.fixture
def bot(content: Content, fake_nlu: FakeNlu) -> BotEngine:
    return BotEngine(content, fake_nlu, confidence_threshold=0.55, sms_max_segments=3)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, twilio_auth_token="test-auth-token",
                    public_base_url="https://rahnuma.example.org", _env_file=None)
