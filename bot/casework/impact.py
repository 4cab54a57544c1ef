"""The figures resource centres report to funders, for a chosen period.

Conversations from the dashboard's simulator (contacts marked `is_test`) are left out: staff
trying the bot are not people reached. The complaint figures can be narrowed to one centre;
the message figures cannot (a question belongs to no centre), so they always cover every
centre, and the pages say so."""

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ScalarSelect
from sqlmodel import Session, col, func, select

from bot.casework.referrals import Referral, ReferralEvent
from bot.conversation.contacts import Contact, Direction, Message


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
    )
