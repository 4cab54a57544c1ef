"""What the outbox sends and what it makes of Twilio's answers, against the local fake Twilio:
free text inside WhatsApp's window, the approved template outside it, SMS always free text,
Twilio's refusals marked by meaning and never retried, opted-out people left alone."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from bot.conversation.contacts import Contact, Message, utcnow
from bot.db import session_scope
from bot.messaging.outbox import (
    STAFF_REPLY,
    Outbox,
    Priority,
    Status,
    enqueue,
    record_status,
    send_due,
)
from bot.messaging.templates import WhatsAppTemplate
from tests.fakes.twilio_server import FakeTwilio
from tests.fakes.twilio_server import sender_for as sender

TEMPLATE_SID = "HX" + "1" * 32


@pytest.fixture
def twilio():
    with FakeTwilio() as fake:
        yield fake



def person(db, phone="+923001110001", *, wrote_hours_ago: float | None = 1.0,
           opted_out=False) -> Contact:
    """A contact who last wrote on WhatsApp this long ago (None: never)."""
    with session_scope(db) as session:
        contact = Contact(phone=phone, opted_out=opted_out)
        session.add(contact)
        session.flush()
        if wrote_hours_ago is not None:
            session.add(Message(contact_id=contact.id, channel="whatsapp", direction="in",
                                body="salam",
                                created_at=utcnow() - timedelta(hours=wrote_hours_ago)))
        return contact


def queue(db, contact, *, channel="whatsapp", body="Your complaint R-1 is now closed.",
          kind="case_update", template_key="case_update", **extra) -> int:
    with session_scope(db) as session:
        return enqueue(session, contact=contact, channel=channel, body=body, language="ur",
                       kind=kind, priority=Priority.CASE_UPDATE, template_key=template_key,
                       template_variables={"1": "R-1", "2": "closed"}, **extra).id


def approve(db, key="case_update", language="ur", sid=TEMPLATE_SID) -> None:
    with session_scope(db) as session:
        session.add(WhatsAppTemplate(key=key, language=language, content_sid=sid,
                                     in_use_sid=sid, approval_status="approved", body="..."))


def item(db, item_id) -> Outbox:
    with Session(db) as session:
        return session.get(Outbox, item_id)


def make_due(db) -> None:
    with session_scope(db) as session:
        for row in session.exec(select(Outbox)):
            row.next_attempt_at = utcnow()


def test_outbox_sends_free_text_inside_the_whatsapp_window(db, twilio):
    approve(db)
    queue(db, person(db, wrote_hours_ago=23))
    assert send_due(db, sender(twilio)) == 1
    [sent] = twilio.messages
    assert sent.body == "Your complaint R-1 is now closed." and sent.content_sid is None


def test_outbox_sends_the_template_outside_the_whatsapp_window(db, twilio):
    approve(db)
    item_id = queue(db, person(db, wrote_hours_ago=25))
    assert send_due(db, sender(twilio)) == 1
    [sent] = twilio.messages
    assert (sent.body, sent.content_sid) == (None, TEMPLATE_SID)
    assert sent.content_variables == {"1": "R-1", "2": "closed"}
    assert item(db, item_id).template_sid == TEMPLATE_SID


def test_outbox_sends_the_template_in_the_persons_language(db, twilio):
    approve(db, language="ur")
    approve(db, language="ps", sid="HX" + "2" * 32)
    with session_scope(db) as session:
        enqueue(session, contact=person(db, wrote_hours_ago=None), channel="whatsapp",
                body="...", language="ps", template_key="case_update",
                template_variables={"1": "R-1", "2": "closed"})
    send_due(db, sender(twilio))
    assert twilio.messages[0].content_sid == "HX" + "2" * 32


def test_outbox_sends_sms_as_free_text_whatever_the_window(db, twilio):
    approve(db)
    queue(db, person(db, wrote_hours_ago=None), channel="sms")
    assert send_due(db, sender(twilio)) == 1
    assert twilio.messages[0].body and twilio.messages[0].content_sid is None


def test_outbox_marks_no_template_outside_the_window_and_never_retries(db, twilio):
    item_id = queue(db, person(db, wrote_hours_ago=30))  # case_update is not approved
    assert send_due(db, sender(twilio)) == 0
    make_due(db)
    assert send_due(db, sender(twilio)) == 0
    found = item(db, item_id)
    assert found.status == Status.NO_TEMPLATE and "case_update [ur]" in found.error
    assert twilio.requests == 0 and found.attempts == 1


def test_outbox_marks_window_closed_for_an_item_without_a_template(db, twilio):
    item_id = queue(db, person(db, wrote_hours_ago=30), kind="reply", template_key=None)
    send_due(db, sender(twilio))
    assert item(db, item_id).status == Status.WINDOW_CLOSED and twilio.requests == 0


def test_outbox_falls_back_to_the_template_when_twilio_says_63016(db, twilio):
    """Our clock says the window is open; WhatsApp's says not: the template goes instead."""
    approve(db)
    twilio.fail_numbers["0001"] = 63016
    queue(db, person(db, wrote_hours_ago=1))
    assert send_due(db, sender(twilio)) == 1
    assert [m.content_sid for m in twilio.messages] == [TEMPLATE_SID]


def test_outbox_marks_no_template_on_63016_when_none_is_approved(db, twilio):
    twilio.fail_numbers["0001"] = 63016
    item_id = queue(db, person(db, wrote_hours_ago=1))
    send_due(db, sender(twilio))
    make_due(db)
    send_due(db, sender(twilio))
    assert item(db, item_id).status == Status.NO_TEMPLATE and twilio.requests == 1


def test_outbox_marks_opted_out_on_21610_and_never_retries(db, twilio):
    twilio.fail_numbers["0001"] = 21610
    item_id = queue(db, person(db), channel="sms")
    send_due(db, sender(twilio))
    make_due(db)
    send_due(db, sender(twilio))
    found = item(db, item_id)
    assert found.status == Status.OPTED_OUT and "21610" in found.error
    assert twilio.requests == 1


def test_outbox_records_twilios_opt_out_on_the_contact(db, twilio):
    twilio.fail_numbers["0001"] = 21610
    contact = person(db)
    queue(db, contact, channel="sms")
    send_due(db, sender(twilio))
    with Session(db) as session:
        stored = session.get(Contact, contact.id)
    assert stored.opted_out and stored.opted_out_at is not None


@pytest.mark.parametrize("code", [21211, 21614])
def test_outbox_marks_invalid_number_and_never_retries(db, twilio, code):
    twilio.fail_numbers["0001"] = code
    item_id = queue(db, person(db), channel="sms")
    send_due(db, sender(twilio))
    make_due(db)
    send_due(db, sender(twilio))
    assert item(db, item_id).status == Status.INVALID_NUMBER and twilio.requests == 1


def test_outbox_refusal_does_not_hold_back_the_persons_next_message(db, twilio):
    """Unlike a failure worth retrying, a refusal is final: the next message still goes."""
    approve(db)
    contact = person(db, wrote_hours_ago=30)
    first = queue(db, contact, template_key="no_such_template")
    queue(db, contact)
    assert send_due(db, sender(twilio)) == 1
    assert item(db, first).status == Status.NO_TEMPLATE


def test_outbox_records_an_opted_out_persons_alert_as_not_sent(db, twilio):
    item_id = queue(db, person(db, opted_out=True), kind="alert")
    assert item(db, item_id).status == Status.OPTED_OUT
    assert send_due(db, sender(twilio)) == 0 and twilio.requests == 0


def test_outbox_still_sends_an_opted_out_person_the_reply_to_their_stop(db, twilio):
    queue(db, person(db, opted_out=True), kind="reply", body="You will get no more messages.")
    assert send_due(db, sender(twilio)) == 1


def test_outbox_skips_what_was_queued_before_the_person_opted_out(db, twilio):
    contact = person(db)
    item_id = queue(db, contact, kind="reminder")
    with session_scope(db) as session:
        session.get(Contact, contact.id).opted_out = True
    assert send_due(db, sender(twilio)) == 0
    assert item(db, item_id).status == Status.OPTED_OUT and twilio.requests == 0


def test_outbox_callback_63016_sends_the_template_instead(db, twilio):
    """WhatsApp reports 63016 after Twilio took the free text: the template goes next."""
    approve(db)
    item_id = queue(db, person(db, wrote_hours_ago=1))
    send_due(db, sender(twilio))
    with session_scope(db) as session:
        record_status(session, sid=twilio.messages[0].sid, status="failed", error="63016")
    assert send_due(db, sender(twilio)) == 1
    assert twilio.messages[1].content_sid == TEMPLATE_SID
    assert item(db, item_id).status == Status.SENT


def staff_reply(db, contact) -> int:
    return queue(db, contact, kind=STAFF_REPLY, template_key=STAFF_REPLY,
                 body="We called the agent; he will return your passport on Monday.")


def test_staff_reply_outside_the_window_sends_its_notice_and_holds_the_reply(db, twilio):
    approve(db, key=STAFF_REPLY)
    staff_reply(db, person(db, wrote_hours_ago=30))
    assert send_due(db, sender(twilio)) == 1
    assert [m.content_sid for m in twilio.messages] == [TEMPLATE_SID]
    make_due(db)
    assert send_due(db, sender(twilio)) == 0  # the reply waits for the person
    with Session(db) as session:
        held = session.exec(select(Outbox).where(Outbox.status == Status.AWAITING_REPLY)).one()
    assert held.body.startswith("We called the agent")


def test_staff_reply_follows_when_the_person_writes_back(db, twilio):
    approve(db, key=STAFF_REPLY)
    contact = person(db, wrote_hours_ago=30)
    staff_reply(db, contact)
    send_due(db, sender(twilio))
    with session_scope(db) as session:  # "ok": the window is open again
        session.add(Message(contact_id=contact.id, channel="whatsapp", direction="in",
                            body="ok"))
    assert send_due(db, sender(twilio)) == 1
    assert twilio.messages[-1].body.startswith("We called the agent")
    assert twilio.messages[-1].content_sid is None
