"""A message carrying a source's code ("RAHNUMA SKT12", from a QR card's link or an SMS
keyword): the contact is attributed to it (first touch for good, later touches kept) and
answered as anyone would be, without the code (fake NLU, real database)."""

import pytest
from sqlmodel import Session, col, select

from bot.conversation.channels import Channel
from bot.conversation.contacts import Contact
from bot.conversation.inbox import receive
from bot.db import session_scope
from bot.outreach.sources import Source, SourceKind, SourceTouch, code_in, without_code
from tests.factories import inbound

PHONE = "+923005552222"


@pytest.fixture
def sources(db) -> dict[str, int]:
    with session_scope(db) as session:
        made = [Source(code="SKT12", kind=SourceKind.CHANGEMAKER, name="Sialkot changemaker"),
                Source(code="RADIO1", kind=SourceKind.STORY, name="Radio Pakistan story")]
        session.add_all(made)
        session.flush()
        return {s.code: s.id for s in made}


def say(db, bot, body, channel=Channel.WHATSAPP):
    replies = receive(db, bot, inbound(body, phone=PHONE, channel=channel)).replies
    return [key for reply in replies for key in reply.keys], "\n".join(r.body for r in replies)


def touches(db) -> list[SourceTouch]:
    with Session(db) as session:
        return list(session.exec(select(SourceTouch).order_by(col(SourceTouch.id))))


def contact(db) -> Contact:
    with Session(db) as session:
        return session.exec(select(Contact).where(Contact.phone == PHONE)).one()


@pytest.mark.parametrize("text", ["RAHNUMA SKT12", "rahnuma skt12", "Rahnuma-SKT12",
                                  "RAHNUMA: SKT12 "])
def test_code_in_reads_the_ways_people_type_it(text):
    assert code_in(text) == "SKT12" and without_code(text) == ""


def test_code_in_ignores_messages_without_the_keyword():
    assert code_in("SKT12") is None and code_in("rahnuma kya hai") is None


@pytest.mark.parametrize("channel", [Channel.WHATSAPP, Channel.SMS])
def test_link_text_alone_gets_the_welcome_and_attributes(db, bot, sources, channel):
    keys, body = say(db, bot, "RAHNUMA SKT12", channel)
    assert keys[:2] == ["welcome", "menu"]
    assert "SKT12" not in body and "RAHNUMA SKT12" not in body
    assert contact(db).source_id == sources["SKT12"]
    assert [(t.source_id, t.first) for t in touches(db)] == [(sources["SKT12"], True)]


def test_later_touch_is_kept_and_first_source_stays(db, bot, sources):
    say(db, bot, "RAHNUMA SKT12")
    say(db, bot, "RAHNUMA RADIO1")
    assert contact(db).source_id == sources["SKT12"]
    assert [(t.source_id, t.first) for t in touches(db)] == [
        (sources["SKT12"], True), (sources["RADIO1"], False)]


def test_code_with_a_question_answers_the_question(db, bot, sources, fake_nlu):
    fake_nlu.teach("fees kitni hai", "ask_fees")
    keys, body = say(db, bot, "RAHNUMA SKT12 fees kitni hai")
    assert "topic:fees" in keys and "SKT12" not in body
    assert contact(db).source_id == sources["SKT12"]


def test_unknown_code_is_welcomed_and_attributes_nothing(db, bot, sources):
    keys, _ = say(db, bot, "RAHNUMA ZZZ99")
    assert keys[:1] == ["welcome"] and touches(db) == [] and contact(db).source_id is None


def test_inactive_source_attributes_nothing(db, bot, sources):
    with session_scope(db) as session:
        session.get(Source, sources["SKT12"]).active = False
    say(db, bot, "RAHNUMA SKT12")
    assert touches(db) == []


def test_opted_out_person_is_not_attributed(db, bot, sources):
    say(db, bot, "stop")
    say(db, bot, "RAHNUMA SKT12")
    assert touches(db) == [] and contact(db).source_id is None


@pytest.mark.parametrize(("text", "language"), [("رہنما SKT12", "ur"), ("رهنما SKT12", "ps"),
                                                ("RAHNUMA SKT12", "ur-Latn")])
def test_link_text_alone_greets_in_its_keywords_script(db, bot, sources, text, language):
    replies = receive(db, bot, inbound(text, phone=PHONE)).replies
    assert replies[0].keys[0] == "welcome" and str(replies[0].language) == language
    assert contact(db).source_id == sources["SKT12"]


def test_keyword_in_urdu_script_with_a_question(db, bot, sources, fake_nlu):
    fake_nlu.teach("قانونی فیس کتنی ہے", "ask_fees")
    keys, body = say(db, bot, "رہنما SKT12 قانونی فیس کتنی ہے")
    assert "topic:fees" in keys and "SKT12" not in body


def test_stateless_ask_answers_a_link_text_as_the_webhook_does(bot):
    turn = bot.ask_turn("RAHNUMA SKT12")
    assert turn.keys[:2] == ["welcome", "menu"] and "SKT12" not in "\n".join(turn.parts)


def test_code_from_someone_who_wrote_before_does_not_move_their_history(db, bot, sources,
                                                                         fake_nlu):
    """A person who used Rahnuma directly keeps their past out of any source's figures: a code
    they send later is a later touch only."""
    fake_nlu.teach("fees kitni hai", "ask_fees")
    say(db, bot, "fees kitni hai")
    say(db, bot, "2")  # no alerts, thanks
    say(db, bot, "RAHNUMA SKT12")
    assert contact(db).source_id is None
    assert [(t.source_id, t.first) for t in touches(db)] == [(sources["SKT12"], False)]


def test_code_is_not_read_while_a_question_waits(db, bot, sources):
    """Inside a form the words are the person's answer, code-like or not."""
    say(db, bot, "5")  # the complaint asks for consent
    say(db, bot, "RAHNUMA SKT12")
    assert touches(db) == [] and contact(db).source_id is None
