"""The departure journey: a departure told, reminders accepted or declined (with the words
shown), the date moved, reminders stopped, check-in answers; and the timed jobs behind it.

The jobs are rows of bot/messaging/scheduler.py with the subject "journey:<id>", so moving a
date is: cancel that subject's pending jobs, schedule them again. bot/outreach/journey_jobs.py
sends them.
"""

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot.conversation.contacts import Contact, stored_id, utcnow
from bot.messaging import scheduler
from bot.messaging.scheduler import Job
from bot.outreach import consent
from bot.outreach.consent import Topic
from bot.outreach.journeys import CheckIn, Journey, JourneyStatus
from bot.outreach.quiet_hours import PAKISTAN

# The conversation flow that reads the answers (bot/conversation/flows/journey.py): a check-in
# job puts the person at its "checkin" step.
FLOW = "journey"
CHECKIN_STEP = "checkin"


class Kind(StrEnum):
    PROTECTOR = "journey_protector"
    CONTRACT = "journey_contract"
    BRIEFING = "journey_briefing"
    MISSION = "journey_mission"
    CHECKIN = "journey_checkin"


# Days from the departure. Registration needs the insurance taken first, and both take time:
# three weeks. The contract copy is due at least 5 days before (MRC, FACTS.md s.4): reminded two
# days ahead of that. The mission and emergency number the day before. After arrival: two weeks
# in, and after the first month's pay day.
PLAN: tuple[tuple[Kind, int], ...] = (
    (Kind.PROTECTOR, -21), (Kind.CONTRACT, -7), (Kind.BRIEFING, -3), (Kind.MISSION, -1),
    (Kind.CHECKIN, 14), (Kind.CHECKIN, 35))
CONTRACT_COPY_DAYS = 5
SEND_AT = time(10, 0)  # in the morning where the person is
# Reminders whose day has passed (a departure told late) go at once, a minute apart, in order;
# the checklist only when its own day is ahead, since it repeats the others.
OVERDUE_GAP = timedelta(minutes=1)
SKIPPED_WHEN_LATE = frozenset({Kind.BRIEFING})

ALLOWED: dict[str, frozenset[str]] = {
    JourneyStatus.PLANNED: frozenset({JourneyStatus.ACTIVE, JourneyStatus.STOPPED}),
    JourneyStatus.ACTIVE: frozenset({JourneyStatus.STOPPED, JourneyStatus.DONE}),
    JourneyStatus.STOPPED: frozenset(),
    JourneyStatus.DONE: frozenset(),
}
OPEN = (JourneyStatus.PLANNED, JourneyStatus.ACTIVE)


class JourneyError(Exception):
    """A change the journey's status does not allow."""


def subject(journey: Journey) -> str:
    return f"journey:{stored_id(journey)}"


def current(session: Session, *, contact_id: int) -> Journey | None:
    """The person's journey still ahead of them (planned or with reminders on), if any."""
    return session.exec(select(Journey).where(
        Journey.contact_id == contact_id, col(Journey.status).in_(OPEN))
        .order_by(col(Journey.id).desc()).limit(1)).first()


def tell(session: Session, *, contact_id: int, departs_on: date, country: str,
         city: str = "") -> Journey:
    """A departure told: the open journey takes the new date and place, or a new one begins."""
    journey = current(session, contact_id=contact_id) or Journey(
        contact_id=contact_id, departs_on=departs_on)
    journey.departs_on, journey.country, journey.city = departs_on, country, city[:64]
    journey.updated_at = utcnow()
    session.add(journey)
    session.flush()
    return journey


def accept(session: Session, journey: Journey, *, wording: str, channel: str,
           abroad_zone: str | None, now: datetime | None = None) -> list[Job]:
    """Yes to the reminders: the consent with the words shown, and the jobs."""
    consent.record(session, contact_id=journey.contact_id, topic=Topic.REMINDERS, given=True,
                   wording=wording, channel=channel)
    _move_to(journey, JourneyStatus.ACTIVE)
    return schedule(session, journey, abroad_zone=abroad_zone, now=now)


def decline(session: Session, journey: Journey, *, wording: str, channel: str) -> None:
    """No to the reminders: recorded as an answer too; the journey stays planned."""
    consent.record(session, contact_id=journey.contact_id, topic=Topic.REMINDERS, given=False,
                   wording=wording, channel=channel)


def move(session: Session, journey: Journey, *, departs_on: date, country: str, city: str,
         abroad_zone: str | None, now: datetime | None = None) -> list[Job]:
    """The date (or the place) changed: the pending reminders move with it."""
    tell(session, contact_id=journey.contact_id, departs_on=departs_on, country=country,
         city=city)
    scheduler.cancel(session, subject=subject(journey))
    if journey.status != JourneyStatus.ACTIVE:
        return []
    return schedule(session, journey, abroad_zone=abroad_zone, now=now)


def stop(session: Session, *, contact_id: int, wording: str = "", channel: str = "") -> int:
    """"stop reminders" (their words kept as the answer, `wording`) or STOP (none: the contact
    records it): every open journey stops and its jobs are cancelled; how many journeys had
    reminders on."""
    stopped = 0
    for journey in session.exec(select(Journey).where(
            Journey.contact_id == contact_id, col(Journey.status).in_(OPEN))):
        stopped += journey.status == JourneyStatus.ACTIVE
        scheduler.cancel(session, subject=subject(journey))
        _move_to(journey, JourneyStatus.STOPPED)
    if stopped and wording:
        consent.record(session, contact_id=contact_id, topic=Topic.REMINDERS, given=False,
                       wording=wording, channel=channel)
    return stopped


def finish(journey: Journey) -> None:
    """The last check-in is sent."""
    _move_to(journey, JourneyStatus.DONE)


def _move_to(journey: Journey, status: JourneyStatus) -> None:
    if status not in ALLOWED[journey.status]:
        raise JourneyError(f"journey {journey.id}: {journey.status} -> {status}")
    journey.status, journey.updated_at = status, utcnow()


def schedule(session: Session, journey: Journey, *, abroad_zone: str | None,
             now: datetime | None = None) -> list[Job]:
    last = len(PLAN) - 1
    return [scheduler.schedule(session, kind=kind, due_at=due_at, contact_id=journey.contact_id,
                               subject=subject(journey),
                               payload={"journey_id": stored_id(journey), "last": index == last})
            for index, kind, due_at in due_times(journey.departs_on, abroad_zone=abroad_zone,
                                                 now=now or utcnow())]


def due_times(departs_on: date, *, abroad_zone: str | None,
              now: datetime) -> list[tuple[int, Kind, datetime]]:
    """(its place in PLAN, kind, when) for each message still worth sending: at SEND_AT in
    Pakistan before the departure, in the destination after it."""
    times = []
    late = 0
    for index, (kind, days) in enumerate(PLAN):
        zone = ZoneInfo((abroad_zone or PAKISTAN) if days > 0 else PAKISTAN)
        due = datetime.combine(departs_on + timedelta(days=days), SEND_AT,
                               tzinfo=zone).astimezone(UTC)
        if due < now:
            if kind in SKIPPED_WHEN_LATE:
                continue
            due, late = now + OVERDUE_GAP * late, late + 1
        times.append((index, kind, due))
    return times


def answer_checkin(session: Session, *, checkin_id: int, answer: str) -> CheckIn | None:
    check = session.get(CheckIn, checkin_id)
    if check is not None:
        check.answer, check.answered_at = answer, utcnow()
    return check


def link_referral(session: Session, *, checkin_id: int, referral_id: int) -> None:
    """The complaint a check-in led to (the impact page counts them)."""
    check = session.get(CheckIn, checkin_id)
    if check is not None:
        check.referral_id = referral_id


def reminders_on(session: Session, journey: Journey | None) -> bool:
    """Whether this journey's messages may still go: on, and not taken back (nor STOP)."""
    if journey is None or journey.status != JourneyStatus.ACTIVE:
        return False
    contact = session.get(Contact, journey.contact_id)
    return contact is not None and consent.allows(session, contact, Topic.REMINDERS)
