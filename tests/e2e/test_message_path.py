"""A signed message through the real app, the real Rasa model and the real database."""

import json
import os
import subprocess
import xml.etree.ElementTree as ET

import pytest
from sqlmodel import Session, select

from bot.conversation.contacts import Message
from bot.conversation.language import Lang, detect
from bot.settings import PROJECT_ROOT
from tests.e2e.conftest import AppServer, RasaServer, e2e_settings
from tests.factories import new_sid, signed, twilio_form

pytestmark = pytest.mark.rasa


def send(app: AppServer, body: str, sender: str, sid: str | None = None) -> list[str]:
    payload, headers = signed(twilio_form(body, sender=sender, sid=sid))
    response = app.post(payload, headers)
    assert response.status_code == 200, response.text
    return [m.text or "" for m in ET.fromstring(response.text).iter("Message")]


def last_inbound(db) -> Message:
    with Session(db) as session:
        return session.exec(select(Message).where(Message.direction == "in")
                            .order_by(Message.id.desc())).first()


def test_e2e_roman_urdu_whatsapp_fee_question_gets_the_legal_fees(app_server, db, content):
    [reply] = send(app_server, "agent kitni fees le sakta hai", "whatsapp:+923001230001")
    assert "15,000" in reply and "ILO" in reply
    assert detect(reply).language == Lang.UR_LATN
    stored = last_inbound(db)
    assert (stored.intent, stored.nlu, stored.language) == ("ask_fees", "rasa", "ur-Latn")


def test_e2e_urdu_script_sms_is_answered_in_urdu_script(app_server, db):
    # The answer, then (once, on a first question) whether they want alerts.
    reply, *_ = send(app_server, "ایجنٹ مجھ سے کتنی فیس لے سکتا ہے؟", "+923001230002")
    assert detect(reply).language == Lang.UR and "15,000" in reply
    assert last_inbound(db).intent == "ask_fees"


@pytest.mark.parametrize("text,language,intent", [
    ("ایجنټ زما پاسپورټ نه راکوي", Lang.PS, "passport_held"),
    ("میرے پتر نوں تن مہینیاں توں تنخواہ نئیں ملی", Lang.PA, "unpaid_wages"),
    ("my son's employer in Saudi has not paid his salary for three months", Lang.EN,
     "unpaid_wages"),
])
def test_e2e_each_language_is_answered_in_that_language(app_server, db, text, language, intent):
    [reply] = send(app_server, text, "whatsapp:+923001230003")
    assert last_inbound(db).intent == intent
    assert detect(reply).language == language


def test_e2e_duplicate_message_sid_is_answered_once(app_server, db):
    sid = new_sid()
    first = send(app_server, "protector kahan hota hai", "whatsapp:+923001230004", sid=sid)
    second = send(app_server, "protector kahan hota hai", "whatsapp:+923001230004", sid=sid)
    assert first == second
    with Session(db) as session:
        assert len(session.exec(select(Message).where(Message.sid == sid)).all()) == 1


def test_e2e_bad_signature_is_refused(app_server):
    payload, headers = signed(twilio_form("hello"), token="wrong")
    assert app_server.post(payload, headers).status_code == 403


def test_e2e_bot_still_answers_when_rasa_stops_mid_run(database_url, db):
    rasa = RasaServer()  # its own server: the shared one keeps serving the other tests
    app = AppServer(e2e_settings(database_url, rasa.url))
    try:
        send(app, "agent kitni fees le sakta hai", "whatsapp:+923001230005")
        assert last_inbound(db).nlu == "rasa"
        rasa.stop()
        [reply] = send(app, "mera passport agent ne rakh liya", "whatsapp:+923001230005")
        stored = last_inbound(db)
        assert stored.nlu == "fallback" and stored.intent == "passport_held"
        assert reply
    finally:
        rasa.stop()
        app.stop()


def test_e2e_ask_cli_prints_json_from_the_real_model(rasa):
    env = os.environ | {"RASA_URL": rasa.url}
    output = subprocess.run(
        [str(PROJECT_ROOT / ".venv" / "bin" / "rahnuma"), "ask", "--json",
         "agent kitni fees le sakta hai"],
        capture_output=True, text=True, env=env, check=True, cwd=PROJECT_ROOT).stdout
    record = json.loads(output)
    assert set(record) == {"text", "language", "intent", "confidence", "nlu", "reply"}
    assert (record["intent"], record["nlu"], record["language"]) == ("ask_fees", "rasa",
                                                                     "ur-Latn")


def test_e2e_ask_cli_jsonl_answers_each_line(rasa):
    env = os.environ | {"RASA_URL": rasa.url}
    output = subprocess.run(
        [str(PROJECT_ROOT / ".venv" / "bin" / "rahnuma"), "ask", "--jsonl"],
        input="salam\nFIA ka number kya hai\n", capture_output=True, text=True, env=env,
        check=True, cwd=PROJECT_ROOT).stdout
    records = [json.loads(line) for line in output.splitlines()]
    assert [r["text"] for r in records] == ["salam", "FIA ka number kya hai"]
    assert all(r["nlu"] == "rasa" and r["reply"] for r in records)


@pytest.mark.parametrize("text,expected", [
    ("agent ne 3 lakh liye saudi ke visa ke liye, licence 2214/mlk",
     {("amount", "3 lakh"), ("country", "saudi"), ("licence_no", "2214/mlk")}),
    ("ایجنٹ نے تین لاکھ لیے، دبئی کا ویزا", {("amount", "تین لاکھ"), ("country", "دبئی")}),
    ("ایجنټ درې لکه غواړي د قطر لپاره", {("amount", "درې لکه"), ("country", "قطر")}),
])
def test_e2e_rasa_extracts_the_entities_flows_need(rasa, text, expected):
    from bot.conversation.language import normalize
    from bot.conversation.nlu import RasaClient

    result = RasaClient(rasa.url, timeout=10).parse(normalize(text))
    found = {(e["entity"], e["value"]) for e in result.entities}
    assert expected <= found, found
