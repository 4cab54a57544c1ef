"""The journey's timed messages: reminders before the departure, check-ins after it.

Each goes through bot/outreach/delivery.py: the published texts, in the person's language, on
the channel they last wrote from, at REMINDER priority, held through the quiet hours where the
person is (Pakistan before the departure, the destination after: the job sets Contact.timezone
accordingly, so case updates and alerts then keep the same hours), with its WhatsApp template
(content/templates/journey.yml) for when the 24-hour window is closed.

A job whose journey was stopped (or whose person took the consent back, or sent STOP) sends
nothing: the cancel normally got there first, this is the second lock on the door.
"""

from datetime import UTC, date, datetime, timedelta
from functools import partial

from sqlmodel import Session

from bot.content.store import Content
from bot.conversation.channels import Channel
from bot.conversation.contacts import Contact, stored_id, utcnow
from bot.conversation.language import Lang
from bot.conversation.state import ConversationState
from bot.messaging.outbox import Priority
from bot.messaging.scheduler import Handler, Job
from bot.outreach import journey as journeys
from bot.outreach.delivery import Notice, language_of, last_channel, published, send
from bot.outreach.journey import CHECKIN_STEP, CONTRACT_COPY_DAYS, FLOW, Kind
from bot.outreach.journeys import CheckIn, Journey
from bot.settings import Settings, get_settings

REMINDER = "reminder"  # Outbox.kind of the reminders before the departure
CHECKIN = "checkin"  # ... and of the check-ins after it (the impact page counts both)
# The ui text (content/ui/journey.yml) and the template of each reminder.
REMINDERS: dict[str, tuple[str, str]] = {
    Kind.PROTECTOR: ("journey_reminder_protector", "reminder_protector"),
    Kind.CONTRACT: ("journey_reminder_contract", "reminder_contract"),
    Kind.BRIEFING: ("journey_reminder_briefing", "reminder_briefing"),
    Kind.MISSION: ("journey_reminder_mission", "reminder_mission"),
}


def handlers(settings: Settings | None = None) -> dict[str, Handler]:
    settings = settings or get_settings()
    remind: Handler = partial(_remind, settings)
    return {**{kind: remind for kind in REMINDERS},
            Kind.CHECKIN: partial(_check_in, settings)}


def _remind(settings: Settings, session: Session, job: Job) -> None:
    loaded = _wanted(session, job)
    if loaded is None:
        return
    journey, contact = loaded
    contact.timezone = None  # still at home: Pakistan's hours
    content = published(session, settings)
    language = language_of(contact)
    values = _values(content, journey, language)
    channel = _channel(session, contact)
    if job.kind == Kind.BRIEFING:
        values["checklist"] = _checklist(content, contact, language, channel)
    key, template = REMINDERS[job.kind]
    notice = Notice(REMINDER, Priority.REMINDER, key, values, template, values)
    send(session, settings, notice, contact=contact, channel=channel, language=language,
         now=_moment(job))


def _check_in(settings: Settings, session: Session, job: Job) -> None:
    """The question "were you paid what your contract says?"; the answer (1/2/3) is read by
    the journey flow, which the person is put in here."""
    loaded = _wanted(session, job)
    if loaded is None:
        return
    journey, contact = loaded
    content = published(session, settings)
    info = content.places.country_info.get(journey.country)
    contact.timezone = info.timezone if info and info.timezone else None
    moment = _moment(job)
    check = CheckIn(journey_id=stored_id(journey), contact_id=stored_id(contact),
                    sent_at=moment)
    session.add(check)
    session.flush()
    state = ConversationState.load(contact.state)
    state.enter(FLOW, step=CHECKIN_STEP, checkin_id=stored_id(check),
                journey_id=stored_id(journey))
    contact.state = state.dump()
    language = language_of(contact)
    values = _values(content, journey, language)
    notice = Notice(CHECKIN, Priority.REMINDER, "journey_checkin", values, "checkin", values)
    send(session, settings, notice, contact=contact, channel=_channel(session, contact),
         language=language, now=moment)
    if job.payload.get("last"):
        journeys.finish(journey)


def _wanted(session: Session, job: Job) -> tuple[Journey, Contact] | None:
    journey = session.get(Journey, job.payload.get("journey_id"))
    if journey is None or not journeys.reminders_on(session, journey):
        return None
    contact = session.get(Contact, journey.contact_id)
    return (journey, contact) if contact is not None else None


def _moment(job: Job) -> datetime:
    """When the message is meant for: its due time, or now for a job run late. (Tests move
    time by running jobs early; a late run is held through the quiet hours from now.)"""
    due = job.due_at if job.due_at.tzinfo else job.due_at.replace(tzinfo=UTC)
    return max(due, utcnow())


def _channel(session: Session, contact: Contact) -> str:
    return last_channel(session, stored_id(contact)) or Channel.WHATSAPP


def _values(content: Content, journey: Journey, language: Lang) -> dict[str, str]:
    """Every value a journey text may use, by name (each text uses its own)."""
    info = content.places.country_info.get(journey.country)
    return {
        "date": day(journey.departs_on),
        "deadline": day(journey.departs_on - timedelta(days=CONTRACT_COPY_DAYS)),
        "place": place_name(content, journey.country, journey.city, language),
        "mission": (info.mission.get(language) if info else None)
        or content.text("danger_mission_unknown", language),
        "emergency": (info.emergency if info else "")
        or content.text("danger_emergency_unknown", language),
    }


def place_name(content: Content, country: str, city: str, language: Lang) -> str:
    """The country in the person's language, or the place as they wrote it."""
    info = content.places.country_info.get(country)
    return (info.name.get(language) if info else None) or city or country


def day(value: date) -> str:
    return value.strftime("%d-%m-%Y")


def _checklist(content: Content, contact: Contact, language: Lang, channel: str) -> str:
    """The briefing topic's short checklist, for the reminder's {checklist}; MORE then sends
    the whole of it, on either channel: the template that stands in for the reminder outside
    WhatsApp's window can only say "reply MORE". (On SMS the hint would cost a 4th segment.)"""
    topic = content.topics["briefing"]
    state = ConversationState.load(contact.state)
    state.more = content.fill(topic.continuation(language, Channel.SMS))
    contact.state = state.dump()
    checklist = content.fill(topic.answer(language, Channel.SMS))
    if channel == Channel.SMS:
        return checklist
    return f"{checklist}\n{content.text('more_hint', language)}"
