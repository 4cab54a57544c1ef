"""Alerts to many, the person's side: asked once after the first answer, consent kept with its
words, the home district, "stop alerts" / "start alerts", and STOP (fake NLU, real database)."""

import pytest
from sqlmodel import Session, col, select

from bot.conversation.channels import Channel
from bot.conversation.contacts import Contact
from bot.conversation.inbox import receive
from bot.outreach.consent import Consent, Topic
from tests.factories import inbound

PHONE = "+923005551111"


def say(db, bot, body, channel=Channel.WHATSAPP):
    replies = receive(db, bot, inbound(body, phone=PHONE, channel=channel)).replies
    return [key for reply in replies for key in reply.keys], "\n".join(r.body for r in replies)


def contact(db) -> Contact:
    with Session(db) as session:
        return session.exec(select(Contact).where(Contact.phone == PHONE)).one()


def answers(db, topic=Topic.ALERTS) -> list[Consent]:
    with Session(db) as session:
        return list(session.exec(select(Consent).where(Consent.topic == topic)
                                 .order_by(col(Consent.id))))


@pytest.fixture
def fees(fake_nlu):
    fake_nlu.teach("fees kitni hai", "ask_fees")
    fake_nlu.teach("visa kaise milta hai", "ask_visa")
    fake_nlu.teach("mera tankhwa nahi mila", "unpaid_wages")


def test_alerts_offer_follows_the_first_answer_once(db, bot, fees):
    keys, _ = say(db, bot, "fees kitni hai")
    assert "topic:fees" in keys and "alerts_offer" in keys
    say(db, bot, "visa kaise milta hai")  # not answered: a new question instead
    keys, _ = say(db, bot, "fees kitni hai")
    assert "alerts_offer" not in keys
    assert answers(db) == []  # a question is not an answer


def test_alerts_offer_not_after_a_greeting(db, bot, fake_nlu):
    fake_nlu.teach("salam", "greet")
    keys, _ = say(db, bot, "salam")
    assert "alerts_offer" not in keys and contact(db).alerts_asked_at is None


def test_alerts_offer_not_after_an_answer_that_points_to_a_complaint(db, bot, fees):
    keys, _ = say(db, bot, "mera tankhwa nahi mila")
    assert "alerts_offer" not in keys
    keys, _ = say(db, bot, "fees kitni hai")
    assert "alerts_offer" in keys  # the next plain answer asks


def test_alerts_yes_is_kept_with_the_words_shown_then_the_district(db, bot, fees):
    _, shown = say(db, bot, "fees kitni hai")
    keys, _ = say(db, bot, "1")
    assert "alerts_on_ask_district" in keys
    consent = answers(db)[-1]
    assert consent.given and consent.wording in shown and "1 Haan" in consent.wording
    keys, _ = say(db, bot, "Sialkot")
    assert "alerts_district_saved" in keys and contact(db).district == "sialkot"


def test_alerts_district_in_urdu_script(db, bot, fees):
    say(db, bot, "fees kitni hai")
    say(db, bot, "ہاں")
    keys, _ = say(db, bot, "گوجرانوالہ")
    assert "alerts_district_saved" in keys and contact(db).district == "gujranwala"


def test_alerts_unknown_district_is_asked_again_once(db, bot, fees):
    say(db, bot, "fees kitni hai")
    say(db, bot, "1")
    keys, _ = say(db, bot, "xyzabad")
    assert "alerts_district_unknown" in keys
    keys, _ = say(db, bot, "qwerty town")
    assert "alerts_district_unknown" not in keys and contact(db).district == ""


def test_alerts_district_question_gives_way_to_a_question(db, bot, fees):
    say(db, bot, "fees kitni hai")
    say(db, bot, "1")
    keys, _ = say(db, bot, "visa kaise milta hai")
    assert "topic:visas" in keys and contact(db).district == ""


def test_alerts_no_is_recorded_and_not_asked_again(db, bot, fees):
    say(db, bot, "fees kitni hai")
    keys, _ = say(db, bot, "2")
    assert "alerts_off" in keys and answers(db)[-1].given is False
    keys, _ = say(db, bot, "visa kaise milta hai")
    assert "alerts_offer" not in keys


@pytest.mark.parametrize("words", ["stop alerts", "ALERT BAND", "الرٹ بند", "الرټ بند کړئ"])
def test_stop_alerts_at_once_in_every_form(db, bot, fees, words):
    say(db, bot, "fees kitni hai")
    say(db, bot, "1")
    keys, _ = say(db, bot, words)
    assert keys == ["alerts_stopped"]
    assert answers(db)[-1].given is False and answers(db)[-1].wording == words
    assert answers(db, Topic.LICENCE_ALERTS)[-1].given is False
    assert contact(db).opted_out is False  # only alerts: the helpline still answers


def test_start_alerts_asks_the_district_when_unknown(db, bot):
    keys, _ = say(db, bot, "alert shuru")
    assert keys == ["alerts_on_ask_district"] and answers(db)[-1].given
    keys, _ = say(db, bot, "Mardan")
    assert contact(db).district == "mardan"


def test_stop_ends_alerts_and_start_does_not_bring_them_back(db, bot, fees):
    say(db, bot, "fees kitni hai")
    say(db, bot, "1")
    say(db, bot, "stop")
    say(db, bot, "start")
    assert answers(db)[-1].given is False and answers(db)[-1].wording == "stop"


def test_alerts_offer_on_sms_keeps_its_choices_on_one_page(db, bot, fees):
    _, body = say(db, bot, "fees kitni hai", channel=Channel.SMS)
    assert "1 Haan\n2 Nahi" in body


def test_stop_alerts_withdraws_alerts_already_queued(db, bot, fees):
    from bot.messaging.outbox import Outbox, Priority, Status, enqueue
    from bot.outreach import broadcasts, licence_alerts

    say(db, bot, "fees kitni hai")
    say(db, bot, "1")
    with Session(db) as session:
        person = session.exec(select(Contact).where(Contact.phone == PHONE)).one()
        for kind in (broadcasts.KIND, licence_alerts.KIND, "case_update"):
            enqueue(session, contact=person, channel="whatsapp", body="...", kind=kind,
                    priority=Priority.ALERT)
        session.commit()
    say(db, bot, "stop alerts")
    with Session(db) as session:
        statuses = {item.kind: item.status for item in session.exec(
            select(Outbox).where(col(Outbox.kind) != "reply"))}
    assert statuses == {broadcasts.KIND: Status.CANCELLED, licence_alerts.KIND: Status.CANCELLED,
                        "case_update": Status.QUEUED}
