"""What routes get from the app: settings, the database engine and the conversation engine."""

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine as DbEngine

from bot.conversation.engine import Engine
from bot.settings import Settings


# Coroutines on purpose: FastAPI runs a plain `def` dependency in its thread pool, and these
# three were three thread hops on every request (~0.2 ms of CPU each webhook delivery).
async def settings(request: Request) -> Settings:
    return request.app.state.settings


async def db(request: Request) -> DbEngine:
    return request.app.state.db


async def bot(request: Request) -> Engine:
    return request.app.state.bot


SettingsDep = Annotated[Settings, Depends(settings)]
DbDep = Annotated[DbEngine, Depends(db)]
BotDep = Annotated[Engine, Depends(bot)]
