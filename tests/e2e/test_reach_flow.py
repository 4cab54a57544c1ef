"""Issue 15's whole path, as the people in it live it: a supervisor makes a changemaker's
source card; its link's text brings a new person through the signed webhook, who is attributed
to it, says yes to alerts and names Sialkot; the changemaker sees that person counted and
nothing personal; an alert to Sialkot, approved by a second person, reaches exactly the
opted-in people of Sialkot once through the worker and a local fake of Twilio, and Twilio's
delivery callback shows on the alert's page. Fake NLU; time never sleeps."""

import re
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlparse

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from bot.casework.staff import Role
from bot.messaging.scheduler import run_due
from bot.messaging.worker import run_once
from bot.outreach.jobs import job_handlers
from tests.api.staff_helpers import browser, csrf_of, login, make_staff, signed_in
from tests.bot.test_broadcasts import TEXTS
from tests.factories import signed, twilio_form

CARD, DIRECT, DECLINED, STOPPED, LAHORE = (f"+92300123992{n}" for n in range(5))


@pytest.fixture
def app(twilio_settings, bot, tmp_path):
    settings = twilio_settings
    settings.evidence_dir = tmp_path / "evidence"
    settings.alert_approval_threshold = 1  # two people in Sialkot: a second person approves
    return create_app(settings, bot)


def send(client: TestClient, phone: str, body: str) -> str:
    payload, headers = signed(twilio_form(body, sender=f"whatsapp:{phone}"))
    response = client.post("/webhooks/twilio", content=payload, headers=headers)
    assert response.status_code == 200, response.text
    return "\n".join(m.text or "" for m in ET.fromstring(response.text).iter("Message"))


def card_text(supervisor: TestClient, csrf: str, owner_id: int) -> str:
    made = supervisor.post("/staff/sources", data={
        "csrf_token": csrf, "name": "Shazia's sessions, Daska", "kind": "changemaker",
        "owner": str(owner_id), "district": "Sialkot", "code": ""}, follow_redirects=False)
    assert made.status_code == 303, made.text
    code = made.headers["location"].split("made=")[1]
    page = supervisor.get(f"/staff/sources/{code}").text
    link = re.search(r'href="(https://wa\.me/[^"]+)"', page).group(1).replace("&amp;", "&")
    return parse_qs(urlparse(link).query)["text"][0]


def test_e2e_card_brings_a_person_counted_for_the_changemaker_and_warned_once(
        app, db, settings, twilio, fake_nlu):
    fake_nlu.teach("fees kitni hai", "ask_fees")
    webhook = browser(app)  # over https, as Twilio calls it
    make_staff(db, "sara@mrc.example", role=Role.SUPERVISOR)
    make_staff(db, "imran@mrc.example", role=Role.ADMIN)
    shazia_id = make_staff(db, "shazia@mrc.example", role=Role.CHANGEMAKER)
    sara, sara_csrf = signed_in(app, "sara@mrc.example")

    prefilled = card_text(sara, sara_csrf, shazia_id)
    welcome = send(webhook, CARD, prefilled)
    assert "رہنما ہوں" in welcome  # in Urdu: the script of the link's keyword
    assert prefilled.split()[-1] not in welcome
    for phone, answers in {CARD: ["1", "Sialkot"], DIRECT: ["1", "sialkot"],
                           DECLINED: ["2"], STOPPED: ["1", "Sialkot", "stop alerts"],
                           LAHORE: ["1", "Lahore"]}.items():
        assert "1 Haan" in send(webhook, phone, "fees kitni hai")  # asked once, after it
        for answer in answers:
            send(webhook, phone, answer)

    shazia, _ = signed_in_changemaker(app)
    figures = shazia.get("/staff/changemaker").text
    assert re.search(r'id="people">1<', figures)
    assert not any(phone[-7:] in figures for phone in (CARD, DIRECT))
    assert "fees kitni hai" not in figures

    alert_id = write_alert(sara, sara_csrf)
    imran, imran_csrf = signed_in(app, "imran@mrc.example")
    # As the page's form does: with the fingerprint of the alert Imran read.
    read = re.search(r'name="fingerprint" value="(\w+)"',
                     imran.get(f"/staff/alerts/{alert_id}").text).group(1)
    assert act(imran, imran_csrf, alert_id, "approve", fingerprint=read).status_code == 303
    assert act(sara, sara_csrf, alert_id, "send").status_code == 303
    for _ in range(2):  # the queueing job (run twice: nobody is told twice), then the sending
        run_due(db, job_handlers(settings))
        run_once(settings)
    warned = {phone: [m for m in twilio.sent_to(phone) if TEXTS["ur-Latn"][:30] in
                      (m.body or "") + str(m.content_variables)]
              for phone in (CARD, DIRECT, DECLINED, STOPPED, LAHORE)}
    assert {phone: len(sent) for phone, sent in warned.items()} == {
        CARD: 1, DIRECT: 1, DECLINED: 0, STOPPED: 0, LAHORE: 0}

    body, headers = signed({"MessageSid": warned[CARD][0].sid, "MessageStatus": "delivered",
                            "AccountSid": settings.twilio_account_sid},
                           path="/webhooks/twilio/status")
    callback = webhook.post("/webhooks/twilio/status", content=body, headers=headers)
    assert callback.is_success, callback.text
    page = sara.get(f"/staff/alerts/{alert_id}").text
    assert re.search(r'id="figure-sent">\s*2\s*<', page)  # the two in Sialkot
    assert re.search(r'id="figure-delivered">\s*1\s*<', page)


def signed_in_changemaker(app) -> tuple[TestClient, str]:
    client = browser(app)
    assert login(client, "shazia@mrc.example").headers["location"] == "/staff/changemaker"
    return client, csrf_of(client.get("/staff/changemaker/refer").text)


def write_alert(client: TestClient, csrf: str) -> int:
    response = client.post("/staff/alerts", data={
        "csrf_token": csrf, "title": "Fake Italy visas, Sialkot", "districts": ["sialkot"],
        **{f"text_{lang}": text for lang, text in TEXTS.items()}}, follow_redirects=False)
    assert response.status_code == 303, response.text
    alert_id = int(re.search(r"/staff/alerts/(\d+)", response.headers["location"]).group(1))
    assert act(client, csrf, alert_id, "submit").status_code == 303
    return alert_id


def act(client: TestClient, csrf: str, alert_id: int, action: str, **data: str):
    return client.post(f"/staff/alerts/{alert_id}/{action}",
                       data={"csrf_token": csrf, **data}, follow_redirects=False)
