"""The worker's side of the outbox: claim what is due, pace it to each sender number's rate,
send it (on WhatsApp outside the 24-hour window, its approved template), record what came of it.

Several workers share the queue. A claim is one statement with FOR UPDATE SKIP LOCKED on
PostgreSQL (each worker takes rows no other holds); on SQLite every write transaction starts
with BEGIN IMMEDIATE (bot/db.py), so claims are taken one after the other. Either way an item is
claimed once, and a claimed item is "sending" until CLAIM runs out (a worker that died mid-send
gives it back). Network calls happen between transactions, never inside one: on SQLite a
transaction held across a slow Twilio call would stop every other writer.
"""

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache, partial
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    and_,
    bindparam,
    exists,
    func,
    insert,
    null,
    or_,
    text,
    update,
)
from sqlalchemy import select as core_select
from sqlmodel import Session

from bot.conversation.channels import Channel
from bot.conversation.contacts import Contact, Direction, Message, utcnow
from bot.db import session_scope
from bot.messaging.outbox import (
    CLAIM,
    FIRST_RETRY,
    MAX_ATTEMPTS,
    REPLY,
    STAFF_REPLY,
    WHATSAPP_WINDOW,
    Outbox,
    Sender,
    Status,
)
from bot.messaging.rate import Pacer, Unpaced
from bot.messaging.templates import approved_templates
from bot.messaging.twilio import Refusal, Refused
from bot.metrics import OUTBOX_FAILURES

log = logging.getLogger(__name__)

# Sends in flight at once. A send is a network round trip to Twilio (tens of milliseconds,
# little CPU): one at a time, a rush hour's late answers left at ~30 a second (bench/results/
# overload.md). Different people's messages go side by side, one person's one after the other.
SEND_CONCURRENCY = 8
_SEND_POOL = ThreadPoolExecutor(max_workers=SEND_CONCURRENCY, thread_name_prefix="outbox-send")
CHANNELS = (Channel.WHATSAPP, Channel.SMS)


@dataclass(frozen=True)
class Claimed:
    id: int
    contact_id: int
    phone: str | None
    channel: str
    body: str
    kind: str
    priority: int
    language: str | None
    template_key: str | None
    template_variables: dict[str, str]
    template_sid: str | None
    window_open: bool  # WhatsApp: the person wrote within 24 hours


@dataclass(frozen=True)
class Outcome:
    sid: str | None = None  # sent: Twilio's message SID
    content_sid: str | None = None  # ... as this template
    final: str | None = None  # never sent and never retried: this status
    error: str = ""  # else a failure worth retrying


Approved = dict[tuple[str, str], str]
Queue = list[tuple[float, Claimed]]  # one person's claimed items, each with its sending slot


def send_due(db: Engine, send: Sender, *, limit: int = 100,
             pacer: Pacer | Unpaced | None = None) -> int:
    """Sends what is due, replies before bulk (priority, then age), each person's in order, at
    most `pacer`'s rate per sender number; returns how many went. Failures are retried later
    with exponential backoff; what Twilio refuses for good is marked and left."""
    pacer = pacer or Unpaced()
    started = time.monotonic()
    with Session(db) as session:
        approved = approved_templates(session)
    size = pacer.claim_size(limit)
    queues, full = _claim_and_pace(db, send, pacer, size)
    if len(queues) <= 1:
        sent = sum(_send_in_order(db, send, pacer, approved, queue) for queue in queues)
    else:
        sent = sum(_SEND_POOL.map(partial(_send_in_order, db, send, pacer, approved), queues))
    pacer.observe(sum(map(len, queues)), time.monotonic() - started, full=full)
    return sent


def _claim_and_pace(db: Engine, send: Sender, pacer: Pacer | Unpaced,
                    size: int) -> tuple[list[Queue], bool]:
    """Per channel (a sender number each): claim up to `size`, reserve that many slots. Slots
    go person by person, so one person's messages take consecutive slots; the people are sent
    in the order of their first slot. Also whether a claim came back full (a backlog)."""
    by_person: dict[int, Queue] = {}
    address = getattr(send, "address", str)  # a test's plain function: the channel's name
    full = False
    for channel in CHANNELS:
        claimed = _claim_due(db, channel, size)
        full = full or len(claimed) == size
        grouped: dict[int, list[Claimed]] = {}
        for item in claimed:
            grouped.setdefault(item.contact_id, []).append(item)
        ordered = [item for items in grouped.values() for item in items]
        for slot, item in zip(pacer.reserve(address(channel), len(ordered)), ordered,
                              strict=True):
            by_person.setdefault(item.contact_id, []).append((slot, item))
    for queue in by_person.values():
        queue.sort(key=lambda pair: (pair[1].priority, pair[1].id))
    return sorted(by_person.values(), key=lambda queue: min(slot for slot, _ in queue)), full


def _send_in_order(db: Engine, send: Sender, pacer: Pacer | Unpaced, approved: Approved,
                   queue: Queue) -> int:
    """One person's claimed messages in order; after a failure worth retrying the rest are
    given back untried, to wait behind it."""
    sent = 0
    for index, (slot, item) in enumerate(queue):
        pacer.wait_until(slot)
        outcome = deliver(send, item, approved)
        if outcome.sid is not None and _in_one_statement(db, item, outcome):
            sent += _record_sent_in_one_statement(db, item.id, outcome)
            continue
        retry = outcome.sid is None and outcome.final is None
        # Core on a bare connection: at bulk rates every message passes here, and a Session
        # per record cost a third of the recording's CPU.
        with db.begin() as connection:
            sent += _record(connection, item, outcome)
            if retry:
                for _slot, later in queue[index + 1:]:
                    _release(connection, later.id)
        if retry:
            break
    return sent


def deliver(send: Sender, item: Claimed, approved: Approved) -> Outcome:
    """One attempt: free text, or on WhatsApp outside the window the approved template for
    (template_key, language); what came of it."""
    if item.phone is None:  # nobody to send to: fails like any other send, then gives up
        return Outcome(error="LookupError: the contact no longer exists")
    content_sid = item.template_sid or approved.get((item.template_key or "",
                                                     item.language or ""))
    try:
        if item.channel == Channel.WHATSAPP and (item.template_sid or not item.window_open):
            return _as_template(send, item.phone, item, content_sid)
        try:
            return Outcome(sid=send(item.phone, item.channel, item.body))
        except Refused as refused:
            if refused.refusal != Refusal.WINDOW_CLOSED:
                raise
            # Our clock said the window was open; WhatsApp's says not (it has the last word).
            return _as_template(send, item.phone, item, content_sid)
    except Refused as refused:
        return Outcome(final=refused.refusal.value, error=str(refused))
    except Exception as failure:  # Twilio down, a 5xx, the network: retried later
        return Outcome(error=f"{type(failure).__name__}: {failure}"[:300])


def _as_template(send: Sender, phone: str, item: Claimed, content_sid: str | None) -> Outcome:
    if not content_sid:
        final = Status.NO_TEMPLATE if item.template_key else Status.WINDOW_CLOSED
        return Outcome(final=final, error="WhatsApp's 24-hour window is closed and there is no "
                       f"approved template {item.template_key or '(none asked for)'} "
                       f"[{item.language}]")
    sid = send(phone, item.channel, item.body, content_sid=content_sid,
               content_variables=item.template_variables)
    return Outcome(sid=sid, content_sid=content_sid)


_OUTBOX = Outbox.__table__  # type: ignore[attr-defined]
_MESSAGE = Message.__table__  # type: ignore[attr-defined]
_CONTACT = Contact.__table__  # type: ignore[attr-defined]
# Written out, not bound: the planners of both databases use the partial index ix_outbox_claim
# only for a condition they can see implies its own.
_CLAIMABLE = text("outbox.status IN ('queued', 'sending')")


def _claim_query(channel: str, limit: int, now: datetime):  # noqa: ANN202 (a Core select)
    older = _OUTBOX.alias("older")
    # Order per person where it matters: an older item of the same or a higher priority that
    # is being sent, or waits for a retry, holds this one back. One merely held until later
    # (quiet hours: never tried yet) does not: a reply overtakes a held reminder.
    older_waiting = exists().where(
        older.c.contact_id == _OUTBOX.c.contact_id, older.c.id < _OUTBOX.c.id,
        older.c.priority <= _OUTBOX.c.priority, older.c.next_attempt_at > now,
        or_(older.c.status == Status.SENDING,
            and_(older.c.status == Status.QUEUED, older.c.attempts > 0)))
    last_in: ColumnElement[Any] = null()
    if channel == Channel.WHATSAPP:
        last_in = core_select(func.max(_MESSAGE.c.created_at)).where(
            _MESSAGE.c.contact_id == _OUTBOX.c.contact_id,
            _MESSAGE.c.direction == Direction.IN,
            _MESSAGE.c.channel == Channel.WHATSAPP).scalar_subquery()
    return (core_select(_OUTBOX.c.id, _OUTBOX.c.contact_id, _OUTBOX.c.channel, _OUTBOX.c.body,
                        _OUTBOX.c.kind, _OUTBOX.c.priority, _OUTBOX.c.language,
                        _OUTBOX.c.template_key, _OUTBOX.c.template_variables,
                        _OUTBOX.c.template_sid, _CONTACT.c.phone, _CONTACT.c.opted_out,
                        last_in.label("last_in"))
            .select_from(_OUTBOX.outerjoin(_CONTACT, _CONTACT.c.id == _OUTBOX.c.contact_id))
            .where(_OUTBOX.c.channel == channel, _CLAIMABLE, _OUTBOX.c.next_attempt_at <= now,
                   ~older_waiting)
            .order_by(_OUTBOX.c.priority, _OUTBOX.c.id).limit(limit)
            .with_for_update(skip_locked=True, of=_OUTBOX))


def _claim_due(db: Engine, channel: str, limit: int) -> list[Claimed]:
    """Takes due items of one channel for sending. An item for a person who opted out is
    marked and left, unless it is a reply to what they wrote (STOP's confirmation)."""
    now = utcnow()
    with session_scope(db) as session:
        connection = session.connection()
        connection.execute(_RELEASE_HELD, {"now": now, "held_channel": channel})
        rows = connection.execute(_claim_query(channel, limit, now)).all()
        skipped = [row.id for row in rows if row.opted_out and row.kind != REPLY]
        taken = [row for row in rows if row.id not in skipped]
        if skipped:
            connection.execute(update(_OUTBOX).where(_OUTBOX.c.id.in_(skipped)).values(
                status=Status.OPTED_OUT, error="the person opted out (STOP)"))
        if taken:
            connection.execute(update(_OUTBOX).where(
                _OUTBOX.c.id.in_([row.id for row in taken])).values(
                status=Status.SENDING, next_attempt_at=now + CLAIM,
                attempts=_OUTBOX.c.attempts + 1))
    return [Claimed(row.id, row.contact_id, row.phone, row.channel, row.body, row.kind,
                    row.priority, row.language, row.template_key,
                    dict(row.template_variables or {}), row.template_sid,
                    row.last_in is not None and now - row.last_in < WHATSAPP_WINDOW)
            for row in taken]


# A staff reply whose template went out is held (awaiting_reply) until the person writes on
# that channel after it: then the window is open and the reply itself can go.
_RELEASE_HELD = update(_OUTBOX).where(
    _OUTBOX.c.status == Status.AWAITING_REPLY, _OUTBOX.c.channel == bindparam("held_channel"),
    exists().where(_MESSAGE.c.contact_id == _OUTBOX.c.contact_id,
                   _MESSAGE.c.direction == Direction.IN,
                   _MESSAGE.c.channel == _OUTBOX.c.channel,
                   _MESSAGE.c.created_at > _OUTBOX.c.created_at),
).values(status=Status.QUEUED, next_attempt_at=bindparam("now"))


def _release(connection: Connection, item_id: int) -> None:
    """Give a claimed item back untried (an older message to the same person failed)."""
    connection.execute(update(_OUTBOX).where(_OUTBOX.c.id == item_id).values(
        status=Status.QUEUED, next_attempt_at=utcnow(), attempts=_OUTBOX.c.attempts - 1))


def _record(connection: Connection, item: Claimed, outcome: Outcome) -> int:
    if outcome.sid is not None:
        return _record_sent(connection, item, outcome.sid, outcome.content_sid)
    if outcome.final is not None:
        _record_refused(connection, item, outcome.final, outcome.error)
        return 0
    _record_retry(connection, item.id, outcome.error)
    return 0


def _record_refused(connection: Connection, item: Claimed, status: str, error: str) -> None:
    connection.execute(update(_OUTBOX).where(_OUTBOX.c.id == item.id).values(
        status=status, error=error[:300], next_attempt_at=utcnow()))
    if status == Status.OPTED_OUT:  # Twilio's record of a STOP: ours agrees from now on
        connection.execute(update(_CONTACT).where(
            _CONTACT.c.id == item.contact_id, _CONTACT.c.opted_out.is_(False)).values(
            opted_out=True, opted_out_at=utcnow()))
    log.info("outbox %s: not sent, %s", item.id, status)


def _record_retry(connection: Connection, item_id: int, error: str) -> None:
    attempts = connection.execute(core_select(_OUTBOX.c.attempts).where(
        _OUTBOX.c.id == item_id)).scalar()
    if attempts is None:  # forgotten meanwhile (contact forget)
        return
    connection.execute(update(_OUTBOX).where(_OUTBOX.c.id == item_id).values(
        error=error, status=Status.FAILED if attempts >= MAX_ATTEMPTS else Status.QUEUED,
        next_attempt_at=utcnow() + FIRST_RETRY * (2 ** (attempts - 1))))
    OUTBOX_FAILURES.inc()
    log.warning("outbox %s: send failed (attempt %s)", item_id, attempts)


def _record_sent(connection: Connection, item: Claimed, sid: str,
                 content_sid: str | None) -> int:
    """Statements built once: in a rush every late answer passes here, and loading both
    rows through the ORM was a fifth of the web process's CPU (bench/results/overload.md)."""
    if connection.execute(_SENT, {"item_id": item.id, "sid": sid, "sent_at": utcnow(),
                                  "template_sid": content_sid}).rowcount == 0:
        return 0  # forgotten meanwhile (contact forget)
    connection.execute(_SENT_MESSAGE, {"item_id": item.id, "sid": sid})
    if content_sid and item.kind == STAFF_REPLY:
        _hold_reply_body(connection, item.id)
    return 1


_HELD_FIELDS = ("contact_id", "message_id", "referral_id", "channel", "body", "language",
                "priority", "kind")


def _hold_reply_body(connection: Connection, item_id: int) -> None:
    """The template only said a caseworker replied: the reply itself waits for the person."""
    sent = connection.execute(core_select(*(_OUTBOX.c[name] for name in _HELD_FIELDS)).where(
        _OUTBOX.c.id == item_id)).mappings().first()
    if sent is not None:
        now = utcnow()
        connection.execute(insert(_OUTBOX).values(
            **sent, status=Status.AWAITING_REPLY, template_variables={}, attempts=0,
            next_attempt_at=now, error="", created_at=now))


def _in_one_statement(db: Engine, item: Claimed, outcome: Outcome) -> bool:
    """PostgreSQL records a plain sent message in one statement outside a transaction: one
    round trip instead of four (BEGIN, two UPDATEs, COMMIT), which at bulk rates was most of
    the database's work. A staff reply sent as its template also holds its body back: that
    takes a transaction."""
    return db.dialect.name == "postgresql" and not (outcome.content_sid
                                                    and item.kind == STAFF_REPLY)


@lru_cache
def _autocommit(db: Engine) -> Engine:
    return db.execution_options(isolation_level="AUTOCOMMIT")


def _record_sent_in_one_statement(db: Engine, item_id: int, outcome: Outcome) -> int:
    with _autocommit(db).connect() as connection:
        return int(connection.execute(_SENT_AT_ONCE, {
            "item_id": item_id, "sid": outcome.sid, "sent_at": utcnow(),
            "template_sid": outcome.content_sid}).scalar_one())


_SENT = update(_OUTBOX).where(_OUTBOX.c.id == bindparam("item_id")).values(
    sid=bindparam("sid"), status=Status.SENT, sent_at=bindparam("sent_at"), error="",
    template_sid=bindparam("template_sid"))
# The conversation record's copy carries Twilio's SID too (delivery callbacks find it by it).
_SENT_MESSAGE = update(_MESSAGE).where(_MESSAGE.c.id == core_select(_OUTBOX.c.message_id).where(
    _OUTBOX.c.id == bindparam("item_id")).scalar_subquery()).values(sid=bindparam("sid"))
# PostgreSQL: both at once, atomic as one statement; how many outbox rows it marked (0: the
# item was forgotten meanwhile, contact forget).
_SENT_AT_ONCE = text("""
WITH sent AS (
    UPDATE outbox SET sid = :sid, status = 'sent', sent_at = :sent_at, error = '',
                      template_sid = :template_sid
    WHERE id = :item_id RETURNING message_id
), record AS (
    UPDATE message SET sid = :sid FROM sent WHERE message.id = sent.message_id
)
SELECT count(*) FROM sent""")
