"""Liveness and readiness."""

import httpx
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api import deps

router = APIRouter()


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(db: deps.DbDep, settings: deps.SettingsDep) -> JSONResponse:
    checks = {}
    try:
        with db.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as error:  # noqa: BLE001 - any failure means not ready
        checks["database"] = f"error: {type(error).__name__}"
    try:
        response = httpx.get(f"{settings.rasa_url}/status", timeout=2.0)
        checks["nlu"] = "ok" if response.status_code < 500 else f"http {response.status_code}"
    except httpx.HTTPError as error:
        checks["nlu"] = f"error: {type(error).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"ready": ready, **checks}, status_code=200 if ready else 503)
