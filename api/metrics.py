"""GET /metrics: counters from bot.metrics plus the queues' sizes, read at scrape time.

Only for the Prometheus that knows METRICS_TOKEN: the figures show how busy the helpline is
and how many complaints wait, which is nobody else's business. Without a token configured the
route does not exist (404).
"""

import hmac
import os
from collections.abc import Iterator

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import Engine
from sqlmodel import Session, func, select

from bot.casework.referrals import Referral
from bot.messaging.outbox import Outbox

router = APIRouter()


class QueueCollector:
    """Outbox depth and referrals by status, straight from the database."""

    def __init__(self, db: Engine) -> None:
        self.db = db

    def collect(self) -> Iterator[Metric]:
        with Session(self.db) as session:
            depth = session.exec(select(func.count()).select_from(Outbox)
                                 .where(Outbox.status == "queued")).one()
            by_status = session.exec(select(Referral.status, func.count())
                                     .group_by(Referral.status)).all()
        yield GaugeMetricFamily("rahnuma_outbox_depth", "Messages waiting to be sent", depth)
        referrals = GaugeMetricFamily("rahnuma_referrals", "Referrals by status",
                                      labels=["status"])
        for status, count in by_status:
            referrals.add_metric([status], count)
        yield referrals


def bearer_token_matches(authorization: str | None, token: str) -> bool:
    """"Bearer <token>", compared in constant time so timing reveals nothing of the token."""
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(),
                                                              token.encode())


def _check_scraper(request: Request) -> None:
    configured = request.app.state.settings.metrics_token
    if configured is None or not configured.get_secret_value():
        raise HTTPException(404, "Not Found")
    if not bearer_token_matches(request.headers.get("authorization"),
                                configured.get_secret_value()):
        raise HTTPException(401, "a bearer token is required",
                            headers={"WWW-Authenticate": "Bearer"})


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    _check_scraper(request)
    registry = CollectorRegistry()
    registry.register(QueueCollector(request.app.state.db))
    return Response(_counted() + generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def _counted() -> bytes:
    """This process's counts, or every process's when they keep them in files (bot/metrics)."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return generate_latest(REGISTRY)
    every_process = CollectorRegistry()
    multiprocess.MultiProcessCollector(every_process)
    return generate_latest(every_process)
