"""A changemaker refers a person met in a session, and records the session: the contact found
or made and attributed to the changemaker's source, the referral routed to the centre of the
person's district with the consent wording kept, and one message to the person queued."""

from datetime import date, timedelta

import pytest
from sqlmodel import Session, col, select

from bot.casework.referrals import Referral, ReferralEvent
from bot.casework.staff import Role, Staff
from bot.conversation.contacts import Contact, Direction, Message
from bot.messaging.outbox import Outbox, Priority
from bot.outreach import changemaker_referrals as cm
from bot.outreach.sources import OutreachSession, Source, SourceKind, SourceTouch

WORDING = "I read this aloud and the person agreed."


@pytest.fixture
def session(db):
    with Session(db) as session:
        yield session


@pytest.fixture
def shazia(session) -> Staff:
    person = Staff(email="shazia@mrc.example", name="Shazia", centre="mrc-lahore",
                   role=Role.CHANGEMAKER, password_hash="x")
    session.add(person)
    session.flush()
    return person


@pytest.fixture
def source(session, shazia) -> Source:
    made = Source(code="SLK1", kind=SourceKind.CHANGEMAKER, name="Shazia's sessions",
                  district="sialkot", centre="mrc-lahore", owner_staff_id=shazia.id)
    session.add(made)
    session.flush()
    return made


def person(**fields) -> cm.PersonMet:
    values = {"phone": "0300 1234567", "district": "Sialkot", "category": "money_no_job",
              "description": "Paid an agent 300,000 for Italy, no visa", "language": "pa"}
    return cm.PersonMet(**(values | fields))


def refer(session, content, settings, staff, source, consent=True, **fields) -> Referral:
    return cm.refer(session, content=content, settings=settings, staff=staff, source=source,
                    person=person(**fields), consent_wording=WORDING, consent_given=consent)


def contact(session, phone="+923001234567") -> Contact:
    return session.exec(select(Contact).where(Contact.phone == phone)).one()


def test_normalise_phone_reads_pakistani_numbers_to_e164():
    assert cm.normalise_phone("0300 1234567") == "+923001234567"
    assert cm.normalise_phone("+92 300 1234567") == "+923001234567"
    assert cm.normalise_phone("12345") is None and cm.normalise_phone("call me") is None


def test_refer_routes_to_the_centre_of_the_district(session, content, settings, shazia,
                                                     source):
    referral = refer(session, content, settings, shazia, source, district="Peshawar")
    assert (referral.centre, referral.location_district) == ("mrc-peshawar", "peshawar")
    assert (referral.category, referral.language, referral.callback_phone) == (
        "money_no_job", "pa", "+923001234567")


def test_refer_new_contact_gets_district_and_source(session, content, settings, shazia,
                                                    source):
    refer(session, content, settings, shazia, source, district="سیالکوٹ")
    found = contact(session)
    assert (found.district, found.source_id, found.last_language) == ("sialkot", source.id, "pa")
    [touch] = session.exec(select(SourceTouch)).all()
    assert (touch.contact_id, touch.source_id, touch.first) == (found.id, source.id, True)


def test_refer_known_contact_keeps_district_and_first_source(session, content, settings,
                                                             shazia, source):
    earlier = Source(code="RADIO1", kind=SourceKind.STORY, name="Radio story")
    session.add(earlier)
    session.flush()
    session.add(Contact(phone="+923001234567", district="lahore", source_id=earlier.id,
                        language="ur"))
    session.flush()
    refer(session, content, settings, shazia, source)
    found = contact(session)
    assert (found.district, found.source_id, found.language) == ("lahore", earlier.id, "ur")
    [touch] = session.exec(select(SourceTouch)).all()
    assert (touch.source_id, touch.first) == (source.id, False)


def test_refer_queues_one_message_in_their_language_with_its_template(
        session, content, settings, shazia, source):
    referral = refer(session, content, settings, shazia, source, language="ps")
    [item] = session.exec(select(Outbox)).all()
    assert item.body == content.text("session_referral_received", "ps",
                                     reference=referral.reference)
    assert (item.kind, item.priority, item.channel, item.referral_id) == (
        cm.KIND, Priority.CASE_UPDATE, "whatsapp", referral.id)
    assert (item.template_key, item.template_variables) == (
        "session_referral", {"1": referral.reference})


def test_refer_by_sms_when_they_never_wrote(session, content, settings, shazia, source):
    refer(session, content, settings, shazia, source, channel="sms")
    assert session.exec(select(Outbox.channel)).one() == "sms"


def test_refer_uses_the_channel_they_last_wrote_from(session, content, settings, shazia,
                                                     source):
    known = Contact(phone="+923001234567")
    session.add(known)
    session.flush()
    session.add(Message(contact_id=known.id, channel="sms", direction=Direction.IN, body="hi"))
    session.flush()
    referral = refer(session, content, settings, shazia, source, channel="whatsapp")
    assert referral.channel == "sms" and session.exec(select(Outbox.channel)).one() == "sms"


def test_refer_keeps_the_consent_wording_and_who_referred(session, content, settings, shazia,
                                                          source):
    referral = refer(session, content, settings, shazia, source, name="Bilal")
    notes = session.exec(select(ReferralEvent.note).where(
        ReferralEvent.referral_id == referral.id).order_by(col(ReferralEvent.id))).all()
    assert notes[0] == "created"
    assert WORDING in notes[1] and "Shazia" in notes[1] and "SLK1" in notes[1]
    assert "Bilal" in notes[1]


def test_refer_without_consent_writes_nothing(session, content, settings, shazia, source):
    with pytest.raises(cm.ReferralError) as refused:
        refer(session, content, settings, shazia, source, consent=False)
    assert refused.value.field == "consent"
    assert session.exec(select(Referral)).all() == [] and session.exec(select(Contact)).all() == []


def test_refer_another_changemakers_source_refused(session, content, settings, source):
    other = Staff(email="bilal@mrc.example", name="Bilal", centre="mrc-lahore",
                  role=Role.CHANGEMAKER, password_hash="x")
    session.add(other)
    session.flush()
    with pytest.raises(cm.NotYourSource):
        refer(session, content, settings, other, source)


@pytest.mark.parametrize(("field", "value"), [("phone", "12"), ("district", "Atlantis"),
                                              ("category", "bribe"), ("language", "fr"),
                                              ("description", "  "), ("channel", "fax")])
def test_refer_refuses_a_bad_field(session, content, settings, shazia, source, field, value):
    with pytest.raises(cm.ReferralError) as refused:
        refer(session, content, settings, shazia, source, **{field: value})
    assert refused.value.field == field


def test_refer_danger_is_urgent(session, content, settings, shazia, source):
    referral = refer(session, content, settings, shazia, source, category="passport_held")
    assert referral.priority == "urgent"


def test_refer_someone_who_sent_stop_gets_no_message(session, content, settings, shazia,
                                                     source):
    session.add(Contact(phone="+923001234567", opted_out=True))
    session.flush()
    refer(session, content, settings, shazia, source)
    assert session.exec(select(Referral)).one() is not None
    assert session.exec(select(Outbox)).all() == []


def test_record_session_district_defaults_to_the_sources(session, content, shazia, source):
    held = cm.record_session(session, content=content, staff=shazia, source=source,
                             held_on=date.today(), attendees=40)
    assert (held.district, held.attendees, held.recorded_by_staff_id) == (
        "sialkot", 40, shazia.id)


def test_record_session_in_another_district(session, content, shazia, source):
    held = cm.record_session(session, content=content, staff=shazia, source=source,
                             held_on=date.today(), attendees=5, district="نارووال")
    assert held.district == "narowal"


def test_record_session_refuses_a_future_date(session, content, shazia, source):
    with pytest.raises(cm.ReferralError) as refused:
        cm.record_session(session, content=content, staff=shazia, source=source,
                          held_on=date.today() + timedelta(days=2), attendees=5)
    assert refused.value.field == "held_on"


def test_record_session_another_changemakers_source_refused(session, content, source):
    other = Staff(email="bilal@mrc.example", name="Bilal", centre="mrc-lahore",
                  role=Role.CHANGEMAKER, password_hash="x")
    session.add(other)
    session.flush()
    with pytest.raises(cm.NotYourSource):
        cm.record_session(session, content=content, staff=other, source=source,
                          held_on=date.today(), attendees=5)


def test_sessions_of_newest_first(session, content, shazia, source):
    for days_ago in (3, 1, 2):
        cm.record_session(session, content=content, staff=shazia, source=source,
                          held_on=date.today() - timedelta(days=days_ago), attendees=days_ago)
    held = cm.sessions_of(session, [source.id])
    assert [h.attendees for h in held] == [1, 2, 3]
    assert cm.sessions_of(session, []) == [] and isinstance(held[0], OutreachSession)



def test_refer_a_number_already_known_does_not_make_it_the_changemakers(
        session, content, settings, shazia, source):
    """Typing in someone's number must not move their past into a changemaker's figures."""
    session.add(Contact(phone="+923001234567"))
    session.flush()
    refer(session, content, settings, shazia, source)
    [touch] = session.exec(select(SourceTouch)).all()
    assert contact(session).source_id is None and touch.first is False


@pytest.mark.parametrize("phone", ["+1 900 555 0100", "+882 16 0000 0000", "042 35761234",
                                   "+971 50 123 4567"])
def test_refer_refuses_numbers_that_are_not_pakistani_mobiles(session, content, settings,
                                                             shazia, source, phone):
    with pytest.raises(cm.ReferralError) as refused:
        refer(session, content, settings, shazia, source, phone=phone)
    assert refused.value.field == "phone"


def test_refer_stops_after_a_days_limit(session, content, settings, shazia, source):
    for n in range(cm.MAX_REFERRALS_PER_DAY):
        refer(session, content, settings, shazia, source, phone=f"0300{n:07d}")
    with pytest.raises(cm.ReferralError) as refused:
        refer(session, content, settings, shazia, source, phone="03009999999")
    assert "a day" in refused.value.reason


def test_refer_an_opted_out_number_attributes_nothing(session, content, settings, shazia,
                                                      source):
    session.add(Contact(phone="+923001234567", opted_out=True))
    session.flush()
    refer(session, content, settings, shazia, source)
    assert session.exec(select(SourceTouch)).all() == []
    assert session.exec(select(Outbox)).all() == []
