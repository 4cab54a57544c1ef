"""The complaint intake through the engine (fake NLU, real database), in every language."""


import pytest
from sqlmodel import Session, select

from bot.casework.evidence import Evidence
from bot.casework.referrals import Referral, ReferralEvent, add_note
from bot.conversation.contacts import Contact
from bot.conversation.inbox import receive
from bot.conversation.language import Lang
from bot.conversation.turn import Media
from bot.db import session_scope
from bot.registry.licence_import import import_licences
from tests.factories import inbound

PHONE = "+923001234567"
# The answers a person gives at each step, in each language.
RUNS = {
    Lang.UR: ["ہاں", "1", "ایجنٹ نے پیسے لیے اور ویزا نہیں دیا", "راوی مین پاور 0848/LHR",
              "تین لاکھ", "گجرات", "1", "1"],
    Lang.UR_LATN: ["haan ji", "1", "agent ne paise le liye visa nahi diya", "Ravi 0848 lhr",
                   "3 lakh", "Gujrat", "1", "1"],
    Lang.PA: ["آہو", "1", "ایجنٹ نے پیسے لے لئے تے ویزا نئیں دتا", "راوی مین پاور 0848/LHR",
              "تن لکھ", "گجرات", "1", "1"],
    Lang.PS: ["هو", "1", "ایجنټ زما پیسې واخیستې او ویزه یې رانه کړه", "راوي 0848/LHR",
              "درې لکه", "سوات", "1", "1"],
    Lang.EN: ["yes", "1", "the agent took my money and gave no visa", "Ravi Manpower 0848/LHR",
              "300000", "Gujrat", "1", "1"],
}
PROMPTS = ["complaint_category", "complaint_describe", "complaint_agent", "complaint_money",
           "complaint_location", "complaint_callback", "complaint_summary"]


def say(db, bot, body, phone=PHONE, media=()):
    return "\n".join(r.body for r in receive(db, bot, inbound(body, phone=phone,
                                                              media=media)).replies)


def referrals(db) -> list[Referral]:
    with Session(db) as session:
        return list(session.exec(select(Referral).order_by(Referral.id)))


@pytest.fixture
def registry(db):
    with session_scope(db) as session:
        import_licences(session, "licence_no,name,city,status\n0848/LHR,Ravi Manpower,Lahore,"
                        "suspended\n", file_name="list.csv")


def choose_language(db, bot, language: Lang, phone=PHONE) -> None:
    say(db, bot, "language", phone)
    say(db, bot, str(list(Lang).index(language) + 1), phone)


@pytest.mark.parametrize("language", list(RUNS))
def test_complaint_every_step_in_every_language(db, bot, content, registry, language):
    choose_language(db, bot, language)
    assert say(db, bot, "5") == content.text("complaint_consent", language)
    answers = RUNS[language]
    for answer, prompt in zip(answers[:-1], PROMPTS, strict=True):
        reply = say(db, bot, answer)
        assert content.text(prompt, language) in reply, (answer, reply)
    final = say(db, bot, answers[-1])
    [referral] = referrals(db)
    assert content.text("complaint_received", language, reference=referral.reference,
                        hours=48) in final
    assert (referral.category, referral.amount, referral.licence_no) == (
        "money_no_job", 300_000, "0848/LHR")
    assert referral.callback_phone == PHONE and referral.language == language


def test_complaint_story_in_first_message_is_not_asked_again(db, bot, content, fake_nlu):
    story = "agent ne mujh se 3 lakh liye saudi ka visa dene ka kaha ab phone band hai"
    fake_nlu.teach(story, "file_complaint")
    assert content.text("complaint_consent", Lang.UR_LATN) in say(db, bot, story)
    say(db, bot, "haan")
    assert content.text("complaint_agent", Lang.UR_LATN) in say(db, bot, "1")


def test_complaint_routes_to_the_district_centre(db, bot):
    for answer in ["5", "haan", "3", "they changed my job", "skip", "skip", "Swat", "1", "1"]:
        say(db, bot, answer)
    assert referrals(db)[0].centre == "mrc-peshawar"


def test_complaint_cancel_at_any_step_saves_nothing(db, bot, content):
    for answer in ["5", "haan", "2"]:
        say(db, bot, answer)
    assert say(db, bot, "cancel") == content.text("complaint_cancelled", Lang.UR_LATN)
    assert referrals(db) == []


def test_complaint_back_returns_to_the_previous_question(db, bot, content):
    for answer in ["5", "haan", "1", "agent ne paise le liye"]:
        say(db, bot, answer)
    assert content.text("complaint_describe", Lang.UR_LATN) in say(db, bot, "back")


def test_complaint_nonsense_is_asked_again_with_example(db, bot, content):
    for answer in ["5", "haan", "1", "agent ne paise le liye", "skip"]:
        say(db, bot, answer)
    reply = say(db, bot, "bohat zyada")
    assert content.text("complaint_reask", Lang.UR_LATN) in reply
    assert content.text("complaint_money", Lang.UR_LATN) in reply


def test_complaint_resumes_after_menu_within_24_hours(db, bot, content):
    for answer in ["5", "haan", "1", "agent ne paise le liye"]:
        say(db, bot, answer)
    say(db, bot, "0")
    reply = say(db, bot, "5")
    assert content.text("complaint_resumed", Lang.UR_LATN) in reply
    assert content.text("complaint_agent", Lang.UR_LATN) in reply


def test_complaint_older_than_24_hours_starts_again(db, bot, content):
    for answer in ["5", "haan", "1"]:
        say(db, bot, answer)
    with session_scope(db) as session:
        contact = session.exec(select(Contact)).one()
        intake = dict(contact.state["intake"])
        intake["touched_at"] = "2020-01-01T00:00:00+00:00"
        contact.state = {**contact.state, "intake": intake}
    assert content.text("complaint_consent", Lang.UR_LATN) in say(db, bot, "5")


def test_complaint_threats_are_urgent_with_emergency_contacts_at_once(db, bot, content):
    for answer in ["5", "haan"]:
        say(db, bot, answer)
    reply = say(db, bot, "6")
    assert content.text("complaint_urgent_help", Lang.UR_LATN) in reply
    for answer in ["kafeel maarta hai", "skip", "skip", "Saudi", "1", "1"]:
        say(db, bot, answer)
    assert referrals(db)[0].priority == "urgent"


def test_complaint_passport_held_abroad_is_urgent(db, bot, content):
    for answer in ["5", "haan", "4", "company passport nahi de rahi", "skip", "skip"]:
        say(db, bot, answer)
    assert content.text("complaint_urgent_help", Lang.UR_LATN) in say(db, bot, "Qatar")
    for answer in ["1", "1"]:
        say(db, bot, answer)
    assert referrals(db)[0].priority == "urgent"
    assert referrals(db)[0].location_country == "Qatar"


def test_complaint_danger_words_in_the_story_make_it_urgent(db, bot):
    for answer in ["5", "haan", "7", "hamein kamre mein band kar rakha hai khana nahi dete",
                   "skip", "skip", "Oman", "1", "1"]:
        say(db, bot, answer)
    assert referrals(db)[0].priority == "urgent"


def test_complaint_other_callback_number_is_validated(db, bot, content):
    for answer in ["5", "haan", "1", "agent ne paise le liye", "skip", "skip", "Lahore", "2"]:
        say(db, bot, answer)
    assert content.text("complaint_reask", Lang.UR_LATN) in say(db, bot, "12345")
    assert "+923219876543" in say(db, bot, "0321 9876543")
    say(db, bot, "1")
    assert referrals(db)[0].callback_phone == "+923219876543"


def test_complaint_correcting_returns_to_the_summary(db, bot, content):
    for answer in ["5", "haan", "1", "agent ne paise le liye", "skip", "2 lakh", "Lahore", "1"]:
        say(db, bot, answer)
    say(db, bot, "2")  # correct something
    say(db, bot, "3")  # the money
    reply = say(db, bot, "4 lakh")
    assert content.text("complaint_summary", Lang.UR_LATN) in reply and "400,000" in reply
    say(db, bot, "1")
    assert referrals(db)[0].amount == 400_000


def test_complaint_second_about_same_agent_joins_the_open_one(db, bot, content, registry):
    steps = ["5", "haan", "1", "agent ne paise le liye", "0848/LHR", "skip", "Lahore", "1", "1"]
    for answer in steps:
        say(db, bot, answer)
    for answer in steps[:-1]:
        say(db, bot, answer)
    reply = say(db, bot, "1")
    [referral] = referrals(db)
    assert content.text("complaint_joined", Lang.UR_LATN, reference=referral.reference) in reply
    with Session(db) as session:
        notes = session.exec(select(ReferralEvent).where(ReferralEvent.note != "created")).all()
    assert len(notes) == 1


def test_complaint_photos_are_kept_as_evidence(db, bot, content):
    for answer in ["5", "haan", "1"]:
        say(db, bot, answer)
    photo = Media("https://api.twilio.com/2010-04-01/Media/ME1", "image/jpeg")
    assert content.text("complaint_evidence_saved", Lang.UR_LATN) in say(db, bot, "",
                                                                          media=[photo])
    for answer in ["agent ne paise le liye", "skip", "skip", "Lahore", "1", "1"]:
        say(db, bot, answer)
    with Session(db) as session:
        [evidence] = session.exec(select(Evidence)).all()
    assert evidence.referral_id == referrals(db)[0].id and evidence.status == "pending"


def test_status_shows_own_complaint_and_the_note_for_the_worker(db, bot, content, fake_nlu):
    for answer in ["5", "haan", "1", "agent ne paise le liye", "skip", "skip", "Lahore", "1",
                   "1"]:
        say(db, bot, answer)
    [referral] = referrals(db)
    with session_scope(db) as session:
        add_note(session, session.get(Referral, referral.id), actor="staff:1",
                 note="We called the Protector office.", for_worker=True)
    fake_nlu.teach("meri shikayat ka kya bana", "complaint_status")
    reply = say(db, bot, "meri shikayat ka kya bana")
    assert referral.reference in reply and "We called the Protector office." in reply


def test_status_with_someone_elses_reference_reveals_nothing(db, bot, content, fake_nlu):
    for answer in ["5", "haan", "1", "agent ne paise le liye", "skip", "skip", "Lahore", "1",
                   "1"]:
        say(db, bot, answer)
    reference = referrals(db)[0].reference
    text = f"status {reference.lower()}"
    fake_nlu.teach(text, "complaint_status")
    reply = say(db, bot, text, phone="+923339998877")
    assert reply.startswith(content.text("status_unknown_reference", Lang.UR_LATN))
    assert reference not in reply


def test_talk_to_a_person_becomes_one_callback_referral(db, bot, content):
    first = say(db, bot, "7")
    say(db, bot, "7")
    [referral] = referrals(db)
    assert referral.category == "callback"
    assert content.text("callback_received", Lang.UR_LATN,
                        reference=referral.reference) in first
