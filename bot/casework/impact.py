"""The figures resource centres report to funders, for a chosen period.

Conversations from the dashboard's simulator (contacts marked `is_test`) are left out: staff
trying the bot are not people reached. The complaint figures can be narrowed to one centre;
the message figures cannot (a question belongs to no centre), so they always cover every
centre, and the pages say so. So do the outreach figures (reminders, check-ins, alerts): a message
Rahnuma sent first belongs to no centre. The complaints that followed it are complaints, and are
narrowed like the others."""

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, ScalarSelect
from sqlmodel import Session, col, func, select

from bot.casework.referrals import Referral, ReferralEvent
from bot.conversation.contacts import Contact, Direction, Message
from bot.messaging.outbox import Outbox
from bot.outreach.journeys import CheckIn

# A complaint made this long after a licence alert or a check-in that found a problem, by the
# same person, counts as following it (the impact page says so).
FOLLOW_UP_DAYS = 14
# Check-in answers that are a problem: paid less than the contract says, or another job.
PROBLEM_ANSWERS = ("underpaid", "different_job")
# Outbox kinds counted: the departure journey's reminders and check-ins (REMINDER, CHECKIN of
# bot/outreach/journey_jobs.py), and licence alerts (KIND of bot/outreach/licence_alerts.py).
REMINDER, CHECKIN, LICENCE_ALERT = "reminder", "checkin", "licence_alert"


@dataclass
class Outreach:
    """What Rahnuma sent before anyone asked, and what came of it."""

    reminders_sent: int = 0  # every centre
    checkins_sent: int = 0  # every centre
    checkins_answered: int = 0  # every centre
    checkin_problems: int = 0  # every centre
    alerts_sent: int = 0  # every centre
    complaints_after: int = 0  # of the chosen centre, like the other complaint figures


@dataclass
class Impact:
    start: datetime
    end: datetime
    # Every centre, whatever `centre` is:
    people_reached: int
    messages_in: int
    questions_by_topic: list[tuple[str, int]]
    questions_by_language: list[tuple[str, int]]
    # The complaints of `centre` (None: of every centre):
    complaints_by_category: list[tuple[str, int]]
    complaints_by_status: list[tuple[str, int]]
    complaints_by_district: list[tuple[str, int]]
    median_hours_to_first_response: float | None
    median_hours_to_resolution: float | None
    centre: str | None = None
    outreach: Outreach = field(default_factory=Outreach)


def _hours(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 3600


def _real_contacts() -> ScalarSelect[int | None]:
    """Contact ids of real people: not the simulator's test contacts."""
    return select(Contact.id).where(col(Contact.is_test).is_(False)).scalar_subquery()


def impact(session: Session, *, start: datetime, end: datetime,
           centre: str | None = None) -> Impact:
    inbound = (Message.direction == Direction.IN, Message.created_at >= start,
               Message.created_at < end, col(Message.contact_id).in_(_real_contacts()))
    people = session.exec(select(func.count(func.distinct(Message.contact_id)))
                          .where(*inbound)).one()
    total_in = session.exec(select(func.count()).select_from(Message).where(*inbound)).one()
    topics = session.exec(select(Message.intent, func.count()).where(
        *inbound, col(Message.intent).is_not(None))
        .group_by(Message.intent)).all()
    languages = session.exec(select(Message.language, func.count()).where(
        *inbound, col(Message.language).is_not(None))
        .group_by(Message.language)).all()
    query = select(Referral).where(Referral.created_at >= start, Referral.created_at < end,
                                   col(Referral.contact_id).in_(_real_contacts()))
    if centre:
        query = query.where(Referral.centre == centre)
    referrals = session.exec(query).all()
    first, resolution = [], []
    for referral in referrals:
        staff_event = session.exec(
            select(ReferralEvent.at).where(ReferralEvent.referral_id == referral.id,
                                           col(ReferralEvent.actor).like("staff:%"))
            .order_by(col(ReferralEvent.at)).limit(1)).first()
        if staff_event:
            first.append(_hours(staff_event, referral.created_at))
        if referral.resolved_at:
            resolution.append(_hours(referral.resolved_at, referral.created_at))

    def ranked(counter: Counter) -> list[tuple[str, int]]:
        return counter.most_common()

    return Impact(
        start, end, people, total_in,
        sorted(((t or "-", n) for t, n in topics), key=lambda x: -x[1]),
        sorted(((lang or "-", n) for lang, n in languages), key=lambda x: -x[1]),
        ranked(Counter(r.category for r in referrals)),
        ranked(Counter(r.status for r in referrals)),
        ranked(Counter(r.location_district or r.location_country or "-" for r in referrals)),
        round(statistics.median(first), 1) if first else None,
        round(statistics.median(resolution), 1) if resolution else None,
        centre,
        _outreach(session, start=start, end=end, referrals=referrals),
    )


def _count(session: Session, model: type[Outbox] | type[CheckIn],
           *conditions: ColumnElement[bool]) -> int:
    return session.exec(select(func.count()).select_from(model).where(
        *conditions, col(model.contact_id).in_(_real_contacts()))).one()


def _outreach(session: Session, *, start: datetime, end: datetime,
              referrals: Sequence[Referral]) -> Outreach:
    def sent(kind: str) -> int:  # accepted by Twilio in the period (sent_at is then set)
        return _count(session, Outbox, col(Outbox.kind) == kind, col(Outbox.sent_at) >= start,
                      col(Outbox.sent_at) < end)

    answered = (col(CheckIn.answered_at) >= start, col(CheckIn.answered_at) < end)
    return Outreach(
        reminders_sent=sent(REMINDER),
        checkins_sent=sent(CHECKIN),
        checkins_answered=_count(session, CheckIn, *answered),
        checkin_problems=_count(session, CheckIn, *answered,
                                col(CheckIn.answer).in_(PROBLEM_ANSWERS)),
        alerts_sent=sent(LICENCE_ALERT),
        complaints_after=_complaints_after(session, referrals))


def _complaints_after(session: Session, referrals: Sequence[Referral]) -> int:
    """Of these complaints, those made within FOLLOW_UP_DAYS after a licence alert sent to the
    same person or a check-in of theirs that found a problem (whenever that was: an alert on
    the period's eve still counts for a complaint within it)."""
    prompts = _prompts(session, {r.contact_id for r in referrals})
    window = timedelta(days=FOLLOW_UP_DAYS)
    return sum(any(at <= _naive(r.created_at) <= at + window
                   for at in prompts.get(r.contact_id, ())) for r in referrals)


def _prompts(session: Session, people: set[int]) -> dict[int, list[datetime]]:
    """When each of these people was sent a licence alert or answered a check-in with a
    problem."""
    if not people:
        return {}
    alerts = select(Outbox.contact_id, Outbox.sent_at).where(
        col(Outbox.kind) == LICENCE_ALERT, col(Outbox.contact_id).in_(people))
    problems = select(CheckIn.contact_id, CheckIn.answered_at).where(
        col(CheckIn.answer).in_(PROBLEM_ANSWERS), col(CheckIn.contact_id).in_(people))
    found: dict[int, list[datetime]] = defaultdict(list)
    for contact_id, at in [*session.exec(alerts), *session.exec(problems)]:
        if at is not None:  # an alert not sent yet, a check-in not answered
            found[contact_id].append(_naive(at))
    return found


def _naive(at: datetime) -> datetime:
    """Naive UTC: SQLite gives stored times back naive, PostgreSQL aware."""
    return at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at
