"""The departure journey in conversation: telling the date, the offer, consent, moving the
date, stopping (fake NLU, real database)."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from bot.conversation.channels import Channel
from bot.conversation.language import Lang, detect
from bot.messaging.scheduler import JobStatus
from bot.outreach.consent import Consent
from bot.outreach.journey import PLAN, Kind
from tests.bot.journey_helpers import (
    PAKISTAN,
    ahead,
    aware,
    jobs,
    journey,
    keys,
    say,
    shown,
    spoken,
    state,
    tell_and_accept,
    text,
)

SAUDI = ZoneInfo("Asia/Riyadh")


def consents(db) -> list[Consent]:
    with Session(db) as session:
        return list(session.exec(select(Consent).order_by(Consent.id)))


def test_journey_told_date_and_place_is_offered_reminders(db, bot):
    replies = say(db, bot, f"{spoken(ahead(60))}, Riyadh")
    assert "journey_offer" in keys(replies)
    assert shown(ahead(60)) in text(replies) and "Saudi Arab" in text(replies)
    assert state(db).flow == "journey" and state(db).step == "offer"
    assert journey(db).status == "planned" and jobs(db, journey(db).id) == []


def test_journey_yes_schedules_each_message_on_its_day_and_records_the_consent(db, bot):
    departs = ahead(60)
    offer = text(say(db, bot, f"{spoken(departs)}, Riyadh"))
    replies = say(db, bot, "1")
    assert "journey_scheduled" in keys(replies)
    trip = journey(db)
    assert trip.status == "active"
    due = [(job.kind, aware(job.due_at)) for job in jobs(db, trip.id)]
    # 10:00 in Pakistan before the departure, 10:00 in Riyadh after it.
    assert due == [(kind, datetime.combine(departs + timedelta(days=days), time(10),
                                           tzinfo=PAKISTAN if days < 0 else SAUDI))
                   for kind, days in PLAN]
    [consent] = consents(db)
    assert consent.given and consent.topic == "reminders" and consent.channel == "whatsapp"
    assert consent.wording == offer  # the offer exactly as it was shown


def test_journey_no_schedules_nothing_and_records_the_answer(db, bot):
    say(db, bot, f"{spoken(ahead(40))}, Dubai")
    assert "journey_declined" in keys(say(db, bot, "2"))
    assert jobs(db, journey(db).id) == [] and journey(db).status == "planned"
    [consent] = consents(db)
    assert not consent.given and "(UAE)" in consent.wording


@pytest.mark.parametrize("first, then, asked", [
    ("Riyadh", "agle mahine", "journey_ask_date"),
    (spoken(ahead(30)), "Doha", "journey_ask_place"),
])
def test_journey_asks_for_what_is_missing(db, bot, fake_nlu, first, then, asked):
    assert "journey_ask" in keys(say(db, bot, "10"))
    assert asked in keys(say(db, bot, first))
    assert "journey_offer" in keys(say(db, bot, then))


@pytest.mark.parametrize("said, problem", [
    ("1-1-2020 Riyadh", "journey_date_past"),
    (f"{spoken(ahead(1))} {ahead(1).year + 2} Riyadh", "journey_date_far"),
])
def test_journey_past_or_far_date_is_questioned_not_accepted(db, bot, said, problem):
    say(db, bot, "10")
    replies = say(db, bot, said)
    assert problem in keys(replies) and "journey_offer" not in keys(replies)
    assert state(db).step == "ask" and "date" not in state(db).data
    assert "journey_offer" in keys(say(db, bot, spoken(ahead(30))))  # the place was kept


def test_journey_unknown_place_is_kept_as_written(db, bot):
    say(db, bot, "10")
    say(db, bot, spoken(ahead(30)))
    replies = say(db, bot, "Toronto")
    assert "journey_offer" in keys(replies) and "Toronto" in text(replies)
    assert (journey(db).country, journey(db).city) == ("", "Toronto")


@pytest.mark.parametrize("message, language", [
    ("دو ہفتے بعد ریاض جا رہا ہوں", Lang.UR),
    ("agle mahine dubai ja raha hun", Lang.UR_LATN),
    ("میں اگلے مہینے دوحہ جا رہیا واں", Lang.PA),
    ("زه بله میاشت ریاض ته ځم", Lang.PS),
    ("I am going to Riyadh next month", Lang.EN),
])
def test_journey_offer_in_each_language(db, bot, message, language):
    replies = say(db, bot, message)
    assert "journey_offer" in keys(replies)
    assert detect(replies[-1].body).language == language


def test_journey_told_in_digits_and_not_kept_as_a_story(db, bot):
    assert "journey_offer" in keys(say(db, bot, f"{shown(ahead(30))} ko jeddah ja raha hun"))
    assert journey(db).departs_on == ahead(30) and state(db).story == ""


def test_journey_offer_on_sms_fits_one_page(db, bot):
    replies = say(db, bot, "اگلے مہینے ریاض جا رہا ہوں", channel=Channel.SMS)
    assert [r.keys for r in replies] == [("journey_offer",)] and len(replies) == 1


@pytest.mark.parametrize("message", [
    "3 mahine se tankhwah nahi mili saudi mein",
    "kal saudi gaya tha",
    "15 march se riyadh mein kaam kar raha hun",
    "can I go to Dubai on 15 March?",
])
def test_journey_not_started_by_messages_that_are_not_a_departure(db, bot, message):
    assert not keys(say(db, bot, message)) & {"journey_offer", "journey_ask_date"}


def test_journey_new_date_moves_the_pending_jobs(db, bot):
    trip = tell_and_accept(db, bot, days=60)
    before = {job.kind: aware(job.due_at) for job in jobs(db, trip.id)}
    replies = say(db, bot, f"meri date badal gayi, ab {spoken(ahead(70))}")
    assert "journey_moved" in keys(replies) and shown(ahead(70)) in text(replies)
    after = {job.kind: aware(job.due_at) for job in jobs(db, trip.id)}
    assert after[Kind.MISSION] - before[Kind.MISSION] == timedelta(days=10)
    assert len(jobs(db, trip.id, JobStatus.CANCELLED)) == len(PLAN)
    assert journey(db).departs_on == ahead(70) and journey(db).id == trip.id


def test_journey_menu_10_shows_the_reminders_and_takes_a_new_date(db, bot):
    tell_and_accept(db, bot, days=60)
    assert "journey_current" in keys(say(db, bot, "10"))
    assert "journey_moved" in keys(say(db, bot, spoken(ahead(50))))
    assert journey(db).departs_on == ahead(50)


@pytest.mark.parametrize("command", ["stop reminders", "reminder band", "یاد دہانی بند",
                                     "یادونې بندې"])
def test_journey_stop_reminders_cancels_them_and_records_the_words(db, bot, command):
    trip = tell_and_accept(db, bot)
    assert "journey_stopped" in keys(say(db, bot, command))
    assert jobs(db, trip.id) == [] and journey(db).status == "stopped"
    assert [(c.given, c.wording) for c in consents(db)][-1] == (False, command)


def test_journey_stop_reminders_without_any(db, bot):
    assert "journey_none" in keys(say(db, bot, "stop reminders"))


def test_journey_stop_ends_everything(db, bot):
    trip = tell_and_accept(db, bot)
    assert "stopped" in keys(say(db, bot, "STOP"))
    assert jobs(db, trip.id) == [] and journey(db).status == "stopped"


def test_journey_telling_again_after_declining_offers_again(db, bot):
    say(db, bot, f"{spoken(ahead(40))}, Dubai")
    say(db, bot, "2")
    assert "journey_offer" in keys(say(db, bot, "10"))
    assert "journey_scheduled" in keys(say(db, bot, "1"))


@pytest.mark.parametrize("command", ["menu", "help", "language", "human", "more", "8", "0"])
def test_journey_global_commands_work_while_the_offer_waits(db, bot, command):
    say(db, bot, f"{spoken(ahead(40))}, Dubai")
    replies = say(db, bot, command)
    assert replies and "journey_declined" not in keys(replies)
    assert jobs(db, journey(db).id) == []
