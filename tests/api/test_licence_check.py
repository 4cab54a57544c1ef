"""The licence check in every language, through the signed webhook."""

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from bot.conversation.language import Lang, detect
from bot.db import session_scope
from bot.registry.licence_import import import_licences
from tests.factories import signed, twilio_form

CSV = """licence_no,name,proprietor,address,city,phone,status,valid_until
2214/MLK,Swat Valley Overseas Promoters,A,Addr,Malakand,0300-1111111,valid,31-12-2027
0848/LHR,Ravi Manpower Services,B,Addr,Lahore,0300-2222222,suspended,
2214/LHR,Lahore Gulf Recruiting,C,Addr,Lahore,0300-3333333,cancelled,
"""
# A question asking about 2214/MLK, in each language form.
ASK = {
    Lang.UR: "کیا یہ ایجنٹ ٹھیک ہے؟ لائسنس ۲۲۱۴/MLK ہے",
    Lang.UR_LATN: "ye agent theek hai? license 2214 mlk hai",
    Lang.PA: "ایہہ ایجنٹ ٹھیک اے؟ اوہدا لائسنس 2214-MLK اے",
    Lang.PS: "دا ایجنټ سم دی؟ د لایسنس شمېره ۲۲۱۴/MLK ده",
    Lang.EN: "is this agent genuine? his licence is 2214/MLK",
}


@pytest.fixture
def client(settings, bot, db):
    with session_scope(db) as session:
        import_licences(session, CSV, file_name="beoe-list.csv")
    return TestClient(create_app(settings, bot))


def send(client, text, sender="whatsapp:+923001230099") -> str:
    body, headers = signed(twilio_form(text, sender=sender))
    response = client.post("/webhooks/twilio", content=body, headers=headers)
    assert response.status_code == 200
    return "\n".join(m.text or "" for m in ET.fromstring(response.text).iter("Message"))


@pytest.mark.parametrize("language", list(ASK))
def test_licence_check_valid_licence_in_every_language(client, content, language):
    reply = send(client, ASK[language], sender=f"whatsapp:+92300{list(ASK).index(language)}11")
    assert "Swat Valley Overseas Promoters" in reply and "31-12-2027" in reply
    assert content.text("licence_advice_valid", language) in reply
    assert detect(reply.replace("Swat Valley Overseas Promoters", "")).language == language


def test_licence_check_suspended_licence_says_do_not_pay(client, content):
    reply = send(client, "0848/LHR")
    assert "Ravi Manpower Services" in reply
    assert content.text("licence_advice_stop", Lang.UR_LATN) in reply


def test_licence_check_number_alone_lists_every_office(client):
    send(client, "3")  # menu: check an agent
    reply = send(client, "2214")
    assert "2214/LHR" in reply and "2214/MLK" in reply
    assert "Lahore Gulf Recruiting" in send(client, "1")


def test_licence_check_by_name_with_a_typo(client):
    send(client, "3")
    assert "0848/LHR" in send(client, "ravi manpowr services")


def test_licence_check_unknown_number_is_not_on_the_list(client, content):
    reply = send(client, "7777/LHR")
    today = datetime.now(UTC).strftime("%d-%m-%Y")
    assert reply.startswith(content.text("licence_not_found", Lang.UR_LATN, query="7777/LHR",
                                         date=today))


def test_licence_check_without_a_registry_explains_how_to_check(settings, bot, db, content):
    client = TestClient(create_app(settings, bot))
    reply = send(client, "3")
    assert content.text("licence_no_list", Lang.UR_LATN) in reply
