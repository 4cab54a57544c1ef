"""What an attacker tried on the webhook: floods of parameters, huge bodies, replays under a
new MessageSid, foreign media URLs (issue: hardening, items 1-3, 7)."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select
from twilio.request_validator import RequestValidator

from api import twilio_form
from api.main import create_app
from bot.conversation.contacts import Message
from tests.factories import AUTH_TOKEN, BASE_URL, new_sid, signed
from tests.factories import twilio_form as form_of

URL = BASE_URL + "/webhooks/twilio"


@pytest.fixture
def client(settings, bot, db):
    return TestClient(create_app(settings, bot))


def post(client, form, headers=None):
    body, signed_headers = signed(form)
    return client.post("/webhooks/twilio", content=body,
                       headers={**signed_headers, **(headers or {})})


def stored(db) -> int:
    with Session(db) as session:
        return session.exec(select(func.count()).select_from(Message).where(
            Message.direction == "in")).one()


def test_a_flood_of_parameters_is_refused_before_the_signature_is_computed(client, monkeypatch):
    calls = []
    monkeypatch.setattr(RequestValidator, "validate",
                        lambda *args, **kwargs: calls.append(1) or True)
    body = "&".join("a=" for _ in range(11_500)).encode()  # 34 kB: under the size limit
    response = client.post("/webhooks/twilio", content=body, headers={
        "X-Twilio-Signature": "forged", "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413 and "parameters" in response.json()["detail"]
    assert calls == []


def test_a_long_form_s_signature_is_checked_off_the_event_loop(client, monkeypatch, db):
    """A real delivery (~20 parameters, ~90 µs to check) is checked on the event loop; a long
    one, allowed up to MAX_PARAMETERS, in a worker thread."""
    loops = []
    original = RequestValidator.validate

    def spy(self, *args, **kwargs):
        try:
            loops.append(asyncio.get_running_loop())
        except RuntimeError:
            loops.append(None)  # a worker thread: the event loop keeps serving others
        return original(self, *args, **kwargs)

    monkeypatch.setattr(RequestValidator, "validate", spy)
    assert post(client, form_of("salaam")).status_code == 200
    long_form = form_of("salaam again") | {f"Extra{i}": "x" for i in range(
        twilio_form.PARAMETERS_CHECKED_INLINE)}
    assert post(client, long_form).status_code == 200
    assert loops[0] is not None and loops[1] is None


def test_a_body_over_the_limit_is_refused_while_streaming():
    """An endless body: refused after the limit, never read whole into memory."""
    consumed = []

    class EndlessRequest:
        headers: dict[str, str] = {}

        async def stream(self):
            while True:
                consumed.append(1)
                yield b"x" * 4096

    # In a thread of its own: the browser tests leave an event loop running in this one.
    with ThreadPoolExecutor(1) as thread, pytest.raises(HTTPException) as refused:
        thread.submit(asyncio.run, twilio_form._read_limited(EndlessRequest())).result()
    assert refused.value.status_code == 413
    assert len(consumed) * 4096 <= twilio_form.MAX_REQUEST_BYTES + 4096


def test_a_declared_length_over_the_limit_is_refused_unread(client):
    response = client.post("/webhooks/twilio", content=b"a=" + b"x" * 70_000, headers={
        "X-Twilio-Signature": "x", "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413


def test_a_replay_with_characters_moved_between_key_and_value_is_refused(client, db):
    """Twilio's signature is key+value concatenated: `MessageType=text` folded into the
    MessageSid's value signs the same, under a 'new' MessageSid."""
    original = form_of("mera agent paise wapas nahi de raha", MessageType="text")
    assert post(client, original).status_code == 200
    forged = dict(original)
    del forged["MessageType"]
    forged["MessageSid"] = original["MessageSid"] + "MessageTypetext"
    validator = RequestValidator(AUTH_TOKEN)
    signature = validator.compute_signature(URL, original)
    assert validator.validate(URL, forged, signature)  # the attack is real: same signature
    body, headers = signed(original)
    from urllib.parse import urlencode
    response = client.post("/webhooks/twilio", content=urlencode(forged).encode(),
                           headers=headers)
    assert response.status_code == 400
    assert stored(db) == 1


@pytest.mark.parametrize("change", [
    {"MessageSid": "SMdup1"},
    {"MessageSid": "SM" + "A" * 32},  # upper-case hex is not Twilio's
    {"SmsMessageSid": "SM" + "f" * 32},  # disagrees with MessageSid
    {"NumMedia": "1x"},
    {"To": "whatsapp:+14155238886WaId923001234567"},
    {"ApiVersion": "2010-04-01Bodysalaam"},  # Body folded into its neighbour's value
    {"Sid3f": "x"},  # a key carrying a value's characters
    {"AccountSid": "ACnot-an-account"},
])
def test_fields_not_in_twilios_shape_are_refused(client, db, change):
    assert post(client, form_of("salaam", **change)).status_code == 400
    assert stored(db) == 0


def test_another_accounts_request_is_refused(settings, bot, db):
    settings = settings.model_copy(update={"twilio_account_sid": "AC" + "1" * 32})
    client = TestClient(create_app(settings, bot))
    assert post(client, form_of("salaam")).status_code == 403  # factories sign AC000…
    assert post(client, form_of("salaam", AccountSid="AC" + "1" * 32)).status_code == 200


def test_the_same_idempotency_token_under_a_new_sid_is_the_same_delivery(client, db):
    token = {"I-Twilio-Idempotency-Token": "e7c1f0a2-41b5-4c1e-9d6e-2f1b3a4c5d6e"}
    first = post(client, form_of("protector kya hai"), token)
    second = post(client, form_of("protector kya hai", sid=new_sid()), token)
    assert first.status_code == second.status_code == 200
    assert first.text == second.text
    assert stored(db) == 1


def test_media_from_a_host_other_than_twilio_is_refused(client, db):
    form = form_of("", NumMedia="1", MediaUrl0="https://evil.example/steal",
                   MediaContentType0="image/jpeg")
    assert post(client, form).status_code == 400
    assert stored(db) == 0


def test_a_status_callback_with_a_malformed_sid_is_refused(client):
    body, headers = signed({"MessageSid": "SMnot-a-sid", "MessageStatus": "queued"},
                           path="/webhooks/twilio/status")
    assert client.post("/webhooks/twilio/status", content=body,
                       headers=headers).status_code == 400


def test_a_field_folded_into_its_neighbour_leaves_a_required_one_missing(client, db):
    form = form_of("salaam")
    form["Body"] = "salaamFrom" + form.pop("From")  # signs the same as Body + From
    assert post(client, form).status_code == 400
    assert stored(db) == 0
