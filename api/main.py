"""The FastAPI application."""

import logging

from fastapi import FastAPI

from api import health, webhooks
from bot.db import get_engine
from bot.engine import Engine, build_engine
from bot.logs import configure_logging
from bot.settings import Settings, get_settings


def create_app(settings: Settings | None = None, bot: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging()
    app = FastAPI(title="Rahnuma", version="0.1.0")
    app.state.settings = settings
    app.state.db = get_engine(settings.database_url)
    app.state.bot = bot or build_engine(settings)
    app.include_router(webhooks.router)
    app.include_router(health.router)
    logging.getLogger(__name__).info("Rahnuma app ready")
    return app
