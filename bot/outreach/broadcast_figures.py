"""What came of an alert: its outbox items by status (Twilio's delivery callbacks move them on:
sent, delivered, read, failed, undelivered), who opted out after it, who wrote back within 48
hours of it reaching them."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlmodel import Session

from bot.conversation.contacts import Contact, Direction, Message
from bot.messaging.outbox import Outbox, Status
from bot.outreach.consent import Consent, Topic

REPLY_WINDOW = timedelta(hours=48)
_OUTBOX = Outbox.__table__  # type: ignore[attr-defined]
_MESSAGE = Message.__table__  # type: ignore[attr-defined]
_CONSENT = Consent.__table__  # type: ignore[attr-defined]
_CONTACT = Contact.__table__  # type: ignore[attr-defined]
# Never reached the person: Twilio's failures and what was refused for good before it.
FAILED = frozenset({Status.FAILED, "undelivered", Status.INVALID_NUMBER, Status.WINDOW_CLOSED,
                    Status.NO_TEMPLATE})


@dataclass(frozen=True)
class Figures:
    queued: int  # outbox items made (one a person)
    waiting: int  # still queued or being sent (quiet hours, the sending rate)
    sent: int  # handed to Twilio
    delivered: int  # delivered or read
    read: int
    failed: int
    cancelled: int  # withdrawn by a cancel before they went
    opted_out: int  # sent STOP or "stop alerts" after it was queued (or before it went)
    replies: int  # people who wrote within 48 hours of it being sent


def figures(session: Session, alert_id: int) -> Figures:
    connection = session.connection()
    by_status: dict[str, int] = {}
    handed = 0
    for status, has_sid, number in connection.execute(
            select(_OUTBOX.c.status, _OUTBOX.c.sid.is_not(None), func.count())
            .where(_OUTBOX.c.alert_id == alert_id)
            .group_by(_OUTBOX.c.status, _OUTBOX.c.sid.is_not(None))):
        by_status[status] = by_status.get(status, 0) + number
        handed += number if has_sid else 0
    return Figures(
        queued=sum(by_status.values()),
        waiting=by_status.get(Status.QUEUED, 0) + by_status.get(Status.SENDING, 0),
        sent=handed,
        delivered=by_status.get("delivered", 0) + by_status.get("read", 0),
        read=by_status.get("read", 0),
        failed=sum(by_status.get(status, 0) for status in FAILED),
        cancelled=by_status.get(Status.CANCELLED, 0),
        opted_out=_people(session, alert_id, _opted_out()),
        replies=_people(session, alert_id, _replied(session)))


def _people(session: Session, alert_id: int, condition: ColumnElement[Any]) -> int:
    return int(session.connection().execute(
        select(func.count(func.distinct(_OUTBOX.c.contact_id)))
        .where(_OUTBOX.c.alert_id == alert_id, condition)).scalar_one())


def _opted_out() -> ColumnElement[Any]:
    said_no = exists().where(_CONSENT.c.contact_id == _OUTBOX.c.contact_id,
                             _CONSENT.c.topic == str(Topic.ALERTS),
                             _CONSENT.c.given.is_(False),
                             _CONSENT.c.created_at >= _OUTBOX.c.created_at)
    stopped = exists().where(_CONTACT.c.id == _OUTBOX.c.contact_id,
                             _CONTACT.c.opted_out.is_(True),
                             _CONTACT.c.opted_out_at >= _OUTBOX.c.created_at)
    return or_(_OUTBOX.c.status == Status.OPTED_OUT, said_no, stopped)


def _replied(session: Session) -> ColumnElement[Any]:
    sent_at = _OUTBOX.c.sent_at
    if session.get_bind().dialect.name == "sqlite":
        # Stored as text; SQLite's own date arithmetic (to the second: close enough here).
        until: Any = func.strftime("%Y-%m-%d %H:%M:%f", sent_at, "+48 hours")
    else:
        until = sent_at + REPLY_WINDOW
    return and_(sent_at.is_not(None), exists().where(
        _MESSAGE.c.contact_id == _OUTBOX.c.contact_id, _MESSAGE.c.direction == Direction.IN,
        _MESSAGE.c.created_at > sent_at, _MESSAGE.c.created_at <= until))
