"""Receiving a message: store it, answer it once, store the answer, deliver it once.

The inbound row is committed on its own before the engine runs, so a crash, a Rasa outage or a
bug in a flow can never lose what a person wrote. Twilio retries a delivery with the same
MessageSid (and idempotency token); the unique constraints make the second copy find the first,
and it gets the same reply instead of a second answer.

The copy that answers holds a lease on the message until its answer is stored. If that copy dies
(kill -9 mid-burst), a retried delivery or the worker's sweep takes the lease over and answers.

An answer goes back in the webhook's TwiML when it is ready within the reply budget; otherwise
the webhook acknowledges at once and the answer goes through the outbox. Which of the two
delivers is settled in the database, exactly once, so the answer may be worked out in another
process (`answering.py`): the webhook's `stop_waiting` and the answer's commit both update the
message's row, and whichever comes second sees what the first did. While a person's late answers
wait in the outbox, their next answers queue behind them, so replies never overtake each other.
"""

import logging
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import Connection, Row, bindparam, exists, insert, or_, update
from sqlalchemy import Engine as DbEngine
from sqlalchemy import select as core_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, func, select

from bot.conversation.channels import Channel
from bot.conversation.contacts import (
    Contact,
    Direction,
    Message,
    replies_to,
    stored_id,
    utcnow,
)
from bot.conversation.engine import Engine
from bot.conversation.language import Lang
from bot.conversation.nlu import NluResult
from bot.conversation.turn import InboundMessage, Media, OutboundMessage, Understanding
from bot.db import read_only
from bot.messaging.outbox import Outbox, enqueue, wake_worker
from bot.metrics import MESSAGES, RATE_LIMITED

log = logging.getLogger(__name__)

# How long a retried delivery waits for the first copy's answer before answering empty.
DUPLICATE_WAIT_SECONDS = 8.0
# The answering copy's hold on a message. Far above a normal answer (milliseconds to a few
# seconds); a copy that has not answered by then is taken to be dead.
LEASE = timedelta(seconds=30)
# The sweep answers what was left unanswered this recently; an older message would get an
# answer out of the blue, so it is left to the staff who see it in the transcript.
SWEEP_WINDOW = timedelta(hours=1)

_Model = TypeVar("_Model", bound=SQLModel)


@dataclass(frozen=True)
class Received:
    replies: list[OutboundMessage]
    duplicate: bool = False
    # The answer went (or goes) through the outbox, not in this response.
    late: bool = False


@dataclass(frozen=True)
class Accepted:
    """A stored inbound message, with what answering it needs to know."""

    message_id: int
    contact_id: int
    first_contact: bool
    over_limit: bool
    # The contact as it was when the message was stored: the NLU prefetch needs no lock.
    snapshot: dict = field(default_factory=dict)


def redact_phone(phone: str) -> str:
    """Enough to tell numbers apart in a log, not enough to call anyone."""
    return f"{phone[:4]}…{phone[-2:]}" if len(phone) > 6 else "…"


def receive(db: DbEngine, engine: Engine, inbound: InboundMessage) -> Received:
    """The whole path in one call (chat, simulator, evaluations): the answer is in the result."""
    accepted = accept(db, inbound, rate_limit=engine.rate_limit_per_minute)
    if accepted is None:
        return follow_duplicate(db, engine, inbound, wait=DUPLICATE_WAIT_SECONDS)
    return answer(db, engine, inbound, accepted)


def accept(db: DbEngine, inbound: InboundMessage, *, rate_limit: int,
           late: bool = False) -> Accepted | None:
    """Store the message (committed before anything else happens), or None when this
    delivery was seen before. `late`: the webhook will not wait for the answer (the outbox
    sends it)."""
    # NUL characters carry nothing in a message, and PostgreSQL cannot store them.
    inbound = replace(inbound, body=inbound.body.replace("\x00", ""))
    now = utcnow()
    try:
        with db.begin() as connection:
            contact = _contact_for(connection, inbound.phone, now)
            inserted = connection.execute(_INSERT_MESSAGE, {
                "contact_id": contact.id, "channel": str(inbound.channel),
                "direction": str(Direction.IN), "body": inbound.body, "sid": inbound.sid,
                "idempotency_token": inbound.idempotency_token, "created_at": now,
                "media": [{"url": m.url, "content_type": m.content_type} for m in inbound.media],
                "lease_until": now + LEASE,
                "gave_up_waiting_at": now if late else None}).inserted_primary_key
            if inserted is None:  # every dialect here reports the new row's key
                raise RuntimeError("the stored message's id was not reported")
            message_id = int(inserted[0])
            # Counted here, before the NLU: a flood costs one query per message, not a parse.
            over = _recent_inbound(connection, contact.id) > rate_limit
            first = contact.last_language is None and not contact.state
            snapshot = {"state": dict(contact.state or {}), "opted_out": contact.opted_out,
                        "chosen": contact.language, "previous": contact.last_language}
            return Accepted(message_id, contact.id, first, over, snapshot)
    except IntegrityError:
        if _find(db, inbound) is not None:
            log.info("duplicate delivery of %s from %s", inbound.sid, redact_phone(inbound.phone))
            return None
        raise


# The path every message takes is written in SQLAlchemy Core with statements built once: the
# ORM's per-statement work (building, cache keys, unit of work, identity map) was about half of
# the app's CPU per message (bench/results/cpu.md). Rarer paths keep the ORM.
_MESSAGE, _CONTACT, _OUTBOX = Message.__table__, Contact.__table__, Outbox.__table__  # type: ignore[attr-defined]
_CONTACT_BY_PHONE = core_select(_CONTACT.c.id, _CONTACT.c.language, _CONTACT.c.last_language,
                           _CONTACT.c.opted_out, _CONTACT.c.state).where(
    _CONTACT.c.phone == bindparam("phone"))
_INSERT_CONTACT = insert(_CONTACT)
_INSERT_MESSAGE = insert(_MESSAGE)
_RECENT_INBOUND = core_select(func.count()).select_from(_MESSAGE).where(
    _MESSAGE.c.contact_id == bindparam("contact_id"), _MESSAGE.c.direction == Direction.IN,
    _MESSAGE.c.created_at >= bindparam("since"))
_REPLY = _MESSAGE.alias("reply")
# The message's handled_at, and whether an answer to this person still waits in the outbox.
_ANSWER_STATE = core_select(
    _MESSAGE.c.handled_at,
    exists().where(_OUTBOX.c.contact_id == _MESSAGE.c.contact_id,
                   _OUTBOX.c.status.in_(("queued", "sending")),
                   _OUTBOX.c.message_id == _REPLY.c.id,
                   _REPLY.c.reply_to_id.is_not(None)).label("late_replies_waiting"),
).where(_MESSAGE.c.id == bindparam("message_id"))
# Returns whether the webhook gave up waiting: from here until the commit this answer holds the
# message's row, so the webhook's `_GIVE_UP` either came before (outbox) or finds it handled.
_MARK_HANDLED = update(_MESSAGE).where(_MESSAGE.c.id == bindparam("message_id")).values(
    handled_at=bindparam("handled_at"), lease_until=None, language=bindparam("language"),
    intent=bindparam("intent"), confidence=bindparam("confidence"), nlu=bindparam("nlu"),
).returning(_MESSAGE.c.gave_up_waiting_at)
_GIVE_UP = update(_MESSAGE).where(_MESSAGE.c.id == bindparam("message_id"),
                                  _MESSAGE.c.handled_at.is_(None)).values(
    gave_up_waiting_at=bindparam("now"))


def _contact_for(connection: Connection, phone: str, now: datetime) -> Row:
    """The contact writing from this number, created on their first message."""
    row = connection.execute(_CONTACT_BY_PHONE, {"phone": phone}).first()
    if row is not None:
        return row
    try:
        with connection.begin_nested():  # a first message racing another from the same phone
            connection.execute(_INSERT_CONTACT, {"phone": phone, "opted_out": False, "state": {},
                                                 "created_at": now, "updated_at": now})
    except IntegrityError:
        pass  # the other message created it
    return connection.execute(_CONTACT_BY_PHONE, {"phone": phone}).one()


def answer(db: DbEngine, engine: Engine, inbound: InboundMessage,
           accepted: Accepted) -> Received:
    """Answer a stored message once: for the TwiML, or through the outbox when the webhook
    has stopped waiting (`Received.late`)."""
    try:
        prefetched = None if accepted.over_limit else engine.prefetch(inbound,
                                                                      **accepted.snapshot)
        return _answer(db, engine, inbound, accepted, prefetched)
    except Exception:
        # The message is already safe in the database; the person still gets an answer.
        log.exception("engine failed on message %s", accepted.message_id)
        return _answer_with_error(db, engine, inbound, accepted)


def stop_waiting(db: DbEngine, message_id: int) -> list[OutboundMessage] | None:
    """The webhook stops waiting for an answer. None: the outbox will send it. Otherwise the
    answer was stored for the TwiML a moment ago, and here it is."""
    with db.begin() as connection:
        gave_up = connection.execute(_GIVE_UP, {"message_id": message_id, "now": utcnow()})
        if gave_up.rowcount == 1:
            return None
    with Session(read_only(db)) as session:
        return _twiml_replies(session, message_id)


def follow_duplicate(db: DbEngine, engine: Engine, inbound: InboundMessage, *,
                     wait: float) -> Received:
    """A second delivery of a stored message. The first copy's answer when it comes within
    `wait` (TwiML answers only: the outbox sends the others), nothing at once when the outbox
    will send it; if the first copy's lease ran out, it died: this copy takes over and
    answers."""
    deadline = time.monotonic() + wait
    while True:
        with Session(read_only(db)) as session:
            message = _find_in(session, inbound)
            if message is None:  # forgotten since (contact forget): nothing to repeat
                return Received([], duplicate=True)
            if message.handled_at:
                return Received(_twiml_replies(session, stored_id(message)), duplicate=True)
            expired = message.lease_until is None or message.lease_until < _naive_now(message)
            if message.gave_up_waiting_at is not None and not expired:
                # Acknowledged without its answer, which is being worked out for the outbox:
                # waiting would hold this request (in a rush, for up to `wait`) for nothing.
                return Received([], duplicate=True)
            message_id = stored_id(message)
        if expired:
            accepted = take_over(db, message_id, rate_limit=engine.rate_limit_per_minute,
                                 late=False)
            if accepted is not None:
                log.info("message %s: first copy's lease expired; answering it", message_id)
                return replace(answer(db, engine, inbound, accepted), duplicate=True)
        if time.monotonic() >= deadline:
            return Received([], duplicate=True)
        time.sleep(0.05)


def take_over(db: DbEngine, message_id: int, *, rate_limit: int,
              late: bool) -> Accepted | None:
    """Claim an unanswered message whose lease ran out; None when another copy has it.
    `late`: its answer goes through the outbox (the sweep), not a retry's TwiML."""
    now = utcnow()
    with Session(db, expire_on_commit=False) as session:
        claimed = session.execute(
            update(Message)
            .where(col(Message.id) == message_id, col(Message.handled_at).is_(None),
                   or_(col(Message.lease_until).is_(None), col(Message.lease_until) < now))
            .values(lease_until=now + LEASE, gave_up_waiting_at=now if late else None))
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            session.rollback()
            return None
        message = _stored(session, Message, message_id)
        contact = _stored(session, Contact, message.contact_id)
        accepted = Accepted(
            message_id, message.contact_id, contact.last_language is None,
            _recent_inbound(session.connection(), message.contact_id) > rate_limit,
            {"state": dict(contact.state or {}), "opted_out": contact.opted_out,
             "chosen": contact.language, "previous": contact.last_language})
        session.commit()
        return accepted


def answer_unanswered(db: DbEngine, engine: Engine, *, limit: int = 20) -> int:
    """The worker's sweep: stored messages nobody is answering (their copy died) are answered
    through the outbox. Returns how many."""
    now = utcnow()
    with Session(read_only(db)) as session:
        query = (select(Message.id).where(
            Message.direction == Direction.IN, col(Message.handled_at).is_(None),
            col(Message.lease_until).is_not(None), col(Message.lease_until) < now,
            Message.created_at >= now - SWEEP_WINDOW).order_by(col(Message.id)).limit(limit))
        candidates = [id_ for id_ in session.exec(query) if id_ is not None]
    answered = 0
    for message_id in candidates:
        accepted = take_over(db, message_id, rate_limit=engine.rate_limit_per_minute,
                             late=True)
        if accepted is None:
            continue
        answer(db, engine, _inbound_of(db, message_id), accepted)
        answered += 1
    return answered


def _inbound_of(db: DbEngine, message_id: int) -> InboundMessage:
    with Session(read_only(db)) as session:
        message = _stored(session, Message, message_id)
        contact = _stored(session, Contact, message.contact_id)
        return InboundMessage(
            phone=contact.phone, channel=Channel(message.channel), body=message.body,
            sid=message.sid, idempotency_token=message.idempotency_token,
            media=tuple(Media(m["url"], m["content_type"]) for m in message.media))


def _answer(db: DbEngine, engine: Engine, inbound: InboundMessage, accepted: Accepted,
            prefetched: NluResult | None) -> Received:
    with Session(db, expire_on_commit=False) as session:
        contact = _lock_contact(session, accepted.contact_id)
        handled, queue_behind = _answer_state(session, accepted.message_id)
        if handled:  # a copy whose lease we thought expired answered it meanwhile
            session.rollback()
            return Received([], duplicate=True)
        understanding = None
        if accepted.over_limit:
            replies = _rate_limit_notice(engine, contact)
        else:
            understanding, replies = engine.handle(session, contact, inbound,
                                                   first_contact=accepted.first_contact,
                                                   prefetched=prefetched)
            MESSAGES.labels(inbound.channel, str(understanding.language),
                            understanding.intent or "-").inc()
        return _deliver(session, contact, accepted.message_id, inbound.channel, replies,
                        queue_behind, understanding)


def _answer_state(session: Session, message_id: int) -> tuple[bool, bool]:
    """(answered already, this person's late answers still wait in the outbox), read under
    the contact lock: no other answer to this person can commit until this one does.
    Its own statement, after the lock: on PostgreSQL it then reads what was committed while
    this one waited."""
    row = session.connection().execute(_ANSWER_STATE, {"message_id": message_id}).first()
    if row is None:  # committed before the answer began: only a deletion since removes it
        raise LookupError(f"Message {message_id} is no longer in the database")
    return row.handled_at is not None, bool(row.late_replies_waiting)


def _deliver(session: Session, contact: Contact, message_id: int, channel: str,
             replies: list[OutboundMessage], queue_behind: bool,
             understanding: Understanding | None = None) -> Received:
    """Store the answer for the TwiML, or queue it in the outbox, and commit: exactly once.
    `queue_behind`: this person's earlier answers still wait in the outbox; this one follows
    them there, so replies never overtake each other."""
    connection = session.connection()
    contact_id = stored_id(contact)
    _save_contact(session, contact)
    gave_up_waiting_at = connection.execute(_MARK_HANDLED, {
        "message_id": message_id, "handled_at": utcnow(),
        "language": str(understanding.language) if understanding else None,
        "intent": understanding.intent if understanding else None,
        "confidence": understanding.confidence if understanding else None,
        "nlu": understanding.source if understanding else None}).scalar_one()
    late = gave_up_waiting_at is not None or queue_behind
    if late:
        for reply in replies:
            enqueue(session, contact=contact, channel=channel, body=reply.body,
                    language=str(reply.language), reply_to_id=message_id)
    elif replies:
        now = utcnow()
        connection.execute(_INSERT_MESSAGE, [
            {"contact_id": contact_id, "channel": channel, "direction": str(Direction.OUT),
             "body": reply.body, "reply_to_id": message_id, "language": str(reply.language),
             "media": [], "created_at": now} for reply in replies])
    session.commit()
    if late and replies:
        wake_worker()
    return Received(replies, late=late)


def _twiml_replies(session: Session, message_id: int) -> list[OutboundMessage]:
    """The answer as the TwiML carried it; replies the outbox sends are not repeated."""
    in_outbox = exists().where(col(Outbox.message_id) == col(Message.id))
    return [OutboundMessage(r.body, Lang(r.language or "en"))
            for r in replies_to(session, message_id, excluding=in_outbox)]


def _find(db: DbEngine, inbound: InboundMessage) -> Message | None:
    with Session(read_only(db)) as session:
        return _find_in(session, inbound)


def _find_in(session: Session, inbound: InboundMessage) -> Message | None:
    """The stored copy of this delivery: by MessageSid, or by Twilio's idempotency token."""
    keys = []
    if inbound.sid:
        keys.append(col(Message.sid) == inbound.sid)
    if inbound.idempotency_token:
        keys.append(col(Message.idempotency_token) == inbound.idempotency_token)
    if not keys:
        return None
    return session.exec(select(Message).where(Message.direction == Direction.IN,
                                              or_(*keys)).limit(1)).first()


def _naive_now(message: Message) -> datetime:
    """Now, comparable with a datetime read back from the database (SQLite drops the zone)."""
    now = utcnow()
    lease = message.lease_until
    return now.replace(tzinfo=None) if lease is not None and lease.tzinfo is None else now


def _recent_inbound(connection: Connection, contact_id: int) -> int:
    return connection.execute(_RECENT_INBOUND, {
        "contact_id": contact_id, "since": utcnow() - timedelta(minutes=1)}).scalar_one()


def _rate_limit_notice(engine: Engine, contact: Contact) -> list[OutboundMessage]:
    """The first message over the limit gets one polite notice; the rest, silence."""
    RATE_LIMITED.inc()
    noticed = contact.state.get("rate_notice_at")
    if noticed and utcnow() - datetime.fromisoformat(noticed) < timedelta(minutes=1):
        return []
    contact.state = {**contact.state, "rate_notice_at": utcnow().isoformat()}
    language = Lang(contact.language or contact.last_language or "ur-Latn")
    return [OutboundMessage(engine.content.text("rate_limited", language), language)]


def _answer_with_error(db: DbEngine, engine: Engine, inbound: InboundMessage,
                       accepted: Accepted) -> Received:
    with Session(db, expire_on_commit=False) as session:
        contact = _lock_contact(session, accepted.contact_id)
        handled, queue_behind = _answer_state(session, accepted.message_id)
        if handled:
            return Received([], duplicate=True)
        language = Lang(contact.language or contact.last_language or engine.understand(
            inbound.body, parse=False).language)
        replies = [OutboundMessage(engine.content.text("error", language), language)]
        return _deliver(session, contact, accepted.message_id, inbound.channel, replies,
                        queue_behind)


def _lock_contact(session: Session, contact_id: int) -> Contact:
    """Two messages from one person are answered one after the other, never interleaved.
    PostgreSQL: FOR NO KEY UPDATE, so storing this person's next message (which only takes
    a key-share lock on the contact) never waits for an answer in progress.

    Read with a Core statement into a Contact the session does not track (the ORM's load and
    flush were ~0.8 ms of CPU a message): `_save_contact` writes back what a turn may change."""
    row = session.connection().execute(_LOCK_CONTACT, {"contact_id": contact_id}).first()
    if row is None:  # committed before the answer began: only a deletion since removes it
        raise LookupError(f"Contact {contact_id} is no longer in the database")
    contact = Contact(**row._asdict())
    return contact


def _save_contact(session: Session, contact: Contact) -> None:
    """What the turn may have changed, in one statement built once (every turn changes the
    state or the time at least, so there is always something to write)."""
    session.connection().execute(_SAVE_CONTACT, {
        "contact_id": stored_id(contact), **{name: getattr(contact, name)
                                             for name in _TURN_CHANGES}})


_LOCK_CONTACT = core_select(_CONTACT).where(
    _CONTACT.c.id == bindparam("contact_id")).with_for_update(key_share=True)
# What a turn may change on the contact (the engine, the flows, the rate-limit notice).
_TURN_CHANGES = ("language", "last_language", "opted_out", "opted_out_at", "state", "updated_at",
                 "source_id", "district", "alerts_asked_at")
_SAVE_CONTACT = update(_CONTACT).where(_CONTACT.c.id == bindparam("contact_id")).values(
    **{name: bindparam(name) for name in _TURN_CHANGES})


def _stored(session: Session, model: type[_Model], id_: int, *, lock: bool = False) -> _Model:
    """A row accept() committed for this delivery: the message, or its contact."""
    row = session.get(model, id_, with_for_update={"key_share": True} if lock else None)
    if row is None:  # committed before the answer began: only a deletion since removes it
        raise LookupError(f"{model.__name__} {id_} is no longer in the database")
    return row
