"""Queueing an alert into the outbox: one message per person in its audience, in their language,
on the channel they last wrote from, held through their quiet hours.

A scheduler job queues a batch of BATCH people per transaction, from the alert's cursor
(Alert.queued_up_to_contact_id, the last contact id queued), then schedules the next batch. The
alert's row is locked for the batch, so two workers running the job (or a job run twice) queue
one after the other, the second from where the first left off: nobody gets an alert twice.
Rows go in as bulk Core INSERTs, not one ORM object at a time: 100,000 people queue in about
15 seconds (bench/results/alerts.md). The outbox then sends them at the configured rate.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import Connection, Engine, Row, insert, text
from sqlmodel import Session

from bot.content.store import Content
from bot.content.templates import get_templates
from bot.conversation.channels import Channel
from bot.conversation.contacts import Direction, Message, utcnow
from bot.conversation.language import LANGUAGES, Lang
from bot.db import session_scope
from bot.messaging import scheduler
from bot.messaging.outbox import Outbox, Priority, Status
from bot.messaging.scheduler import Handler, Job
from bot.outreach.broadcast_audience import recipients
from bot.outreach.broadcasts import (
    JOB,
    KIND,
    TEMPLATE,
    Alert,
    AlertStatus,
    framed,
    locked,
    move,
    one_line,
    start_scheduled,
)
from bot.outreach.delivery import published
from bot.outreach.quiet_hours import next_send_time
from bot.settings import Settings, get_settings

log = logging.getLogger(__name__)

# People per transaction: large enough that 100,000 take a few dozen statements, small enough
# that a batch holds its locks for well under a second.
BATCH = 5000
_OUTBOX = Outbox.__table__  # type: ignore[attr-defined]
_MESSAGE = Message.__table__  # type: ignore[attr-defined]
_CODES = frozenset(str(lang) for lang in LANGUAGES)


@dataclass(frozen=True)
class Batch:
    queued: int
    done: bool  # nothing more to queue (all queued, or the alert was cancelled)


def queue_batch(session: Session, settings: Settings, *, alert_id: int, now: datetime,
                size: int = BATCH) -> Batch:
    """The next `size` people of a sending (or due scheduled) alert, queued in the caller's
    transaction; the last batch marks the alert sent. A scheduled alert whose audience grew
    over the threshold with one person's approval goes back for a second one instead."""
    alert = locked(session, alert_id)
    if alert.status == AlertStatus.SCHEDULED:
        start_scheduled(session, alert, threshold=settings.alert_approval_threshold, now=now)
    if alert.status != AlertStatus.SENDING:
        return Batch(0, done=True)  # cancelled, or awaiting approval: nothing goes
    rows = session.connection().execute(recipients(
        alert.audience, today=now.date(), after_id=alert.queued_up_to_contact_id,
        limit=size)).all()
    if rows:
        _insert(session, settings, alert, rows, now)
        alert.queued += len(rows)
        alert.queued_up_to_contact_id = rows[-1].id
    session.add(alert)
    done = len(rows) < size
    if done:
        move(session, alert, AlertStatus.SENT, staff_id=None,
             note=f"{alert.queued} messages queued")
    session.flush()
    log.info("alert %s: %s more queued", alert_id, len(rows))
    return Batch(len(rows), done)


class _Bodies:
    """Each (language, channel)'s message and each language's template variables, made once a
    batch rather than once a person."""

    def __init__(self, content: Content, texts: dict[str, str]) -> None:
        self.content, self.texts = content, texts
        self._bodies: dict[tuple[Lang, str], str] = {}
        self._variables: dict[Lang, dict[str, str]] = {}

    def body(self, language: Lang, channel: str) -> str:
        key = (language, channel)
        if key not in self._bodies:
            kind = Channel.SMS if channel == Channel.SMS else Channel.WHATSAPP
            self._bodies[key] = framed(self.content, language, self.texts[language], kind)
        return self._bodies[key]

    def variables(self, language: Lang, template_variables: Any) -> dict[str, str]:
        if language not in self._variables:
            self._variables[language] = template_variables(
                {"warning": one_line(self.content, self.texts[language])})
        return self._variables[language]


def _insert(session: Session, settings: Settings, alert: Alert, rows: Sequence[Row[Any]],
            now: datetime) -> None:
    """The conversation records first (their ids), then the outbox items that point at them."""
    bodies = _Bodies(published(session, settings), alert.texts)
    template = get_templates(settings.content_dir)[TEMPLATE]
    held: dict[str | None, datetime] = {}
    messages, items = [], []
    for row in rows:
        language = Lang(row.language) if row.language in _CODES else Lang.UR
        body = bodies.body(language, row.channel)
        if row.timezone not in held:
            held[row.timezone] = next_send_time(now, timezone=row.timezone,
                                                start=settings.quiet_hours_start,
                                                end=settings.quiet_hours_end)
        messages.append({"contact_id": row.id, "channel": row.channel, "body": body,
                         "direction": Direction.OUT, "language": language, "media": [],
                         "created_at": now})
        items.append({"contact_id": row.id, "alert_id": alert.id, "channel": row.channel,
                      "body": body, "language": language, "template_key": template.key,
                      "template_variables": bodies.variables(language, template.variables_for),
                      "priority": int(Priority.ALERT), "kind": KIND, "status": Status.QUEUED,
                      "attempts": 0, "next_attempt_at": held[row.timezone], "error": "",
                      "created_at": now})
    connection = session.connection()
    for item, message_id in zip(items, _insert_messages(connection, messages), strict=True):
        item["message_id"] = message_id
    connection.execute(insert(_OUTBOX), items)


def _insert_messages(connection: Connection, messages: list[dict[str, Any]]) -> list[int]:
    """The rows' ids, in order. PostgreSQL: ids taken from the sequence first, then a plain
    executemany; an INSERT ... RETURNING of thousands of rows spent most of a batch's time in
    the driver, parsing its placeholders (bench/results/alerts.md)."""
    if connection.dialect.name != "postgresql":
        return list(connection.execute(insert(_MESSAGE).returning(
            _MESSAGE.c.id, sort_by_parameter_order=True), messages).scalars().all())
    ids = list(connection.execute(_NEXT_IDS, {"n": len(messages)}).scalars().all())
    connection.execute(insert(_MESSAGE), [{**message, "id": message_id}
                                          for message, message_id in zip(messages, ids,
                                                                         strict=True)])
    return ids


_NEXT_IDS = text("SELECT nextval(pg_get_serial_sequence('message', 'id')) "
                 "FROM generate_series(1, :n)")


def queue_all(db: Engine, settings: Settings, *, alert_id: int, size: int = BATCH) -> int:
    """Every batch, each in its own transaction (what the job does over several runs);
    returns how many were queued now."""
    queued = 0
    while True:
        with session_scope(db) as session:
            batch = queue_batch(session, settings, alert_id=alert_id, now=utcnow(), size=size)
        queued += batch.queued
        if batch.done:
            return queued


def _run(settings: Settings, session: Session, job: Job) -> None:
    """One batch; the next is a job of its own, due at once (any worker may take it)."""
    batch = queue_batch(session, settings, alert_id=int(job.payload["alert_id"]), now=utcnow())
    if not batch.done:
        scheduler.schedule(session, kind=JOB, due_at=utcnow(), subject=job.subject,
                           payload=dict(job.payload))


def handlers(settings: Settings | None = None) -> dict[str, Handler]:
    return {JOB: partial(_run, settings or get_settings())}
