"""Building people, sources and what they did, for the reach figures' tests."""

import itertools
from datetime import UTC, date, datetime

from sqlmodel import Session

from bot.casework.referrals import Category, Referral, Status, create_referral
from bot.casework.staff import Role, Staff
from bot.conversation.contacts import Contact, Direction, Message
from bot.db import session_scope
from bot.outreach.journeys import CheckIn, Journey
from bot.outreach.licence_watch import LicenceWatch
from bot.outreach.sources import OutreachSession, Source, SourceKind

_phones = itertools.count(1)
NOV = datetime(2026, 11, 10, 9, tzinfo=UTC)
DEC = datetime(2026, 12, 2, 9, tzinfo=UTC)
PERIOD = {"start": datetime(2026, 11, 1, tzinfo=UTC), "end": datetime(2027, 1, 1, tzinfo=UTC)}


def changemaker_account(db, email: str, *, centre: str = "mrc-lahore") -> int:
    with session_scope(db) as session:
        staff = Staff(email=email, name=email.split("@")[0], centre=centre,
                      role=Role.CHANGEMAKER, password_hash="-")
        session.add(staff)
        session.flush()
        return staff.id


def make_source(db, code: str, *, owner: int | None = None, centre: str = "mrc-lahore",
                kind: str = SourceKind.CHANGEMAKER, district: str = "sialkot") -> int:
    with session_scope(db) as session:
        source = Source(code=code, kind=kind, name=f"{code} source", district=district,
                        centre=centre, owner_staff_id=owner)
        session.add(source)
        session.flush()
        return source.id


def make_person(db, *, source: int | None = None, district: str = "sialkot", at=NOV,
                test: bool = False, phone: str | None = None) -> int:
    with session_scope(db) as session:
        contact = Contact(phone=phone or f"+9230{next(_phones):08d}", source_id=source,
                          district=district, is_test=test, created_at=at)
        session.add(contact)
        session.flush()
        return contact.id


def ask(db, contact_id: int, intent: str, *, at=NOV, body: str = "agent fees kitni hai"):
    with session_scope(db) as session:
        session.add(Message(contact_id=contact_id, channel="whatsapp", direction=Direction.IN,
                            body=body, intent=intent, created_at=at))


def complain(db, contact_id: int, *, at=NOV, status: str = Status.NEW,
             district: str = "", category: str = Category.MONEY_NO_JOB, **extra) -> str:
    """The referral's reference."""
    with session_scope(db) as session:
        referral = create_referral(session, contact_id=contact_id, category=category,
                                   centre="mrc-lahore", language="ur", channel="whatsapp",
                                   location_district=district, **extra)
        referral.created_at, referral.status = at, status
        if status == Status.RESOLVED:
            referral.resolved_at = at
        return referral.reference


def check_licence(db, contact_id: int, *, at=NOV, licence_no: str = "0848/LHR") -> None:
    with session_scope(db) as session:
        session.add(LicenceWatch(contact_id=contact_id, licence_no=licence_no,
                                 last_checked_at=at))


def check_in(db, contact_id: int, *, at=NOV, answer: str = "", answered_at=None) -> None:
    with session_scope(db) as session:
        journey = Journey(contact_id=contact_id, departs_on=date(2026, 9, 1))
        session.add(journey)
        session.flush()
        session.add(CheckIn(journey_id=journey.id, contact_id=contact_id, sent_at=at,
                            answer=answer, answered_at=answered_at))


def hold_session(db, source_id: int, *, on: date = date(2026, 11, 12), attendees: int = 40,
                 district: str = "sialkot") -> None:
    with session_scope(db) as session:
        session.add(OutreachSession(source_id=source_id, held_on=on, attendees=attendees,
                                    district=district))


def referral_of(db, reference: str) -> Referral:
    with Session(db) as session:
        return session.query(Referral).filter_by(reference=reference).one()
