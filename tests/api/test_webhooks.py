"""The Twilio webhook: signatures, TwiML, duplicates and bad input (fake NLU)."""

import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlmodel import Session, func, select

from api.main import create_app
from bot.conversation.contacts import Message
from bot.conversation.language import Lang
from tests.factories import new_sid, signed, twilio_form


@pytest.fixture
def client(settings, bot, db):
    return TestClient(create_app(settings, bot))


def post(client, form, **kwargs):
    body, headers = signed(form, **kwargs)
    return client.post("/webhooks/twilio", content=body, headers=headers)


def twiml_messages(response) -> list[str]:
    assert response.headers["content-type"].startswith("application/xml")
    return [m.text or "" for m in ET.fromstring(response.text).iter("Message")]


def test_webhook_answers_whatsapp_with_twiml(client, content, fake_nlu):
    fake_nlu.teach("how much can the agent charge", "ask_fees")
    response = post(client, twilio_form("how much can the agent charge"))
    assert response.status_code == 200
    [reply] = twiml_messages(response)
    assert reply.startswith(content.fill(content.topics["fees"].whatsapp[Lang.EN])[:40])


def test_webhook_answers_sms_with_the_short_version(client, content, fake_nlu):
    fake_nlu.teach("how much can the agent charge", "ask_fees")
    response = post(client, twilio_form("how much can the agent charge", sender="+923001112223"))
    reply, *after = twiml_messages(response)  # after: the one-time question about alerts
    assert len(after) <= 1
    assert reply.startswith(content.fill(content.topics["fees"].sms[Lang.EN])[:40])


def test_webhook_rejects_a_wrong_signature(client):
    body, headers = signed(twilio_form("hi"), token="not-the-token")
    assert client.post("/webhooks/twilio", content=body, headers=headers).status_code == 403


def test_webhook_rejects_a_missing_signature(client):
    body, headers = signed(twilio_form("hi"))
    del headers["X-Twilio-Signature"]
    response = client.post("/webhooks/twilio", content=body, headers=headers)
    assert response.status_code == 403 and "X-Twilio-Signature" in response.json()["detail"]


def test_webhook_rejects_a_replayed_signature_with_changed_body(client):
    form = twilio_form("hi")
    _, headers = signed(form)
    tampered = urlencode({**form, "Body": "STOP"}).encode()
    assert client.post("/webhooks/twilio", content=tampered, headers=headers).status_code == 403


def test_webhook_without_auth_token_is_unavailable(settings, bot, db):
    settings.twilio_auth_token = None
    client = TestClient(create_app(settings, bot))
    response = post(client, twilio_form("hi"))
    assert response.status_code == 503 and "TWILIO_AUTH_TOKEN" in response.json()["detail"]


def test_webhook_signature_uses_public_base_url(client):
    response = post(client, twilio_form("hi"), base_url="http://testserver")
    assert response.status_code == 403


def test_webhook_duplicate_sid_answers_once(client, db):
    form = twilio_form("hello")
    first, second = post(client, form), post(client, form)
    assert twiml_messages(first) == twiml_messages(second)
    with Session(db) as session:
        assert session.exec(select(func.count()).select_from(Message)).one() == 2


def test_webhook_concurrent_duplicates_store_once(client, db):
    form = twilio_form("hello")
    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(lambda _: post(client, form), range(6)))
    assert {r.status_code for r in responses} == {200}
    assert len({tuple(twiml_messages(r)) for r in responses}) == 1
    with Session(db) as session:
        assert session.exec(select(func.count()).select_from(Message)
                            .where(Message.direction == "in")).one() == 1


def test_webhook_media_is_stored_and_answered(client, db, content):
    form = twilio_form("", NumMedia="1", MediaUrl0="https://api.twilio.com/media/ME1",
                       MediaContentType0="audio/ogg")
    [reply] = twiml_messages(post(client, form))
    assert reply in {content.text("media_unsupported", lang) for lang in Lang}
    with Session(db) as session:
        stored = session.exec(select(Message).where(Message.direction == "in")).one()
    assert stored.media[0]["content_type"] == "audio/ogg"


@pytest.mark.parametrize("form,status", [
    ({"Body": "hi", "MessageSid": "SM1"}, 400),  # no From
    ({"Body": "hi", "From": "+923001234567"}, 400),  # no MessageSid
    ({"Body": "hi", "From": "not a phone", "MessageSid": "SM2"}, 400),
    ({"Body": "hi", "From": "+923001234567", "MessageSid": "SM3", "NumMedia": "x"}, 400),
])
def test_webhook_missing_or_bad_fields_get_400(client, form, status):
    response = post(client, form)
    assert response.status_code == status and response.json()["detail"]


def test_webhook_empty_body_gets_a_helpful_reply(client, content):
    [reply] = twiml_messages(post(client, twilio_form("")))
    assert reply in {content.text("empty", lang) for lang in Lang}


def test_webhook_over_long_body_gets_a_helpful_reply(client, content):
    [reply] = twiml_messages(post(client, twilio_form("paisay " * 300)))
    assert reply in {content.text("too_long", lang) for lang in Lang}


def test_webhook_wrong_content_type_gets_415(client):
    response = client.post("/webhooks/twilio", json={"Body": "hi"},
                           headers={"X-Twilio-Signature": "x"})
    assert response.status_code == 415


def test_webhook_broken_encoding_gets_400(client):
    _, headers = signed(twilio_form("hi"))
    response = client.post("/webhooks/twilio", content=b"Body=%FF%FE&From=%2B92300",
                           headers=headers)
    assert response.status_code == 400 and "UTF-8" in response.json()["detail"]


def test_webhook_huge_request_gets_413(client):
    _, headers = signed(twilio_form("hi"))
    response = client.post("/webhooks/twilio", content=b"Body=" + b"a" * 70000, headers=headers)
    assert response.status_code == 413


def test_webhook_twilio_opt_out_keyword_stops_messages(client, content):
    [reply] = twiml_messages(post(client, twilio_form("cancel", OptOutType="STOP")))
    assert reply in {content.text("stopped", lang) for lang in Lang}
    assert twiml_messages(post(client, twilio_form("fees kitni hai"))) == []
    [again] = twiml_messages(post(client, twilio_form("start", OptOutType="START")))
    assert again in {content.text("started", lang) for lang in Lang}


def test_status_callback_needs_a_valid_signature(client):
    form = {"MessageSid": "SM1", "MessageStatus": "delivered"}
    body, headers = signed(form, path="/webhooks/twilio/status", token="wrong")
    assert client.post("/webhooks/twilio/status", content=body, headers=headers).status_code \
        == 403


def test_status_callback_for_an_unknown_message_is_accepted(client):
    body, headers = signed({"MessageSid": new_sid(), "MessageStatus": "delivered"},
                           path="/webhooks/twilio/status")
    assert client.post("/webhooks/twilio/status", content=body, headers=headers).status_code \
        == 202


def test_metrics_count_messages_and_show_queues(client, fake_nlu):
    fake_nlu.teach("how much can the agent charge", "ask_fees")
    post(client, twilio_form("how much can the agent charge"))
    client.app.state.settings.metrics_token = SecretStr("metrics-token")
    text = client.get("/metrics", headers={"Authorization": "Bearer metrics-token"}).text
    assert 'rahnuma_messages_total{channel="whatsapp",intent="ask_fees",language="en"}' in text
    assert "rahnuma_outbox_depth 0.0" in text and "rahnuma_webhook_seconds_count" in text


def test_webhook_nul_characters_are_dropped_not_a_500(client, db):
    response = post(client, twilio_form("fees\x00 kitni\x00",
                                           MediaUrl0="https://api.twilio.com/x\x00"))
    assert response.status_code == 200
    with Session(db) as session:
        stored = session.exec(select(Message).where(Message.direction == "in")).one()
    assert stored.body == "fees kitni"
