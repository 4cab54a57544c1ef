"""The conversation layer's rules: typed state, danger first, SMS lists, names across scripts,
prompts that do not swallow questions, places in every script (fake NLU, real database)."""

from sqlmodel import Session, select

from bot.casework.referrals import Referral
from bot.conversation.channels import Channel, fits
from bot.conversation.contacts import Contact
from bot.conversation.inbox import receive
from bot.conversation.language import Lang
from bot.conversation.render import Limits, render
from bot.conversation.state import ConversationState
from bot.db import session_scope
from bot.registry.licence_import import decode, import_licences
from bot.registry.names import distinctive, similarity
from bot.settings import PROJECT_ROOT
from tests.factories import inbound

PHONE = "+923001234567"


def say(db, bot, body, *, channel=Channel.WHATSAPP, phone=PHONE):
    return receive(db, bot, inbound(body, phone=phone, channel=channel)).replies


def state_of(db, phone=PHONE) -> ConversationState:
    with Session(db) as session:
        contact = session.exec(select(Contact).where(Contact.phone == phone)).one()
        return ConversationState.load(contact.state)


def test_state_keeps_a_paused_intake_when_another_flow_starts():
    state = ConversationState(flow="complaint", intake={"step": "agent", "values": {}})
    state.enter("choices", options=["topic:fees"])
    assert state.intake == {"step": "agent", "values": {}} and state.paused_intake
    state.leave()
    assert state.intake is not None
    state.reset()
    assert state.intake is None


def test_state_reads_the_first_versions_shape():
    state = ConversationState.load({"flow": "choices", "options": ["topic:fees"], "more": "x"})
    assert state.data["options"] == ["topic:fees"] and state.more == "x"


def test_danger_first_message_gets_help_with_the_country_number_before_any_form(db, bot):
    replies = say(db, bot, "mera beta riyadh mein hai kafeel ne kamre mein band kar diya hai")
    keys = {k for r in replies for k in r.keys}
    assert {"danger_help_family", "danger_offer"} <= keys
    assert "911" in "\n".join(r.body for r in replies)
    assert "complaint_consent" not in keys


def test_danger_reply_1_files_an_urgent_complaint_for_the_family(db, bot):
    say(db, bot, "mera beta riyadh mein hai kafeel ne kamre mein band kar diya hai")
    for answer in ["1", "1", "1"]:
        say(db, bot, answer)
    with Session(db) as session:
        referral = session.exec(select(Referral)).one()
    assert referral.priority == "urgent" and referral.location_country == "Saudi Arabia"
    assert "band kar diya" in referral.description


def test_danger_mid_intake_marks_it_urgent_and_asks_the_step_again(db, bot):
    for answer in ["5", "haan", "1", "agent ne paise le liye aur visa nahi diya"]:
        say(db, bot, answer)
    replies = say(db, bot, "ab woh mujhe maarte hain aur dhamki dete hain")
    keys = {k for r in replies for k in r.keys}
    assert "danger_marked_urgent" in keys and "complaint_agent" in keys
    assert state_of(db).intake["urgent"] is True


def test_sms_list_is_never_split_by_a_page_break(db, bot):
    for answer in ["5", "ہاں"]:
        replies = say(db, bot, answer, channel=Channel.SMS)
    body = replies[-1].body
    assert "6 " in body and "7 " in body
    assert all(fits(r.body, Channel.SMS, sms_max_segments=3) for r in replies)


def test_render_sends_the_text_first_and_the_list_whole():
    limits = Limits(Channel.SMS, 3, "MORE")
    long_text = "ا" * 300
    messages, more = render([long_text, "choose:\n1 a\n2 b\n3 c"], limits)
    assert messages[-1].endswith("3 c") and "1 a" in messages[-1]
    assert more and all(fits(m, Channel.SMS, sms_max_segments=3) for m in messages)


def test_money_step_takes_nothing_paid_in_every_form(db, bot):
    for number, nothing in enumerate(["kuch nahi diya", "کچھ نہیں دیا", "کجھ نئیں دتا",
                                      "هیڅ نه", "nothing"]):
        phone = f"+92300765432{number}"
        for answer in ["5", "haan", "1", "agent ne paise le liye", "skip"]:
            say(db, bot, answer, phone=phone)
        say(db, bot, nothing, phone=phone)
        assert state_of(db, phone).intake["step"] == "location", nothing


def test_agent_step_does_not_store_a_question_or_a_digit(db, bot, fake_nlu):
    fake_nlu.teach("wait how much is the legal fee?", "ask_fees", 0.95)
    for answer in ["5", "haan", "1", "agent ne paise le liye"]:
        say(db, bot, answer)
    replies = say(db, bot, "wait how much is the legal fee?")
    assert "topic:fees" in replies[0].keys and "complaint_agent" in replies[0].keys
    say(db, bot, "9")
    intake = state_of(db).intake
    assert intake["step"] == "agent" and "agent_name" not in intake["values"]


def test_location_keeps_home_district_and_country_and_routes_home(db, bot):
    for answer in ["5", "haan", "5", "company ne 4 mahine se tankhwah nahi di", "skip", "skip",
                   "بیٹا سعودی عرب میں ہے، ہم ملتان سے ہیں", "1", "1"]:
        say(db, bot, answer)
    with Session(db) as session:
        referral = session.exec(select(Referral)).one()
    assert (referral.location_district, referral.location_country) == ("multan", "Saudi Arabia")
    assert referral.centre == "mrc-lahore"


def test_places_match_every_script(content):
    for spelling in ["پشاور", "پېښور", "pishawar", "Peshawar"]:
        assert content.district_in(spelling) == "peshawar", spelling
    assert content.country_in("ریاض") == "Saudi Arabia"
    assert content.district_in("ریاض") is None


def test_names_match_across_scripts():
    crescent = distinctive("Crescent Overseas Employment Promoters")
    assert similarity(distinctive("کریسنٹ اوورسیز"), crescent) >= 88
    assert similarity(distinctive("kresent oversis"), crescent) >= 88
    assert similarity(distinctive("golden gate overseas"), crescent) < 75


def test_licence_by_urdu_name_answers_with_the_lists_date(db, bot):
    with session_scope(db) as session:
        sample = PROJECT_ROOT / "content" / "samples" / "licences_sample.csv"
        from datetime import date
        import_licences(session, decode(sample.read_bytes()), file_name="sample.csv",
                        list_date=date(2026, 11, 15))
    say(db, bot, "3")
    text = "\n".join(r.body for r in say(db, bot, "سلور سٹار مین پاور سروسز"))
    assert "15-11-2026" in text or "2214/MLK" in text


def test_short_replies_keep_the_language(db, bot, fake_nlu):
    say(db, bot, "how much fee can an agent legally take from me")
    replies = say(db, bot, "2.5 lakh")
    assert all(r.language == Lang.EN for r in replies)


DANGER = {
    "ur": ["کفیل نے میرے بھائی کو کمرے میں بند کر رکھا ہے", "وہ روز مارتے ہیں اور کھانا نہیں دیتے"],
    "ur-Latn": ["mere shohar ko company wale maarte hain",
                "kafeel dhamkiyan de raha hai jaan se maar dega"],
    "pa": ["میرے پتر نوں کمرے وچ بند کر دتا اے", "اوہنوں روز مار کٹ کردے نیں"],
    "ps": ["زما زوی یې په کوټه کې بند کړی دی", "هره ورځ یې وهي او ډوډۍ نه ورکوي"],
    "en": ["they locked my son in a room",
           "my husband is beaten every day and they give him no food"],
}
HARMLESS = {
    "ur": ["ایجنٹ نے فون بند کر دیا ہے", "کیا کمپنی کھانا دیتی ہے؟"],
    "ur-Latn": ["agent ka phone band hai", "band karo ye messages"],
    "pa": ["ایجنٹ دا فون بند اے", "فیس کنی ہوندی اے؟"],
    "ps": ["د ایجنټ ټیلیفون بند دی", "فیس څومره ده؟"],
    "en": ["the agent switched off his phone", "is food included in the contract?"],
}


def test_danger_signs_are_caught_in_every_form(content):
    for form, messages in DANGER.items():
        for message in messages:
            assert content.is_urgent(message), (form, message)


def test_ordinary_questions_are_not_danger_in_any_form(content):
    for form, messages in HARMLESS.items():
        for message in messages:
            assert not content.is_urgent(message), (form, message)


PASSPORT_HELD_ABROAD = {
    "ur": "میرا بیٹا دبئی میں ہے کمپنی نے اس کا پاسپورٹ رکھ لیا ہے",
    "ur-Latn": "bhai riyadh me hai kafeel ne passport rakh liya",
    "pa": "میرا پتر قطر وچ اے، کفیل نے پاسپورٹ رکھ لیا",
    "ps": "زما زوی په دوبۍ کې دی، کمپنۍ یې پاسپورټ اخیستی",
    "en": "my son went to Oman through an agent and now the company kept his passport",
}
PASSPORT_AT_HOME = {
    "ur": "ایجنٹ نے سعودی ویزا کے لیے پاسپورٹ رکھ لیا ہے",
    "ur-Latn": "agent ne dubai ka passport rakh liya",
    "pa": "ایجنٹ نے پاسپورٹ رکھ لیا اے",
    "ps": "ایجنټ د ویزې لپاره پاسپورټ یې اخیستی",
    "en": "the agent kept my passport for the Saudi visa",
}


def test_a_passport_held_abroad_is_danger_one_kept_by_an_agent_at_home_is_not(content):
    """FACTS.md s.6: passport retention abroad is urgent; a passport an agent keeps at home
    (for a visa) is a red flag, answered with the passport topic."""
    for form, message in PASSPORT_HELD_ABROAD.items():
        assert content.is_urgent(message), (form, message)
    for form, message in PASSPORT_AT_HOME.items():
        assert not content.is_urgent(message), (form, message)


def test_family_words_are_recognised_in_every_form(content):
    for message in ["mera beta saudi mein hai", "میرا بیٹا قطر میں ہے", "میرا پتر دبئی وچ اے",
                    "زما زوی په سعودي کې دی", "my son is in Dubai"]:
        assert content.signal("relatives", message), message


def test_menu_digit_at_a_free_text_step_resumes_without_asking_twice(db, bot):
    for answer in ["5", "haan", "1", "agent ne paise le liye"]:
        say(db, bot, answer)
    keys = [k for r in say(db, bot, "5") for k in r.keys]
    assert keys.count("complaint_agent") == 1


def test_place_said_at_a_numbered_step_is_kept_and_routes_home(db, bot):
    say(db, bot, "mera beta qatar mein hai company wale usay maarte hain aur khana nahi dete")
    for answer in ["1", "hum sialkot se hain", "1", "1"]:
        say(db, bot, answer)
    with Session(db) as session:
        referral = session.exec(select(Referral)).one()
    assert (referral.location_district, referral.centre) == ("sialkot", "mrc-lahore")
    assert referral.priority == "urgent"


def test_a_name_with_its_kind_of_agency_prefers_that_kind(db, bot):
    with session_scope(db) as session:
        import_licences(session, "licence_no,name,city,status\n0848/LHR,Crescent Overseas,"
                        "Lahore,valid\n5012/KHI,Crescent Recruiting Agency,Karachi,cancelled\n",
                        file_name="list.csv")
    say(db, bot, "3")
    text = "\n".join(r.body for r in say(db, bot, "کریسنٹ اوورسیز"))
    assert "0848/LHR" in text and "5012/KHI" not in text


def test_an_amount_at_the_agent_step_is_not_the_agents_name(db, bot):
    for answer in ["5", "haan", "1", "agent ne paise le liye"]:
        say(db, bot, answer)
    replies = say(db, bot, "2.5 lakh")
    assert "complaint_agent" in replies[0].keys
    assert "agent_name" not in state_of(db).intake["values"]
