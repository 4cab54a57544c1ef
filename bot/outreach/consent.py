"""What a person agreed to be sent, kept with the time and the exact words they were shown.

The latest answer per topic counts. STOP (Contact.opted_out) overrides every topic."""

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, Session, SQLModel, col, select

from bot.conversation.contacts import Contact, utcnow


class Topic(StrEnum):
    REMINDERS = "reminders"  # the departure journey's reminders and check-ins
    LICENCE_ALERTS = "licence_alerts"  # changes to licences the person checked
    ALERTS = "alerts"  # warnings to many (bot/outreach/broadcasts.py): fake offers, scams


class Consent(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    topic: str = Field(max_length=24)
    given: bool
    # The subject within the topic: a licence number for LICENCE_ALERTS; "" for all of it.
    subject: str = Field(default="", max_length=64)
    wording: str  # the text the person answered, as they read it
    channel: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow)


def record(session: Session, *, contact_id: int, topic: Topic, given: bool, wording: str,
           channel: str, subject: str = "") -> Consent:
    consent = Consent(contact_id=contact_id, topic=topic, given=given, wording=wording,
                      channel=channel, subject=subject)
    session.add(consent)
    session.flush()
    return consent


def latest(session: Session, *, contact_id: int, topic: Topic,
           subject: str = "") -> Consent | None:
    return session.exec(select(Consent).where(
        Consent.contact_id == contact_id, Consent.topic == topic, Consent.subject == subject)
        .order_by(col(Consent.id).desc()).limit(1)).first()


def allows(session: Session, contact: Contact, topic: Topic, subject: str = "") -> bool:
    """Said yes, and has not said no or STOP since."""
    if contact.opted_out or contact.id is None:
        return False
    answer = latest(session, contact_id=contact.id, topic=topic, subject=subject)
    return answer is not None and answer.given
