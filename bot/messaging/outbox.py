"""Messages sent outside a webhook reply (staff replies, late answers, case updates, alerts,
reminders): queued here, then sent by the worker (bot/messaging/sending.py) with retries.

A message is written to the outbox in the same transaction as the conversation record, and the
worker sends it through Twilio's REST API with exponential backoff, so a Twilio outage delays
a message but never loses it. Twilio's delivery callbacks update its status. On WhatsApp,
outside the 24-hour window, the worker sends the item's approved template instead of its body.
"""

import logging
import threading
from datetime import datetime, timedelta
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import JSON, Column, Engine, Index, text
from sqlmodel import Field, Session, SQLModel, col, select

from bot.conversation.channels import Channel
from bot.conversation.contacts import Contact, Direction, Message, stored_id, utcnow
from bot.messaging.templates import approved_sid
from bot.messaging.twilio import Refusal, refusal_for
from bot.messaging.twilio import twilio_sender as twilio_sender  # its old home: re-exported

if TYPE_CHECKING:
    from bot.messaging.rate import Pacer, Unpaced

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


class Status(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"  # claimed by a worker until next_attempt_at
    SENT = "sent"  # then Twilio's callbacks: delivered, read, failed, undelivered
    FAILED = "failed"  # retried MAX_ATTEMPTS times
    # Never sent and never retried:
    OPTED_OUT = "opted_out"  # the person said STOP (here, or to Twilio: 21610)
    INVALID_NUMBER = "invalid_number"  # Twilio 21211, 21614
    WINDOW_CLOSED = "window_closed"  # WhatsApp, outside 24 hours, and no template asked for
    NO_TEMPLATE = "no_template"  # ... a template asked for, but none approved in its language
    # A staff reply's body, held after its template went out, until the person writes back.
    AWAITING_REPLY = "awaiting_reply"
    CANCELLED = "cancelled"  # withdrawn before it was sent (an alert cancelled midway)


# The one kind an opted-out person still gets: the bot's answer to what they wrote (STOP's own
# confirmation among them).
REPLY = "reply"
# A caseworker's free reply: outside the window its template only says a reply is waiting (Meta
# approves no template carrying free text); the reply itself follows when the person writes.
STAFF_REPLY = "staff_reply"


class Outbox(SQLModel, table=True):
    __table_args__ = (
        Index("ix_outbox_due", "status", "priority", "next_attempt_at"),
        # The claim's order among what may be sent: by channel (each has its own sender and
        # rate), then priority, then age. Partial: sent items are most of the table.
        Index("ix_outbox_claim", "channel", "priority", "id",
              postgresql_where=text("status IN ('queued', 'sending')"),
              sqlite_where=text("status IN ('queued', 'sending')")),
    )

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    message_id: int | None = Field(default=None, foreign_key="message.id")
    referral_id: int | None = Field(default=None, foreign_key="referral.id", index=True)
    alert_id: int | None = Field(default=None, foreign_key="alert.id", index=True)
    channel: str = Field(max_length=16)
    body: str
    # The Content SID (a WhatsApp template) it is sent with, or was sent with.
    template_sid: str | None = Field(default=None, max_length=64)
    # Outside WhatsApp's 24-hour window the worker sends this template (content/templates/)
    # instead of the body, with these numbered variables ({"1": ..., "2": ...}).
    template_key: str | None = Field(default=None, max_length=64)
    template_variables: dict[str, str] = Field(default_factory=dict,
                                               sa_column=Column(JSON, nullable=False))
    language: str | None = Field(default=None, max_length=8)
    priority: int = Field(default=Priority.REPLY)
    kind: str = Field(default=REPLY, max_length=24)  # reply, staff_reply, case_update, alert...
    status: str = Field(default=Status.QUEUED, max_length=16, index=True)
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
    (content/templates/) sent instead of the body when the 24-hour window is closed.
    To a person who opted out, only a reply (kind "reply") is queued; anything else is
    recorded as not sent (status opted_out)."""
    contact_id = stored_id(contact)
    message = Message(contact_id=contact_id, channel=channel, direction=Direction.OUT,
                      body=body, language=language, reply_to_id=reply_to_id)
    session.add(message)
    session.flush()
    item = Outbox(contact_id=contact_id, message_id=message.id, referral_id=referral_id,
                  channel=channel, body=body, template_sid=template_sid, language=language,
                  priority=priority, kind=kind, template_key=template_key,
                  template_variables=template_variables or {},
                  next_attempt_at=not_before or utcnow(),
                  status=Status.OPTED_OUT if contact.opted_out and kind != REPLY
                  else Status.QUEUED)
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


class Sender(Protocol):
    """Sends one message (a template when `content_sid` is given); returns Twilio's message
    SID. Raises bot.messaging.twilio.Refused when Twilio says it never will, anything else on
    a failure worth retrying. bot/messaging/twilio.py's TwilioSender is the real one."""

    def __call__(self, to: str, channel: str, body: str, *, content_sid: str | None = None,
                 content_variables: dict[str, str] | None = None) -> str: ...


def send_due(db: Engine, send: Sender, *, limit: int = 100,
             pacer: "Pacer | Unpaced | None" = None) -> int:
    """Sends what is due: bot/messaging/sending.py (the worker's side of the queue)."""
    from bot.messaging.sending import send_due as send_due_now  # it imports this module

    return send_due_now(db, send, limit=limit, pacer=pacer)


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
            if status in ("failed", "undelivered") and \
                    refusal_for(error) == Refusal.WINDOW_CLOSED:
                _send_template_instead(session, item)
    return True


def _send_template_instead(session: Session, item: Outbox) -> None:
    """WhatsApp found the window closed after Twilio took the free text (error 63016 comes in
    the callback): the same item again, as its template, or marked if it has none."""
    if item.template_sid:  # it went as a template already: nothing else to try
        return
    content_sid = approved_sid(session, item.template_key, item.language or "") \
        if item.template_key else None
    if content_sid is None:
        item.status = Status.NO_TEMPLATE if item.template_key else Status.WINDOW_CLOSED
        return
    # A later callback about the refused message must not find (and move) the new attempt.
    item.sid, item.template_sid = None, content_sid
    item.status, item.next_attempt_at = Status.QUEUED, utcnow()


