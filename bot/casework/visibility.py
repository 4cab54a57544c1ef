"""Which messages of a person's conversation belong to which of their cases.

One person can have complaints at two centres; a caseworker at one must not read the other
centre's intake, the worker's answers to that centre's staff, or that staff's replies. Messages
carry no referral id, so ownership is worked out from the conversation's shape:

1. a staff reply belongs to the case it was sent from (its outbox row has the referral id);
2. an intake belongs to the case it filed: the messages from just after the previous filing
   (or after the last silence longer than an intake can pause, 24 hours) up to the message
   whose answer created the referral or joined it (an event by "worker"), with its replies;
3. after that, the person's messages belong to the case they were last talking about: the
   latest filing or staff reply before them;
4. what comes before any intake belongs to no case: every colleague may read it.
A bot reply belongs wherever the message it answers belongs.

When in doubt a message is given to a case, never to nobody: a case hides it only from
colleagues of other centres (admins see everything), while "no case" shows it to all of them.
"""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from bot.casework.referrals import Referral, ReferralEvent
from bot.conversation.contacts import Direction, Message
from bot.messaging.outbox import Outbox

# An intake untouched this long is forgotten (complaint.RESUME_WINDOW), so a silence this
# long in the conversation cannot lie inside one intake.
INTAKE_PAUSE_LIMIT = timedelta(hours=24)
# ReferralEvent.actor of the events the worker's own messages caused: created, joined.
WORKER = "worker"

Owners = dict[int, int | None]  # message id -> referral id (None: belongs to no case)


def _utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes, PostgreSQL aware ones: compare them as naive UTC."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _filing_index(messages: Sequence[Message], at: datetime) -> int | None:
    """The position of the inbound message being answered when an event happened at `at`.

    Answers are serialised per person, so it is the first message handled at or after `at`
    that was received before it; rows without handled_at (imported, or made by tests) fall
    back to the last inbound message received before `at`."""
    moment = _utc(at)
    handled = [(index, _utc(m.handled_at)) for index, m in enumerate(messages)
               if m.direction == Direction.IN and m.handled_at is not None
               and _utc(m.created_at) <= moment <= _utc(m.handled_at)]
    if handled:
        return min(handled, key=lambda pair: pair[1])[0]
    before = [index for index, m in enumerate(messages)
              if m.direction == Direction.IN and _utc(m.created_at) <= moment]
    return before[-1] if before else None


def _intake_start(messages: Sequence[Message], after: int, filing: int) -> int:
    """The first message of the intake ending at `filing`: just after the previous filing,
    or after the last silence too long for an intake to have spanned it."""
    start = after + 1
    for index in range(start + 1, filing + 1):
        gap = _utc(messages[index].created_at) - _utc(messages[index - 1].created_at)
        if gap > INTAKE_PAUSE_LIMIT:
            start = index
    return start


def attribute(messages: Sequence[Message], filings: Sequence[tuple[int, datetime]],
              staff_replies: dict[int, int]) -> Owners:
    """Owners of `messages` (one person's, in id order), given the filing events as
    (referral id, when) and the staff replies as message id -> referral id."""
    owners: Owners = dict(staff_replies)
    filing_at: dict[int, int] = {}  # message index -> referral it filed
    previous = -1
    for referral_id, at in sorted(filings, key=lambda filing: _utc(filing[1])):
        index = _filing_index(messages, at)
        if index is None or index <= previous:
            continue
        for message in messages[_intake_start(messages, previous, index):index + 1]:
            owners.setdefault(message.id or 0, referral_id)
        filing_at[index] = referral_id
        previous = index
    thread: int | None = None
    for index, message in enumerate(messages):
        key = message.id or 0
        if message.reply_to_id is not None and message.reply_to_id in owners:
            owners.setdefault(key, owners[message.reply_to_id])
        owners.setdefault(key, thread)
        if key in staff_replies:
            thread = staff_replies[key]
        elif index in filing_at:
            thread = filing_at[index]
    return owners


def conversation_owners(session: Session, contact_id: int) -> tuple[list[Message], Owners]:
    """The person's whole conversation, in order, and which case each message belongs to."""
    messages = list(session.exec(select(Message).where(Message.contact_id == contact_id)
                                 .order_by(col(Message.id))))
    referral_ids = select(Referral.id).where(Referral.contact_id == contact_id)
    filings = [(event.referral_id, event.at) for event in session.exec(
        select(ReferralEvent).where(col(ReferralEvent.referral_id).in_(referral_ids),
                                    ReferralEvent.actor == WORKER))]
    staff_replies = {item.message_id: item.referral_id for item in session.exec(
        select(Outbox).where(Outbox.contact_id == contact_id,
                             col(Outbox.message_id).is_not(None),
                             col(Outbox.referral_id).is_not(None)))
        if item.message_id is not None and item.referral_id is not None}
    return messages, attribute(messages, filings, staff_replies)


def visible_messages(session: Session, contact_id: int,
                     may_see: Callable[[Referral], bool]) -> list[Message]:
    """The person's messages that belong to no case or to a case `may_see` allows."""
    messages, owners = conversation_owners(session, contact_id)
    allowed = {referral.id for referral in session.exec(
        select(Referral).where(Referral.contact_id == contact_id)) if may_see(referral)}
    return [m for m in messages if owners.get(m.id or 0) is None or owners[m.id or 0] in allowed]
