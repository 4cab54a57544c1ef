"""The engine through `receive`, with a fake NLU and a real database."""

import pytest
from sqlmodel import Session, select

from bot.casework.referrals import Referral
from bot.conversation.channels import Channel, sms_segments
from bot.conversation.contacts import Contact, Message
from bot.conversation.inbox import receive
from bot.conversation.language import LANGUAGES, Lang
from tests.factories import inbound

FEES_UR_LATN = "agent kitni fees le sakta hai"


def say(db, bot, body, **kwargs) -> str:
    replies = receive(db, bot, inbound(body, **kwargs)).replies
    return "\n".join(r.body for r in replies)


def contact(db, phone="+923001234567") -> Contact:
    with Session(db) as session:
        return session.exec(select(Contact).where(Contact.phone == phone)).one()


def test_engine_answers_first_question_then_offers_menu_and_language(db, bot, content,
                                                                       fake_nlu):
    fake_nlu.teach(FEES_UR_LATN, "ask_fees")
    reply = say(db, bot, FEES_UR_LATN)
    fees = content.topics["fees"]
    assert reply.startswith(content.fill(fees.whatsapp[Lang.UR_LATN]))
    assert content.text("after_first_answer", Lang.UR_LATN) in reply


def test_engine_welcomes_a_greeting_with_the_menu(db, bot, content, fake_nlu):
    fake_nlu.teach("salam", "greet")
    reply = say(db, bot, "salam")
    assert content.text("welcome", Lang.UR_LATN) in reply
    assert content.text("menu", Lang.UR_LATN) in reply


def test_engine_second_question_has_no_first_contact_hint(db, bot, content, fake_nlu):
    fake_nlu.teach(FEES_UR_LATN, "ask_fees")
    say(db, bot, FEES_UR_LATN)
    assert content.text("after_first_answer", Lang.UR_LATN) not in say(db, bot, FEES_UR_LATN)


def test_engine_replies_in_the_script_of_the_message(db, bot, content, fake_nlu):
    fake_nlu.teach("ایجنٹ کتنی فیس لے سکتا ہے", "ask_fees")
    reply = say(db, bot, "ايجنٹ كتنى فيس لے سكتا ہے", channel=Channel.SMS)
    assert reply.startswith(content.topics["fees"].sms[Lang.UR][:40])


def test_engine_sms_answer_fits_three_segments_and_offers_more(db, bot, content, fake_nlu):
    fake_nlu.teach("how much fee can an agent take", "ask_fees")
    replies = receive(db, bot, inbound("how much fee can an agent take", channel=Channel.SMS,
                                       phone="+9231")).replies
    reply = replies[0].body  # then, once, the question about alerts in a message of its own
    assert len(replies) <= 2 and all(sms_segments(r.body) <= 3 for r in replies)
    assert reply.endswith(content.text("more_hint", Lang.EN))
    more = say(db, bot, "MORE", channel=Channel.SMS, phone="+9231")
    fees = content.topics["fees"]
    assert more.startswith(content.fill(fees.whatsapp[Lang.EN])[:30])  # the full answer first
    pages = [more]
    while content.text("more_hint", Lang.EN) in pages[-1] and len(pages) < 10:
        pages.append(say(db, bot, "MORE", channel=Channel.SMS, phone="+9231"))
    assert content.fill(fees.more[Lang.EN])[:30] in "\n".join(pages)  # then the rest, paged
    assert all(sms_segments(page) <= 3 for page in pages)


def test_engine_more_without_pending_text_says_so(db, bot, content):
    assert say(db, bot, "more") == content.text("no_more", Lang.UR_LATN)


@pytest.mark.parametrize("number,topic", [("1", None), ("2", None), ("4", None)])
def test_engine_menu_numbers_offer_topic_choices_without_nlu(db, bot, content, fake_nlu,
                                                             number, topic):
    reply = say(db, bot, number)
    assert fake_nlu.calls == []
    first = content.menu[number].topics[0]
    assert f"1 {content.topics[first].title[Lang.UR_LATN]}" in reply
    assert content.fill(content.topics[first].whatsapp[Lang.UR_LATN])[:30] in say(db, bot, "1")


def test_engine_menu_command_in_any_language_shows_menu(db, bot, content):
    for word in ("menu", "0", "مینو"):
        assert content.text("menu", Lang.UR_LATN)[:10] in say(db, bot, word) or \
            content.text("menu", Lang.UR)[:10] in say(db, bot, word)


def test_engine_low_confidence_offers_likely_topics(db, bot, content, fake_nlu):
    fake_nlu.teach("paisay ka masla", "ask_fees", 0.4, ("file_complaint", 0.3),
                   ("unpaid_wages", 0.2))
    reply = say(db, bot, "paisay ka masla")
    assert content.text("did_you_mean", Lang.UR_LATN) in reply
    assert f"1 {content.topics['fees'].title[Lang.UR_LATN]}" in reply
    assert "3 " + content.topics["unpaid_wages"].title[Lang.UR_LATN] in reply
    assert content.fill(content.topics["unpaid_wages"].whatsapp[Lang.UR_LATN])[:30] in \
        say(db, bot, "3")


def test_engine_unknown_message_gets_fallback_and_menu(db, bot, content, fake_nlu):
    fake_nlu.teach("xyz qwerty", None, 0.0)
    reply = say(db, bot, "xyz qwerty")
    assert content.text("fallback", Lang.UR_LATN) in reply
    assert content.text("menu", Lang.UR_LATN) in reply


def test_engine_out_of_scope_gets_polite_scope_and_menu(db, bot, content, fake_nlu):
    fake_nlu.teach("aaj match kon jeeta", "out_of_scope")
    reply = say(db, bot, "aaj match kon jeeta")
    assert content.text("out_of_scope", Lang.UR_LATN) in reply


def test_engine_language_choice_overrides_detection(db, bot, content, fake_nlu):
    say(db, bot, "language")
    assert say(db, bot, "4") == content.text("language_set", Lang.PS)
    fake_nlu.teach("how much can an agent charge", "ask_fees")
    reply = say(db, bot, "how much can an agent charge")
    assert reply.startswith(content.fill(content.topics["fees"].whatsapp[Lang.PS])[:30])
    assert contact(db).language == "ps"


def test_engine_stop_silences_until_start(db, bot, content, fake_nlu):
    fake_nlu.teach(FEES_UR_LATN, "ask_fees")
    assert say(db, bot, "STOP") == content.text("stopped", Lang.UR_LATN)
    assert say(db, bot, FEES_UR_LATN) == ""
    assert say(db, bot, "start") == content.text("started", Lang.UR_LATN)
    assert say(db, bot, FEES_UR_LATN) != ""


def test_engine_stop_inside_a_sentence_is_not_a_command(db, bot, content, fake_nlu):
    fake_nlu.teach("how do i stop the agent", "file_complaint")
    assert say(db, bot, "how do i stop the agent") != content.text("stopped", Lang.EN)


def test_engine_human_request_is_recorded(db, bot, content):
    reply = say(db, bot, "7")
    with Session(db) as session:
        [referral] = session.exec(select(Referral)).all()
    assert reply.startswith(content.text("callback_received", Lang.UR_LATN,
                                         reference=referral.reference))
    assert content.text("handoff_when", Lang.UR_LATN, hours=48) in reply


def test_engine_complaint_status_reports_the_callback_request(db, bot, content, fake_nlu):
    fake_nlu.teach("meri shikayat ka kya bana", "complaint_status")
    assert say(db, bot, "meri shikayat ka kya bana").startswith(
        content.text("status_none", Lang.UR_LATN))
    say(db, bot, "7")
    assert content.text("complaint_state_new", Lang.UR_LATN) in say(
        db, bot, "meri shikayat ka kya bana")


def test_engine_media_without_text_explains_text_only(db, bot, content):
    from bot.conversation.turn import Media

    reply = say(db, bot, "", media=[Media("https://api.twilio.com/x", "audio/ogg")])
    assert reply == content.text("media_unsupported", Lang.UR_LATN)
    with Session(db) as session:
        message = session.exec(select(Message).where(Message.direction == "in")).one()
        assert message.media == [{"url": "https://api.twilio.com/x", "content_type": "audio/ogg"}]


def test_engine_too_long_message_is_kept_and_answered(db, bot, content, fake_nlu):
    body = "paisay " * 400
    assert say(db, bot, body) == content.text("too_long", Lang.UR_LATN)
    assert fake_nlu.calls == []
    with Session(db) as session:
        assert session.exec(select(Message).where(Message.direction == "in")).one().body == body


def test_engine_stores_both_directions_with_nlu_details(db, bot, fake_nlu):
    fake_nlu.teach(FEES_UR_LATN, "ask_fees", 0.91)
    say(db, bot, FEES_UR_LATN)
    with Session(db) as session:
        incoming, outgoing = session.exec(select(Message).order_by(Message.id)).all()
    assert (incoming.direction, incoming.intent, incoming.confidence, incoming.nlu) == (
        "in", "ask_fees", 0.91, "rasa")
    assert incoming.language == "ur-Latn" and incoming.handled_at is not None
    assert outgoing.direction == "out" and outgoing.reply_to_id == incoming.id


def test_engine_every_ui_key_used_by_code_exists_in_all_languages(content):
    for key in ("welcome", "menu", "more_hint", "fallback", "error", "title_menu",
                "title_language", "title_handoff", "title_complaint_status"):
        assert set(content.ui[key]) == set(LANGUAGES)


def test_engine_zero_leaves_a_choice_list_for_the_menu(db, bot, content):
    say(db, bot, "1")  # a choice list is waiting
    assert content.text("menu", Lang.UR_LATN) in say(db, bot, "0")


def test_engine_first_sms_answer_is_not_cut_for_the_welcome_hint(db, bot, content, fake_nlu):
    fake_nlu.teach("ایجنٹ کتنی فیس لے سکتا ہے", "ask_fees")
    replies = receive(db, bot, inbound("ایجنٹ کتنی فیس لے سکتا ہے", channel=Channel.SMS)).replies
    assert replies[0].body.startswith(content.fill(content.topics["fees"].sms[Lang.UR]))
    assert all(sms_segments(r.body) <= 3 for r in replies)
