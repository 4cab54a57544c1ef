"""Messages sent outside a webhook reply (staff replies): queued, then sent with retries.

A reply is written to the outbox in the same transaction as the conversation record, and the
worker sends it through Twilio's REST API with exponential backoff, so a Twilio outage delays
a message but never loses it. Twilio's delivery callbacks update its status.
"""

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum
from functools import partial

from sqlalchemy import JSON, Column, Engine, Index, bindparam, exists, update
from sqlalchemy import select as core_select
from sqlalchemy.orm import aliased
from sqlmodel import Field, Session, SQLModel, col, select

from bot.conversation.channels import Channel
from bot.conversation.contacts import Contact, Direction, Message, stored_id, utcnow
from bot.db import session_scope
from bot.metrics import OUTBOX_FAILURES

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=15)
# An item being sent is held this long; longer than any send (Twilio calls time out at 10 s),
# so an item still "sending" after it belonged to a worker that died, and is sent again.
CLAIM = timedelta(minutes=2)
# WhatsApp: free-form messages only within 24 hours of the person's last message.
WHATSAPP_WINDOW = timedelta(hours=24)


class Priority(IntEnum):
    """Lower goes first: an answer never waits behind a bulk of alerts or reminders."""

    REPLY = 0
    URGENT = 1
    CASE_UPDATE = 2
    ALERT = 3
    REMINDER = 4


class Outbox(SQLModel, table=True):
    __table_args__ = (Index("ix_outbox_due", "status", "priority", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    message_id: int | None = Field(default=None, foreign_key="message.id")
    referral_id: int | None = Field(default=None, foreign_key="referral.id", index=True)
    channel: str = Field(max_length=16)
    body: str
    template_sid: str | None = Field(default=None, max_length=64)
    # Outside WhatsApp's 24-hour window the worker sends this template (content/templates/)
    # instead of the body, with these numbered variables ({"1": ..., "2": ...}).
    template_key: str | None = Field(default=None, max_length=64)
    template_variables: dict[str, str] = Field(default_factory=dict,
                                               sa_column=Column(JSON, nullable=False))
    language: str | None = Field(default=None, max_length=8)
    priority: int = Field(default=Priority.REPLY)
    kind: str = Field(default="reply", max_length=24)  # reply, case_update, alert, reminder...
    status: str = Field(default="queued", max_length=16, index=True)  # sent/failed/delivered...
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, index=True)
    sid: str | None = Field(default=None, max_length=64, index=True)
    error: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


def last_inbound_at(session: Session, contact_id: int, channel: str) -> datetime | None:
    query = (select(Message.created_at)
             .where(Message.contact_id == contact_id, Message.direction == Direction.IN,
                    Message.channel == channel)
             .order_by(col(Message.id).desc()).limit(1))
    return session.exec(query).first()


def whatsapp_window_open(session: Session, contact_id: int) -> bool:
    last = last_inbound_at(session, contact_id, Channel.WHATSAPP)
    return last is not None and utcnow() - last < WHATSAPP_WINDOW


def enqueue(session: Session, *, contact: Contact, channel: str, body: str,
            referral_id: int | None = None, template_sid: str | None = None,
            language: str | None = None, reply_to_id: int | None = None,
            priority: Priority = Priority.REPLY, kind: str = "reply",
            not_before: datetime | None = None, template_key: str | None = None,
            template_variables: dict[str, str] | None = None) -> Outbox:
    """Record the outgoing message and queue it, in the caller's transaction. `reply_to_id`:
    the inbound message this answers (a bot answer too late for the webhook's TwiML).
    `not_before`: held until then (quiet hours). `template_key`: the WhatsApp template
    (content/templates/) sent instead of the body when the 24-hour window is closed."""
    contact_id = stored_id(contact)
    message = Message(contact_id=contact_id, channel=channel, direction=Direction.OUT,
                      body=body, language=language, reply_to_id=reply_to_id)
    session.add(message)
    session.flush()
    item = Outbox(contact_id=contact_id, message_id=message.id, referral_id=referral_id,
                  channel=channel, body=body, template_sid=template_sid, language=language,
                  priority=priority, kind=kind, template_key=template_key,
                  template_variables=template_variables or {},
                  next_attempt_at=not_before or utcnow())
    session.add(item)
    session.flush()
    return item


_work_waiting = threading.Event()


def wake_worker() -> None:
    """Something was queued in this process: the in-process worker sends it now, not at its
    next round (up to 10 s later)."""
    _work_waiting.set()


def wait_for_work(timeout: float) -> None:
    _work_waiting.wait(timeout)
    _work_waiting.clear()


# (to, channel, body, template_sid) -> Twilio's message SID; raises on failure.
Sender = Callable[[str, str, str, str | None], str]


@dataclass(frozen=True)
class _Claimed:
    id: int
    contact_id: int
    phone: str | None
    channel: str
    body: str
    template_sid: str | None


# Sends in flight at once. A send is a network round trip to Twilio (tens of milliseconds,
# little CPU): one at a time, a rush hour's late answers left at ~30 a second (bench/results/
# overload.md); Twilio's own limit is per sender number, far above this.
SEND_CONCURRENCY = 8
_SEND_POOL = ThreadPoolExecutor(max_workers=SEND_CONCURRENCY, thread_name_prefix="outbox-send")


def send_due(db: Engine, send: Sender, *, limit: int = 100) -> int:
    """Send what is due, oldest first and in order per person; failures are retried later with
    exponential backoff. Network calls happen between transactions, never inside one: on
    SQLite a transaction held across a slow Twilio call would stop every other writer.
    Different people's messages go out side by side; one person's, one after the other."""
    by_person: dict[int, list[_Claimed]] = {}
    for item in _claim_due(db, limit):
        by_person.setdefault(item.contact_id, []).append(item)
    if len(by_person) <= 1:
        return sum(_send_in_order(db, send, items) for items in by_person.values())
    return sum(_SEND_POOL.map(partial(_send_in_order, db, send), by_person.values()))


def _send_in_order(db: Engine, send: Sender, items: list[_Claimed]) -> int:
    """One person's claimed messages, oldest first; after a failure the rest are given back
    untried, to wait behind the failed one."""
    sent = 0
    for index, item in enumerate(items):
        try:
            if item.phone is None:  # nobody to send to: fails like any other send, then gives up
                raise LookupError("the contact no longer exists")
            sid, error = send(item.phone, item.channel, item.body, item.template_sid), None
        except Exception as failure:  # any failure of Twilio or the network: retry later
            sid, error = None, f"{type(failure).__name__}: {failure}"[:300]
        with session_scope(db) as session:
            sent += _record_attempt(session, item.id, sid, error)
            if sid is None:
                for later in items[index + 1:]:
                    _release(session, later.id)
        if sid is None:
            break
    return sent


def _claim_due(db: Engine, limit: int) -> list[_Claimed]:
    """Take due items for sending (status "sending" until CLAIM runs out, so a worker that
    dies mid-send gives them back). An item waits while an older one to the same person waits
    for a retry or is being sent: answers must not overtake each other. Older due ones come
    first in the same batch."""
    now = utcnow()
    older = aliased(Outbox)
    older_waiting = exists().where(
        col(older.contact_id) == col(Outbox.contact_id), col(older.id) < col(Outbox.id),
        col(older.status).in_(("queued", "sending")), col(older.next_attempt_at) > now)
    query = (select(Outbox, Contact.phone)
             .join(Contact, col(Contact.id) == col(Outbox.contact_id), isouter=True)
             .where(col(Outbox.status).in_(("queued", "sending")),
                    col(Outbox.next_attempt_at) <= now, ~older_waiting)
             .order_by(col(Outbox.id)).limit(limit)
             .with_for_update(skip_locked=True, of=Outbox))
    claimed = []
    with session_scope(db) as session:
        for item, phone in session.exec(query).all():
            item.status, item.next_attempt_at = "sending", now + CLAIM
            item.attempts += 1
            claimed.append(_Claimed(stored_id(item), item.contact_id, phone,
                                    item.channel, item.body, item.template_sid))
    return claimed


def _release(session: Session, item_id: int) -> None:
    """Give a claimed item back untried (an older message to the same person failed)."""
    item = session.get(Outbox, item_id)
    if item is not None:
        item.status, item.next_attempt_at, item.attempts = "queued", utcnow(), item.attempts - 1


def _record_attempt(session: Session, item_id: int, sid: str | None, error: str | None) -> int:
    if sid is not None:
        return _record_sent(session, item_id, sid)
    item = session.get(Outbox, item_id)
    if item is None:  # forgotten meanwhile (contact forget)
        return 0
    item.error = error or ""
    item.status = "failed" if item.attempts >= MAX_ATTEMPTS else "queued"
    item.next_attempt_at = utcnow() + FIRST_RETRY * (2 ** (item.attempts - 1))
    OUTBOX_FAILURES.inc()
    log.warning("outbox %s: send failed (attempt %s)", item.id, item.attempts)
    return 0


def _record_sent(session: Session, item_id: int, sid: str) -> int:
    """Two statements built once: in a rush every late answer passes here, and loading both
    rows through the ORM was a fifth of the web process's CPU (bench/results/overload.md)."""
    connection = session.connection()
    if connection.execute(_SENT, {"item_id": item_id, "sid": sid,
                                  "sent_at": utcnow()}).rowcount == 0:
        return 0  # forgotten meanwhile (contact forget)
    connection.execute(_SENT_MESSAGE, {"item_id": item_id, "sid": sid})
    return 1


_OUTBOX, _MESSAGE = Outbox.__table__, Message.__table__  # type: ignore[attr-defined]
_SENT = update(_OUTBOX).where(_OUTBOX.c.id == bindparam("item_id")).values(
    sid=bindparam("sid"), status="sent", sent_at=bindparam("sent_at"), error="")
# The conversation record's copy carries Twilio's SID too (delivery callbacks find it by it).
_SENT_MESSAGE = update(_MESSAGE).where(_MESSAGE.c.id == core_select(_OUTBOX.c.message_id).where(
    _OUTBOX.c.id == bindparam("item_id")).scalar_subquery()).values(sid=bindparam("sid"))


# Twilio's callbacks arrive out of order; a status only ever moves forward along this.
STATUS_ORDER = {"queued": 0, "accepted": 0, "sending": 1, "sent": 2, "failed": 3,
                "undelivered": 3, "delivered": 4, "read": 5}


def record_status(session: Session, *, sid: str, status: str, error: str = "") -> bool:
    """A delivery callback from Twilio: sent, delivered, read, undelivered, failed. A late
    callback never moves a message back (a "queued" after "sent" would send it twice)."""
    item = session.exec(select(Outbox).where(Outbox.sid == sid)).first()
    if item is None:
        return False
    status = status.lower()[:16]
    if STATUS_ORDER.get(status, -1) > STATUS_ORDER.get(item.status, -1):
        item.status = status
        if error:
            item.error = error[:300]
    return True


def twilio_sender(account_sid: str, auth_token: str, *, sms_from: str | None,
                  whatsapp_from: str | None, api_base_url: str | None = None,
                  timeout: float = 10.0) -> Sender:
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    # One client per sending thread: the library keeps a requests session, which is not
    # meant to be shared between threads.
    clients = threading.local()

    def client() -> Client:
        if not hasattr(clients, "client"):
            # The library's default is no timeout: one hung connection would stop the outbox.
            clients.client = Client(account_sid, auth_token,
                                    http_client=TwilioHttpClient(timeout=timeout))
            if api_base_url:  # a local stand-in for Twilio, in tests and benchmarks
                clients.client.api.base_url = api_base_url
        return clients.client

    def send(to: str, channel: str, body: str, template_sid: str | None) -> str:
        if channel == Channel.WHATSAPP:
            sender, recipient = whatsapp_from, f"whatsapp:{to}"
        else:
            sender, recipient = sms_from, to
        if not sender:
            raise RuntimeError(f"no sender number configured for {channel}")
        kwargs = {"content_sid": template_sid} if template_sid else {"body": body}
        return client().messages.create(to=recipient, from_=sender, **kwargs).sid

    return send
