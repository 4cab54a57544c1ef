"""The referral queue: complaints and call-back requests that resource-centre staff work.

Status changes follow one table of allowed transitions; each change stamps its `*_at` column
and writes an event (who, when, from, to, note). Claiming is safe under concurrency: on
PostgreSQL `SELECT ... FOR UPDATE SKIP LOCKED`, on SQLite the write lock of BEGIN IMMEDIATE.
"""

import secrets
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from bot.conversation.contacts import stored_id, utcnow


class Status(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    WAITING_ON_WORKER = "waiting_on_worker"
    REFERRED = "referred"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Category(StrEnum):
    MONEY_NO_JOB = "money_no_job"
    FEES_ABOVE_LIMIT = "fees_above_limit"
    CONTRACT_CHANGED = "contract_changed"
    PASSPORT_HELD = "passport_held"
    WAGES_UNPAID = "wages_unpaid"
    THREATS_VIOLENCE = "threats_violence"
    OTHER = "other"
    CALLBACK = "callback"


class ReferredTo(StrEnum):
    PROTECTOR = "protector"
    BEOE = "beoe"
    OPF = "opf"
    EMBASSY = "embassy_cwa"
    FIA = "fia"
    OTHER = "other"


class Priority(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"


TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.IN_PROGRESS, Status.REFERRED, Status.CLOSED}),
    Status.IN_PROGRESS: frozenset({Status.WAITING_ON_WORKER, Status.REFERRED, Status.RESOLVED,
                                   Status.CLOSED}),
    Status.WAITING_ON_WORKER: frozenset({Status.IN_PROGRESS, Status.REFERRED, Status.RESOLVED,
                                         Status.CLOSED}),
    Status.REFERRED: frozenset({Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED}),
    Status.RESOLVED: frozenset({Status.IN_PROGRESS, Status.CLOSED}),
    Status.CLOSED: frozenset({Status.IN_PROGRESS}),  # reopened
}
OPEN = (Status.NEW, Status.IN_PROGRESS, Status.WAITING_ON_WORKER, Status.REFERRED)
URGENT_CATEGORIES = frozenset({Category.PASSPORT_HELD, Category.THREATS_VIOLENCE})
# No 0/O, 1/I/L, 2/Z, 5/S, 6/G, 8/B: a reference read out over a phone must survive.
REFERENCE_ALPHABET = "ACDEFHJKMNPRTUVWXY3479"
REFERENCE_LENGTH = 6
JOIN_WINDOW = timedelta(hours=24)


class TransitionError(Exception):
    """The status change is not allowed from the referral's current status."""


class Referral(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=12, unique=True, index=True)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    category: str = Field(max_length=32)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    agent_name: str = Field(default="", max_length=200)
    licence_no: str = Field(default="", max_length=16)
    licence_id: int | None = Field(default=None, foreign_key="licence.id")
    amount: int | None = None
    location_country: str = Field(default="", max_length=64)  # "" = in Pakistan
    location_district: str = Field(default="", max_length=100)
    callback_phone: str = Field(default="", max_length=32)
    priority: str = Field(default=Priority.NORMAL, max_length=8, index=True)
    status: str = Field(default=Status.NEW, max_length=24, index=True)
    referred_to: str | None = Field(default=None, max_length=24)
    assignee_id: int | None = Field(default=None, index=True)
    centre: str = Field(max_length=64, index=True)
    language: str = Field(max_length=8)
    channel: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)
    in_progress_at: datetime | None = None
    waiting_on_worker_at: datetime | None = None
    referred_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None


class ReferralEvent(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referral.id", index=True)
    actor: str = Field(max_length=64)  # "worker", "bot", "staff:<id>"
    at: datetime = Field(default_factory=utcnow)
    from_status: str | None = Field(default=None, max_length=24)
    to_status: str | None = Field(default=None, max_length=24)
    note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    for_worker: bool = False  # shown to the worker when they ask for their status


def new_reference() -> str:
    """Six characters with at least one digit, so it never reads as a word."""
    while True:
        reference = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
        if any(c.isdigit() for c in reference):
            return reference


def create_referral(session: Session, *, actor: str = "worker", **fields: Any) -> Referral:
    """A new referral with a fresh reference (retried on the rare collision); `fields` are
    Referral's columns, checked by the model."""
    for _attempt in range(5):
        referral = Referral(reference=new_reference(), **fields)
        try:
            with session.begin_nested():
                session.add(referral)
                session.flush()
        except IntegrityError:
            continue
        session.add(ReferralEvent(referral_id=stored_id(referral), actor=actor,
                                  to_status=Status.NEW, note="created"))
        return referral
    raise RuntimeError("could not find a free reference")


def open_referral_about(session: Session, *, contact_id: int, licence_id: int | None,
                        agent_name: str, category: str | None = None) -> Referral | None:
    """This person's open referral about the same agent (or of the same category) from the
    last 24 hours: a second message joins it instead of duplicating it."""
    query = select(Referral).where(Referral.contact_id == contact_id,
                                   col(Referral.status).in_(OPEN),
                                   Referral.created_at >= utcnow() - JOIN_WINDOW)
    for referral in session.exec(query.order_by(col(Referral.id).desc())):
        same_agent = (licence_id and referral.licence_id == licence_id) or (
            agent_name and referral.agent_name.lower() == agent_name.lower())
        if same_agent or (category and referral.category == category):
            return referral
    return None


def add_note(session: Session, referral: Referral, *, actor: str, note: str,
             for_worker: bool = False) -> ReferralEvent:
    now = utcnow()
    event = ReferralEvent(referral_id=stored_id(referral), actor=actor, at=now, note=note,
                          for_worker=for_worker)
    referral.updated_at = now
    session.add(event)
    _tell_worker(session, referral, event)
    return event


def change_status(session: Session, referral: Referral, to: Status, *, actor: str,
                  note: str = "", referred_to: ReferredTo | None = None) -> ReferralEvent:
    current = Status(referral.status)
    if to not in TRANSITIONS[current]:
        raise TransitionError(f"{current} -> {to} is not allowed")
    if to == Status.REFERRED and referred_to is None:
        raise TransitionError("a referral must say to whom it was referred")
    now = utcnow()
    referral.status = to
    referral.updated_at = now
    setattr(referral, f"{to}_at", now)
    if referred_to:
        referral.referred_to = referred_to
    event = ReferralEvent(referral_id=stored_id(referral), actor=actor, at=now,
                          from_status=current, to_status=to, note=note)
    session.add(event)
    _tell_worker(session, referral, event)
    return event


def _tell_worker(session: Session, referral: Referral, event: ReferralEvent) -> None:
    """The worker hears of the change (or the note for them) in this same transaction."""
    # Imported here: the message's texts come from content/, whose checks import this
    # module's enums (bot/conversation/keys.py), so a top-level import would be a cycle.
    from bot.outreach.case_updates import tell_worker

    tell_worker(session, referral, event)


def claim(session: Session, referral_id: int, *, staff_id: int) -> bool:
    """Take an unassigned referral; False if someone else already holds it."""
    result = session.exec(update(Referral)
                          .where(col(Referral.id) == referral_id,
                                 col(Referral.assignee_id).is_(None))
                          .values(assignee_id=staff_id, updated_at=utcnow()))
    if result.rowcount != 1:
        return False
    referral = session.get(Referral, referral_id)
    if referral is None:  # the UPDATE above just matched it, in this same transaction
        raise RuntimeError(f"referral {referral_id} vanished while being claimed")
    session.refresh(referral)
    if referral.status == Status.NEW:
        change_status(session, referral, Status.IN_PROGRESS, actor=f"staff:{staff_id}",
                      note="claimed")
    return True


def claim_next(session: Session, *, staff_id: int, centre: str) -> Referral | None:
    """The oldest unassigned referral of the centre, urgent first, locked against others."""
    query = (select(Referral)
             .where(Referral.centre == centre,
                    col(Referral.assignee_id).is_(None),
                    col(Referral.status).in_(OPEN))
             .order_by(col(Referral.priority).desc(), col(Referral.created_at), col(Referral.id))
             .limit(1)
             .with_for_update(skip_locked=True))
    referral = session.exec(query).first()
    if referral is None or not claim(session, stored_id(referral), staff_id=staff_id):
        return None
    return referral


def referrals_of(session: Session, contact_id: int) -> list[Referral]:
    query = select(Referral).where(Referral.contact_id == contact_id)
    return list(session.exec(query.order_by(col(Referral.id).desc())))


def latest_note_for_worker(session: Session, referral_id: int) -> ReferralEvent | None:
    query = (select(ReferralEvent)
             .where(ReferralEvent.referral_id == referral_id, ReferralEvent.for_worker)
             .order_by(col(ReferralEvent.id).desc()))
    return session.exec(query).first()


def is_reference(text: str) -> bool:
    """Shaped like a reference new_reference() makes: a database id never is."""
    return len(text) == REFERENCE_LENGTH and all(c in REFERENCE_ALPHABET for c in text)


def find_by_reference(session: Session, reference: str) -> Referral | None:
    """The referral with this reference (any letter case); None for anything else. Links use
    the reference, not the id: SQLite reuses a deleted row's id, while a reference comes back
    only by chance (one in 113 million), and it cannot be guessed by counting."""
    candidate = reference.strip().upper()
    if not is_reference(candidate):
        return None
    return session.exec(select(Referral).where(Referral.reference == candidate)).first()
