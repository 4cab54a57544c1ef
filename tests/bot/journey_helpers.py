"""Shared steps of the departure-journey tests: talk to the bot, read what it stored."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot.conversation.channels import Channel
from bot.conversation.contacts import Contact
from bot.conversation.inbox import receive
from bot.conversation.state import ConversationState
from bot.messaging.outbox import Outbox
from bot.messaging.scheduler import Job, JobStatus
from bot.outreach.journeys import Journey
from tests.factories import inbound

PHONE = "+923007770001"
PAKISTAN = ZoneInfo("Asia/Karachi")


def say(db, bot, body: str, *, phone: str = PHONE, channel: Channel = Channel.WHATSAPP):
    return receive(db, bot, inbound(body, phone=phone, channel=channel)).replies


def keys(replies) -> set[str]:
    return {key for reply in replies for key in reply.keys}


def text(replies) -> str:
    return "\n".join(reply.body for reply in replies)


def today() -> date:
    return datetime.now(UTC).astimezone(PAKISTAN).date()


def ahead(days: int) -> date:
    return today() + timedelta(days=days)


def spoken(day: date) -> str:
    """"15 March", as people write it (and how the reader finds it)."""
    return f"{day.day} {day:%B}"


def shown(day: date) -> str:
    return day.strftime("%d-%m-%Y")


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def contact(db, phone: str = PHONE) -> Contact:
    with Session(db) as session:
        return session.exec(select(Contact).where(Contact.phone == phone)).one()


def state(db, phone: str = PHONE) -> ConversationState:
    return ConversationState.load(contact(db, phone).state)


def journey(db, phone: str = PHONE) -> Journey:
    with Session(db) as session:
        return session.exec(select(Journey).where(Journey.contact_id == contact(db, phone).id)
                            .order_by(col(Journey.id).desc())).first()


def jobs(db, journey_id: int, status: str = JobStatus.PENDING) -> list[Job]:
    with Session(db) as session:
        return list(session.exec(select(Job).where(
            Job.subject == f"journey:{journey_id}", Job.status == status)
            .order_by(col(Job.due_at))))


def outbox(db, phone: str = PHONE) -> list[Outbox]:
    with Session(db) as session:
        return list(session.exec(select(Outbox).where(
            Outbox.contact_id == contact(db, phone).id).order_by(col(Outbox.id))))


def tell_and_accept(db, bot, *, days: int = 60, place: str = "Riyadh",
                    phone: str = PHONE) -> Journey:
    say(db, bot, f"{spoken(ahead(days))}, {place}", phone=phone)
    say(db, bot, "1", phone=phone)
    return journey(db, phone)
