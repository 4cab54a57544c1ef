"""Receiving a message: store it, answer it once, store the answer.

The inbound row is committed on its own before the engine runs, so a crash, a Rasa outage or a
bug in a flow can never lose what a person wrote. Twilio retries a delivery with the same
MessageSid; the unique constraint on `sid` makes the second copy find the first, and it gets the
same reply instead of a second answer.
"""

import logging
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import Engine as DbEngine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, func, select

from bot.conversation.contacts import (
    Contact,
    Direction,
    Message,
    find_inbound,
    get_or_create_contact,
    replies_to,
    stored_id,
    utcnow,
)
from bot.conversation.engine import Engine
from bot.conversation.language import Lang
from bot.conversation.nlu import NluResult
from bot.conversation.turn import InboundMessage, OutboundMessage
from bot.db import read_only, session_scope
from bot.metrics import MESSAGES, RATE_LIMITED

log = logging.getLogger(__name__)

# How long a retried delivery waits for the first copy's answer before answering empty.
DUPLICATE_WAIT_SECONDS = 8.0

_Model = TypeVar("_Model", bound=SQLModel)


@dataclass(frozen=True)
class Received:
    replies: list[OutboundMessage]
    duplicate: bool = False


def redact_phone(phone: str) -> str:
    """Enough to tell numbers apart in a log, not enough to call anyone."""
    return f"{phone[:4]}…{phone[-2:]}" if len(phone) > 6 else "…"


def receive(db: DbEngine, engine: Engine, inbound: InboundMessage) -> Received:
    # NUL characters carry nothing in a message, and PostgreSQL cannot store them.
    inbound = replace(inbound, body=inbound.body.replace("\x00", ""))
    stored = _store_inbound(db, inbound)
    if stored is None:
        return Received(_wait_for_replies(db, inbound.sid), duplicate=True)
    message_id, contact_id, first_contact, snapshot = stored
    try:
        prefetched = engine.prefetch(inbound, **snapshot)
        return Received(_answer(db, engine, inbound, message_id, contact_id, first_contact,
                                prefetched))
    except Exception:
        # The message is already safe in the database; the person still gets an answer.
        log.exception("engine failed on message %s", message_id)
        return Received(_answer_with_error(db, engine, inbound, message_id, contact_id))


def _store_inbound(db: DbEngine, inbound: InboundMessage) -> tuple[int, int, bool, dict] | None:
    """(message id, contact id, first contact?, what the NLU prefetch needs to know of the
    contact), or None when this sid was seen before."""
    try:
        with session_scope(db) as session:
            contact = get_or_create_contact(session, inbound.phone)
            session.flush()
            contact_id = stored_id(contact)
            first = contact.last_language is None and not contact.state
            message = Message(
                contact_id=contact_id, channel=inbound.channel, direction=Direction.IN,
                body=inbound.body, sid=inbound.sid,
                media=[{"url": m.url, "content_type": m.content_type} for m in inbound.media],
            )
            session.add(message)
            session.flush()
            snapshot = {"state": dict(contact.state or {}), "opted_out": contact.opted_out,
                        "chosen": contact.language, "previous": contact.last_language}
            return stored_id(message), contact_id, first, snapshot
    except IntegrityError:
        if inbound.sid and _exists(db, inbound.sid):
            log.info("duplicate delivery of %s from %s", inbound.sid, redact_phone(inbound.phone))
            return None
        raise


def _exists(db: DbEngine, sid: str) -> bool:
    with Session(read_only(db)) as session:
        return find_inbound(session, sid) is not None


def _answer(db: DbEngine, engine: Engine, inbound: InboundMessage, message_id: int,
            contact_id: int, first_contact: bool,
            prefetched: NluResult | None) -> list[OutboundMessage]:
    with session_scope(db) as session:
        contact = _lock_contact(session, contact_id)
        message = _stored(session, Message, message_id)
        if _over_limit(session, contact, engine.rate_limit_per_minute):
            message.handled_at = utcnow()
            return _rate_limit_notice(session, engine, contact, inbound, message_id)
        understanding, replies = engine.handle(session, contact, inbound,
                                               first_contact=first_contact,
                                               prefetched=prefetched)
        message.language = str(understanding.language)
        message.intent = understanding.intent
        message.confidence = understanding.confidence
        message.nlu = understanding.source
        message.handled_at = utcnow()
        MESSAGES.labels(inbound.channel, str(understanding.language),
                        understanding.intent or "-").inc()
        _store_replies(session, contact, inbound, message_id, replies)
        return replies


def _over_limit(session: Session, contact: Contact, limit: int) -> bool:
    since = utcnow() - timedelta(minutes=1)
    recent = session.exec(select(func.count()).select_from(Message).where(
        Message.contact_id == contact.id, Message.direction == Direction.IN,
        Message.created_at >= since)).one()
    return recent > limit


def _rate_limit_notice(session: Session, engine: Engine, contact: Contact,
                       inbound: InboundMessage, message_id: int) -> list[OutboundMessage]:
    """The first message over the limit gets one polite notice; the rest, silence."""
    RATE_LIMITED.inc()
    noticed = contact.state.get("rate_notice_at")
    if noticed and utcnow() - datetime.fromisoformat(noticed) < timedelta(minutes=1):
        return []
    contact.state = {**contact.state, "rate_notice_at": utcnow().isoformat()}
    language = Lang(contact.language or contact.last_language or "ur-Latn")
    replies = [OutboundMessage(engine.content.text("rate_limited", language), language)]
    _store_replies(session, contact, inbound, message_id, replies)
    return replies


def _answer_with_error(db: DbEngine, engine: Engine, inbound: InboundMessage, message_id: int,
                       contact_id: int) -> list[OutboundMessage]:
    with session_scope(db) as session:
        contact = _stored(session, Contact, contact_id)
        language = Lang(contact.language or contact.last_language or engine.understand(
            inbound.body, parse=False).language)
        replies = [OutboundMessage(engine.content.text("error", language), language)]
        _stored(session, Message, message_id).handled_at = utcnow()
        _store_replies(session, contact, inbound, message_id, replies)
        return replies


def _lock_contact(session: Session, contact_id: int) -> Contact:
    """Two messages from one person are answered one after the other, never interleaved."""
    return _stored(session, Contact, contact_id, lock=True)


def _stored(session: Session, model: type[_Model], id_: int, *, lock: bool = False) -> _Model:
    """A row _store_inbound committed for this delivery: the message, or its contact."""
    row = session.get(model, id_, with_for_update=lock)
    if row is None:  # committed before the answer began: only a deletion since removes it
        raise LookupError(f"{model.__name__} {id_} is no longer in the database")
    return row


def _store_replies(session: Session, contact: Contact, inbound: InboundMessage, message_id: int,
                   replies: list[OutboundMessage]) -> None:
    for reply in replies:
        session.add(Message(contact_id=stored_id(contact), channel=inbound.channel,
                            direction=Direction.OUT, body=reply.body, reply_to_id=message_id,
                            language=str(reply.language)))


def _wait_for_replies(db: DbEngine, sid: str | None) -> list[OutboundMessage]:
    """The first copy may still be answering: wait a little for its reply, then repeat it."""
    deadline = time.monotonic() + DUPLICATE_WAIT_SECONDS
    while True:
        with Session(read_only(db)) as session:
            inbound = find_inbound(session, sid) if sid else None
            replies = replies_to(session, stored_id(inbound)) if inbound else []
            if (inbound and inbound.handled_at) or time.monotonic() >= deadline:
                return [OutboundMessage(r.body, Lang(r.language or "en")) for r in replies]
        time.sleep(0.05)
