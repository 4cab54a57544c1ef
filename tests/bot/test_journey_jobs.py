"""The journey's timed messages and the check-ins' answers: the right text in the person's
language at REMINDER priority, held through the quiet hours where they are; 1/2/3 answered,
and a problem found becoming a complaint linked to its check-in. Time is moved by running the
jobs as of a later moment, never by sleeping."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from bot.casework.referrals import Referral
from bot.conversation.channels import Channel
from bot.conversation.contacts import Contact
from bot.conversation.language import Lang
from bot.db import session_scope
from bot.messaging.outbox import Priority
from bot.messaging.scheduler import Job, run_due
from bot.outreach.jobs import job_handlers
from bot.outreach.journey import PLAN, Kind
from bot.outreach.journeys import CheckIn
from tests.bot.journey_helpers import (
    PAKISTAN,
    aware,
    contact,
    jobs,
    journey,
    keys,
    outbox,
    say,
    shown,
    state,
    tell_and_accept,
)

SAUDI = ZoneInfo("Asia/Riyadh")
TEMPLATES = {Kind.PROTECTOR: "reminder_protector", Kind.CONTRACT: "reminder_contract",
             Kind.BRIEFING: "reminder_briefing", Kind.MISSION: "reminder_mission"}


def run_until(db, settings, moment: datetime) -> int:
    return run_due(db, job_handlers(settings), now=moment)


def due_of(db, trip, kind: str, nth: int = 0) -> datetime:
    return [aware(job.due_at) for job in jobs(db, trip.id) if job.kind == kind][nth]


def set_language(db, language: Lang) -> None:
    with session_scope(db) as session:
        session.exec(select(Contact)).one().language = language


def checkins(db) -> list[CheckIn]:
    with Session(db) as session:
        return list(session.exec(select(CheckIn).order_by(CheckIn.id)))


@pytest.mark.parametrize("kind", list(TEMPLATES))
def test_journey_jobs_reminder_queues_its_text_in_the_persons_language(db, bot, content,
                                                                      settings, kind):
    trip = tell_and_accept(db, bot)
    set_language(db, Lang.PA)
    run_until(db, settings, due_of(db, trip, kind) + timedelta(minutes=1))
    [item] = [i for i in outbox(db) if i.template_key == TEMPLATES[kind]]
    key = f"journey_reminder_{kind.removeprefix('journey_')}"
    saudi = content.places.country_info["Saudi Arabia"]
    values = {"date": shown(trip.departs_on), "place": saudi.name[Lang.PA],
              "deadline": shown(trip.departs_on - timedelta(days=5)),
              "mission": saudi.mission[Lang.PA], "emergency": saudi.emergency}
    if kind == Kind.BRIEFING:
        assert item.body.startswith(content.text(key, Lang.PA, checklist="", **values).strip())
        assert content.fill(content.topics["briefing"].sms[Lang.PA]) in item.body
    else:
        assert item.body == content.text(key, Lang.PA, channel=Channel.WHATSAPP, **values)
    assert (item.priority, item.kind, item.language) == (Priority.REMINDER, "reminder", "pa")
    assert item.template_variables["1"] == (saudi.name[Lang.PA] if kind == Kind.MISSION
                                            else shown(trip.departs_on))


def test_journey_jobs_reminder_on_sms_is_the_short_text(db, bot, content, settings):
    say(db, bot, "10", channel=Channel.SMS)
    trip = tell_and_accept(db, bot)
    say(db, bot, "hello", channel=Channel.SMS)  # wrote last by SMS: reminders go there
    run_until(db, settings, due_of(db, trip, Kind.PROTECTOR) + timedelta(minutes=1))
    [item] = outbox(db)
    assert item.channel == "sms" and item.body == content.text(
        "journey_reminder_protector_sms", Lang(item.language), date=shown(trip.departs_on))


def test_journey_jobs_late_at_night_is_held_until_morning_in_pakistan(db, bot, settings):
    trip = tell_and_accept(db, bot)
    night = datetime.combine(trip.departs_on - timedelta(days=21), time(22, 30),
                             tzinfo=PAKISTAN).astimezone(UTC)
    with session_scope(db) as session:  # the worker was down: the job runs at 22:30
        for job in session.exec(select(Job).where(Job.kind == Kind.PROTECTOR)):
            job.due_at = night
    run_until(db, settings, night + timedelta(minutes=1))
    [item] = outbox(db)
    assert aware(item.next_attempt_at) == datetime.combine(
        trip.departs_on - timedelta(days=20), time(8), tzinfo=PAKISTAN)


def test_journey_jobs_checkin_follows_the_clock_abroad(db, bot, settings):
    trip = tell_and_accept(db, bot)
    night_in_riyadh = datetime.combine(trip.departs_on + timedelta(days=14), time(23),
                                       tzinfo=SAUDI)
    with session_scope(db) as session:
        for job in session.exec(select(Job).where(Job.kind == Kind.CHECKIN)):
            job.due_at = night_in_riyadh
            break
    run_until(db, settings, night_in_riyadh + timedelta(minutes=1))
    [item] = [i for i in outbox(db) if i.kind == "checkin"]
    assert aware(item.next_attempt_at) == datetime.combine(
        trip.departs_on + timedelta(days=15), time(8), tzinfo=SAUDI)
    assert contact(db).timezone == "Asia/Riyadh" and item.template_key == "checkin"


def test_journey_jobs_stopped_journey_sends_nothing(db, bot, settings):
    tell_and_accept(db, bot)
    say(db, bot, "stop reminders")
    with session_scope(db) as session:  # even a job the cancel missed
        for job in session.exec(select(Job)):
            job.status = "pending"
    assert run_until(db, settings, due_of_any(db) + timedelta(minutes=1)) == len(PLAN)
    assert [i for i in outbox(db) if i.kind in {"reminder", "checkin"}] == []


def due_of_any(db) -> datetime:
    with Session(db) as session:
        return max(aware(job.due_at) for job in session.exec(select(Job)))


def test_journey_jobs_briefing_more_sends_the_whole_checklist(db, bot, content, settings):
    trip = tell_and_accept(db, bot)
    run_until(db, settings, due_of(db, trip, Kind.BRIEFING) + timedelta(minutes=1))
    replies = say(db, bot, "more")
    whole = content.fill(content.topics["briefing"].whatsapp[Lang(replies[0].language)])
    assert replies[0].body.startswith(whole[:60])


def check_in(db, bot, settings, *, nth: int = 0):
    trip = tell_and_accept(db, bot)
    run_until(db, settings, due_of(db, trip, Kind.CHECKIN, nth) + timedelta(minutes=1))
    assert state(db).flow == "journey" and state(db).step == "checkin"
    return trip


def test_journey_checkin_answer_1_is_recorded(db, bot, settings):
    check_in(db, bot, settings)
    assert "journey_checkin_paid" in keys(say(db, bot, "1"))
    [check] = checkins(db)
    assert check.answer == "paid" and check.answered_at and state(db).flow is None


def test_journey_checkin_answer_2_gives_wages_advice_and_files_a_linked_complaint(
        db, bot, settings):
    check_in(db, bot, settings)
    replies = say(db, bot, "2")
    assert {"topic:unpaid_wages", "journey_checkin_offer"} <= keys(replies)
    assert checkins(db)[0].answer == "underpaid"
    assert "complaint_describe" in keys(say(db, bot, "1"))
    stored = state(db).intake["values"]
    assert (stored["category"], stored["location_country"]) == ("wages_unpaid",
                                                                "Saudi Arabia")
    say(db, bot, "company ne do mahine se tankhwah nahi di, sirf aadhi di")
    say(db, bot, "skip")  # the agent
    say(db, bot, "skip")  # the money
    say(db, bot, "1")  # call this number back
    assert "complaint_received" in keys(say(db, bot, "1"))  # confirmed
    with Session(db) as session:
        referral = session.exec(select(Referral)).one()
    assert (referral.category, referral.location_country) == ("wages_unpaid", "Saudi Arabia")
    assert checkins(db)[0].referral_id == referral.id


def test_journey_checkin_answer_3_gives_substitution_advice_and_can_wait(db, bot, settings):
    check_in(db, bot, settings)
    assert "topic:contract_substitution" in keys(say(db, bot, "3"))
    assert "journey_checkin_later" in keys(say(db, bot, "2"))
    assert checkins(db)[0].answer == "different_job" and checkins(db)[0].referral_id is None
    with Session(db) as session:
        assert session.exec(select(Referral)).all() == []


def test_journey_checkin_other_message_is_answered_as_new(db, bot, settings, fake_nlu):
    check_in(db, bot, settings)
    fake_nlu.teach("fees kitni hoti hai", "ask_fees")
    assert "topic:fees" in keys(say(db, bot, "fees kitni hoti hai"))
    # No longer waiting for the check-in's answer (the first topic answer asks about alerts).
    assert checkins(db)[0].answer == "" and state(db).flow in (None, "alerts")


def test_journey_last_checkin_ends_the_journey(db, bot, settings):
    trip = check_in(db, bot, settings, nth=1)
    assert journey(db).status == "done" and len(checkins(db)) == 2
    assert jobs(db, trip.id) == []
