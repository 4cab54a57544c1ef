"""Messages sent outside a webhook reply (staff replies): queued, then sent with retries.

A reply is written to the outbox in the same transaction as the conversation record, and the
worker sends it through Twilio's REST API with exponential backoff, so a Twilio outage delays
a message but never loses it. Twilio's delivery callbacks update its status.
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlmodel import Field, Session, SQLModel, col, select

from bot.conversation.channels import Channel
from bot.conversation.contacts import Contact, Direction, Message, stored_id, utcnow
from bot.metrics import OUTBOX_FAILURES

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=15)
# WhatsApp: free-form messages only within 24 hours of the person's last message.
WHATSAPP_WINDOW = timedelta(hours=24)


class Outbox(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    message_id: int | None = Field(default=None, foreign_key="message.id")
    referral_id: int | None = Field(default=None, foreign_key="referral.id", index=True)
    channel: str = Field(max_length=16)
    body: str
    template_sid: str | None = Field(default=None, max_length=64)
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
            language: str | None = None) -> Outbox:
    """Record the outgoing message and queue it, in the caller's transaction."""
    contact_id = stored_id(contact)
    message = Message(contact_id=contact_id, channel=channel, direction=Direction.OUT,
                      body=body, language=language)
    session.add(message)
    session.flush()
    item = Outbox(contact_id=contact_id, message_id=message.id, referral_id=referral_id,
                  channel=channel, body=body, template_sid=template_sid)
    session.add(item)
    session.flush()
    return item


# (to, channel, body, template_sid) -> Twilio's message SID; raises on failure.
Sender = Callable[[str, str, str, str | None], str]


def send_due(session: Session, send: Sender, *, limit: int = 50) -> int:
    """Send what is due; failures are retried later with exponential backoff."""
    now = utcnow()
    query = (select(Outbox).where(Outbox.status == "queued", Outbox.next_attempt_at <= now)
             .order_by(col(Outbox.id)).limit(limit).with_for_update(skip_locked=True))
    sent = 0
    for item in session.exec(query).all():
        contact = session.get(Contact, item.contact_id)
        item.attempts += 1
        try:
            if contact is None:  # nobody to send to: fails like any other send, then gives up
                raise LookupError(f"contact {item.contact_id} no longer exists")
            item.sid = send(contact.phone, item.channel, item.body, item.template_sid)
        except Exception as error:  # any failure of Twilio or the network: retry later
            item.error = f"{type(error).__name__}: {error}"[:300]
            item.next_attempt_at = now + FIRST_RETRY * (2 ** (item.attempts - 1))
            if item.attempts >= MAX_ATTEMPTS:
                item.status = "failed"
            OUTBOX_FAILURES.inc()
            log.warning("outbox %s: send failed (attempt %s)", item.id, item.attempts)
            continue
        item.status, item.sent_at, item.error = "sent", now, ""
        message = session.get(Message, item.message_id) if item.message_id else None
        if message is not None:
            message.sid = item.sid
        sent += 1
    session.commit()
    return sent


def record_status(session: Session, *, sid: str, status: str, error: str = "") -> bool:
    """A delivery callback from Twilio: sent, delivered, read, undelivered, failed."""
    item = session.exec(select(Outbox).where(Outbox.sid == sid)).first()
    if item is None:
        return False
    item.status = status[:16]
    if error:
        item.error = error[:300]
    return True


def twilio_sender(account_sid: str, auth_token: str, *, sms_from: str | None,
                  whatsapp_from: str | None, api_base_url: str | None = None) -> Sender:
    from twilio.rest import Client

    client = Client(account_sid, auth_token)
    if api_base_url:  # a local stand-in for Twilio, in tests and benchmarks
        client.api.base_url = api_base_url

    def send(to: str, channel: str, body: str, template_sid: str | None) -> str:
        if channel == Channel.WHATSAPP:
            sender, recipient = whatsapp_from, f"whatsapp:{to}"
        else:
            sender, recipient = sms_from, to
        if not sender:
            raise RuntimeError(f"no sender number configured for {channel}")
        kwargs = {"content_sid": template_sid} if template_sid else {"body": body}
        return client.messages.create(to=recipient, from_=sender, **kwargs).sid

    return send
