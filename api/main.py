"""The FastAPI application."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from api import health, metrics, staff, webhooks
from api.security_headers import SecurityHeaders
from api.staff.web import LoginRequired
from bot.content.review import LiveContent
from bot.conversation.answering import Answerers
from bot.conversation.engine import Engine, build_engine
from bot.db import get_engine
from bot.logs import configure_logging
from bot.settings import Settings, get_settings


def create_app(settings: Settings | None = None, bot: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging()
    docs = settings.api_docs  # the schema lists every route: not for the public port
    app = FastAPI(title="Rahnuma", version="0.1.0",
                  docs_url="/docs" if docs else None, redoc_url="/redoc" if docs else None,
                  openapi_url="/openapi.json" if docs else None,
                  # Starlette's slash redirect builds an absolute URL from the Host header,
                  # so a forged Host sent people elsewhere; "/x/" is simply not "/x".
                  redirect_slashes=False, lifespan=_lifespan)
    app.add_middleware(SecurityHeaders)
    app.state.settings = settings
    app.state.db = get_engine(settings.database_url)
    app.state.bot = bot or build_engine(settings)
    if app.state.bot.live is None:  # an engine built by hand (tests): texts published here count
        app.state.bot.live = LiveContent(app.state.bot.content)
    app.state.answerers = Answerers(settings, app.state.db, app.state.bot)
    app.include_router(webhooks.router)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(staff.router)
    app.mount("/staff/static", StaticFiles(directory=Path(staff.__file__).parent / "static"),
              name="staff-static")

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, _error: LoginRequired) -> RedirectResponse:
        return RedirectResponse("/staff/login", status_code=303)

    logging.getLogger(__name__).info("Rahnuma app ready")
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    app.state.answerers.close()
