"""Keeping only what is needed: message retention, and erasing a person on request."""

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, update
from sqlmodel import Session, col, select

from bot.casework.evidence import Evidence
from bot.casework.referrals import OPEN, Referral, ReferralEvent
from bot.conversation.contacts import Contact, Message, utcnow
from bot.db import checkpoint_sqlite, session_scope
from bot.messaging import scheduler
from bot.messaging.outbox import Outbox
from bot.messaging.scheduler import Job
from bot.outreach.consent import Consent
from bot.outreach.journeys import CheckIn, Journey
from bot.outreach.licence_watch import LicenceWatch
from bot.outreach.sources import SourceTouch

ERASED = ""


def apply_retention(session: Session, *, days: int) -> int:
    """Erase message bodies older than `days`, except for people with an open referral (the
    caseworker still needs the conversation). Returns how many bodies were erased."""
    cutoff = utcnow() - timedelta(days=days)
    open_cases = select(Referral.contact_id).where(col(Referral.status).in_(OPEN))
    result = session.exec(
        update(Message)
        .where(col(Message.created_at) < cutoff, col(Message.body) != ERASED,
               col(Message.contact_id).not_in(open_cases))
        .values(body=ERASED, media=[]))
    return result.rowcount or 0


def forget_contact(session: Session, phone: str) -> dict[str, int]:
    """Erase everything about one phone number: messages, referrals, evidence (files too),
    queued messages, journeys with their check-ins and pending reminders, consents, licence
    watches, source touches and the contact itself. Returns what was removed."""
    contact = session.exec(select(Contact).where(Contact.phone == phone)).first()
    if contact is None:
        return {}
    referral_ids = list(session.exec(select(Referral.id).where(
        Referral.contact_id == contact.id)))
    files = session.exec(select(Evidence).where(Evidence.contact_id == contact.id)).all()
    for item in files:
        if item.path:
            Path(item.path).unlink(missing_ok=True)
    counts = {"evidence": len(files), "referrals": len(referral_ids)}
    session.exec(delete(Evidence).where(col(Evidence.contact_id) == contact.id))
    session.exec(delete(Outbox).where(col(Outbox.contact_id) == contact.id))
    _forget_outreach(session, contact.id)
    session.exec(delete(ReferralEvent).where(col(ReferralEvent.referral_id).in_(referral_ids)))
    session.exec(delete(Referral).where(col(Referral.contact_id) == contact.id))
    # Replies point at the messages they answer: drop the links, then the messages.
    session.exec(update(Message).where(col(Message.contact_id) == contact.id)
                 .values(reply_to_id=None))
    counts["messages"] = session.exec(
        delete(Message).where(col(Message.contact_id) == contact.id)).rowcount or 0
    session.delete(contact)
    return counts


def _forget_outreach(session: Session, contact_id: int | None) -> None:
    """What issues 14 and 15 keep about a person: their departure (and the reminders still to
    come: a job names its journey, "journey:<id>"), what they agreed to, the licences they
    checked, and the sources they came through. Check-ins go before referrals they point to."""
    for journey_id in session.exec(select(Journey.id).where(Journey.contact_id == contact_id)):
        scheduler.cancel(session, subject=f"journey:{journey_id}")
    tables: tuple[type[Any], ...] = (Job, CheckIn, Journey, Consent, LicenceWatch, SourceTouch)
    for table in tables:
        session.exec(delete(table).where(col(table.contact_id) == contact_id))


def forget_and_scrub(engine: Engine, phone: str) -> dict[str, int]:
    """forget_contact, committed, then the erased rows scrubbed from the files too: on SQLite
    (secure_delete zeroes the freed pages) the write-ahead log still holds the old pages until
    a checkpoint, so one runs now. On PostgreSQL, VACUUM does this (README)."""
    with session_scope(engine) as session:
        counts = forget_contact(session, phone)
    if counts:
        checkpoint_sqlite(engine)
    return counts
