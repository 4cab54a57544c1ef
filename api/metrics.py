"""GET /metrics: counters from bot.metrics plus the queues' sizes, read at scrape time."""

from collections.abc import Iterator

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
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


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    registry = CollectorRegistry()
    registry.register(QueueCollector(request.app.state.db))
    body = generate_latest(REGISTRY) + generate_latest(registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
