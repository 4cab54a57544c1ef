"""What a changemaker records after an awareness session: a person they met who needs the
resource centre (a referral), and the session itself (date, district, how many came).

A changemaker never learns anything about a person from Rahnuma: the same answer comes back
whether the phone number was new or already known, and nothing of the contact is shown. The
person hears from Rahnuma directly, in their language, with their complaint's reference.
"""

from dataclasses import dataclass
from datetime import date, timedelta

import phonenumbers
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.casework.referrals import (
    URGENT_CATEGORIES,
    Category,
    Priority,
    Referral,
    ReferralEvent,
    create_referral,
)
from bot.casework.staff import Staff
from bot.content.store import Content
from bot.conversation.channels import Channel
from bot.conversation.contacts import Contact, stored_id, utcnow
from bot.conversation.language import Lang
from bot.messaging.outbox import Priority as SendPriority
from bot.outreach.delivery import Notice, last_channel, send
from bot.outreach.source_cards import may_use
from bot.outreach.sources import OutreachSession, Source, attribute
from bot.settings import Settings

KIND = "session_referral"  # Outbox.kind of the message telling the person
DESCRIPTION_MAX = 4000
NAME_MAX = 100
MAX_ATTENDEES = 100_000
# A session older than this is a typo (a year of 0206), not a record.
EARLIEST_SESSION = date(2020, 1, 1)
# Each referral opens a case and sends a message to a number the changemaker typed: a day's
# sessions bring a handful, so a volunteer account (or a stolen one) cannot flood the queue or
# message strangers at scale.
MAX_REFERRALS_PER_DAY = 20
ORIGIN_NOTE_START = "Referred in person by"


class ReferralError(Exception):
    """A field of the referral or session is not acceptable; `field` names it."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


class NotYourSource(ReferralError):
    """The source is not one this staff member may use (a changemaker: one they own)."""


@dataclass(frozen=True)
class PersonMet:
    """What the changemaker wrote down about the person, as they wrote it."""

    phone: str
    district: str
    category: str
    description: str
    language: str
    name: str = ""
    channel: str = Channel.WHATSAPP  # how to reach them, if they never wrote to us


def normalise_phone(text: str) -> str | None:
    """The number in E.164 (+923001234567) if it is a Pakistani mobile number: the people met
    in a session are here, and a message to a premium or satellite number abroad is the cost
    and spam an open form would invite. None otherwise."""
    try:
        number = phonenumbers.parse(text.strip(), "PK")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number) or \
            phonenumbers.region_code_for_number(number) != "PK" or \
            phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.MOBILE:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def refer(session: Session, *, content: Content, settings: Settings, staff: Staff,
          source: Source, person: PersonMet, consent_wording: str,
          consent_given: bool) -> Referral:
    """A referral from a session: the contact found or made (and attributed to `source`), the
    referral routed to the centre of their district, and a message to them queued."""
    if not may_use(staff, source):
        raise NotYourSource("source", "not one of your sources")
    if not consent_given:
        raise ReferralError("consent", "the person must agree aloud before they are referred")
    phone, district, language = _checked(content, person)
    if _referred_today(session, staff) >= MAX_REFERRALS_PER_DAY:
        raise ReferralError("phone", f"at most {MAX_REFERRALS_PER_DAY} referrals a day: ask "
                                     "your resource centre to file more")
    contact, new = _contact(session, phone)
    if not contact.district:
        contact.district = district
    if not (contact.language or contact.last_language):
        contact.last_language = language
    if not contact.opted_out:  # STOP: nothing about them moves into anyone's figures
        attribute(session, contact=contact, source=source, new_contact=new)
    category = Category(person.category)
    urgent = category in URGENT_CATEGORIES or content.is_urgent(person.description)
    channel = last_channel(session, stored_id(contact)) or person.channel
    referral = create_referral(
        session, actor=f"staff:{staff.id}", contact_id=stored_id(contact), category=category,
        description=person.description.strip(), location_district=district,
        callback_phone=phone, priority=Priority.URGENT if urgent else Priority.NORMAL,
        centre=content.centre_for(district), language=language, channel=channel)
    session.add(ReferralEvent(referral_id=stored_id(referral), actor=f"staff:{staff.id}",
                              note=_origin_note(staff, source, person.name, consent_wording)))
    if not (contact.opted_out or contact.is_test):
        notice = Notice(KIND, SendPriority.CASE_UPDATE, "session_referral_received",
                        {"reference": referral.reference}, "session_referral",
                        {"reference": referral.reference})
        send(session, settings, notice, contact=contact, channel=channel,
             language=Lang(language), now=utcnow(), referral_id=referral.id)
    return referral


def _checked(content: Content, person: PersonMet) -> tuple[str, str, str]:
    """The phone in E.164, the district's key and the language, or ReferralError."""
    phone = normalise_phone(person.phone)
    if phone is None:
        raise ReferralError("phone", "not a valid phone number")
    district = content.district_in(person.district) if person.district.strip() else None
    if district is None:
        raise ReferralError("district", "not a district we know")
    if person.category not in {str(c) for c in Category}:
        raise ReferralError("category", "unknown category")
    if not person.description.strip() or len(person.description) > DESCRIPTION_MAX:
        raise ReferralError("description", f"say what happened, in at most {DESCRIPTION_MAX} "
                                           "characters")
    if person.language not in {str(lang) for lang in Lang}:
        raise ReferralError("language", "unknown language")
    if person.channel not in (Channel.WHATSAPP, Channel.SMS):
        raise ReferralError("channel", "WhatsApp or SMS")
    if len(person.name) > NAME_MAX:
        raise ReferralError("name", f"at most {NAME_MAX} characters")
    return phone, district, person.language


def _contact(session: Session, phone: str) -> tuple[Contact, bool]:
    """The contact with this number, made if new, and whether it was; the answer to the
    changemaker is the same either way."""
    found = session.exec(select(Contact).where(Contact.phone == phone)).first()
    if found is not None:
        return found, False
    contact = Contact(phone=phone)
    try:
        with session.begin_nested():  # their first message may be arriving at this moment
            session.add(contact)
            session.flush()
    except IntegrityError:
        return session.exec(select(Contact).where(Contact.phone == phone)).one(), False
    return contact, True


def _referred_today(session: Session, staff: Staff) -> int:
    """Referrals this person filed in the last 24 hours (their origin notes)."""
    return len(session.exec(select(ReferralEvent.id).where(
        ReferralEvent.actor == f"staff:{staff.id}",
        col(ReferralEvent.note).startswith(ORIGIN_NOTE_START),
        col(ReferralEvent.at) >= utcnow() - timedelta(days=1))).all())


def _origin_note(staff: Staff, source: Source, name: str, consent_wording: str) -> str:
    """For the caseworker: who referred the person, from which source, the name they gave
    and the consent they said aloud, word for word."""
    lines = [f"{ORIGIN_NOTE_START} {staff.name} (source {source.code}).",
             f"Consent said aloud: \u201c{consent_wording.strip()}\u201d"]
    if name.strip():
        lines.insert(1, f"Name given: {name.strip()}")
    return "\n".join(lines)


def record_session(session: Session, *, content: Content, staff: Staff, source: Source,
                   held_on: date, attendees: int, district: str = "") -> OutreachSession:
    """An awareness session held for `source`; its district defaults to the source's."""
    if not may_use(staff, source):
        raise NotYourSource("source", "not one of your sources")
    # "Today" where the session was held may be tomorrow in UTC (Pakistan is UTC+5).
    if not EARLIEST_SESSION <= held_on <= utcnow().date() + timedelta(days=1):
        raise ReferralError("held_on", "a date between 2020 and today")
    if not 0 <= attendees <= MAX_ATTENDEES:
        raise ReferralError("attendees", f"a number from 0 to {MAX_ATTENDEES}")
    key = content.district_in(district) if district.strip() else source.district
    if key is None:
        raise ReferralError("district", "not a district we know")
    held = OutreachSession(source_id=stored_id(source), held_on=held_on, district=key or "",
                           attendees=attendees, recorded_by_staff_id=staff.id)
    session.add(held)
    session.flush()
    return held


def sessions_of(session: Session, source_ids: list[int], *,
                limit: int = 200) -> list[OutreachSession]:
    """The latest sessions of these sources, newest first."""
    if not source_ids:
        return []
    return list(session.exec(select(OutreachSession)
                             .where(col(OutreachSession.source_id).in_(source_ids))
                             .order_by(col(OutreachSession.held_on).desc(),
                                       col(OutreachSession.id).desc()).limit(limit)))
