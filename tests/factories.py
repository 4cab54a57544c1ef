"""Builders for test data: messages, signed Twilio requests, NLU results."""

import itertools
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from bot.conversation.channels import Channel
from bot.conversation.nlu import FALLBACK, RASA, IntentScore, NluResult
from bot.conversation.turn import InboundMessage

_sids = itertools.count(1)
AUTH_TOKEN = "test-auth-token"
BASE_URL = "https://rahnuma.example.org"


def new_sid() -> str:
    return f"SM{next(_sids):032d}"


def inbound(body: str, *, phone: str = "+923001234567", channel: Channel = Channel.WHATSAPP,
            sid: str | None = None, media=()) -> InboundMessage:
    return InboundMessage(phone=phone, channel=channel, body=body, sid=sid or new_sid(),
                          media=tuple(media))


def nlu_result(intent: str | None, confidence: float = 0.95, *others: tuple[str, float],
               source: str = RASA) -> NluResult:
    ranking = ((IntentScore(intent, confidence),) if intent else ()) + tuple(
        IntentScore(name, score) for name, score in others)
    return NluResult(intent, confidence, source, ranking)


class FakeNlu:
    """Answers from a table of normalized text -> result; anything else is unknown."""

    def __init__(self) -> None:
        self.results: dict[str, NluResult] = {}
        self.calls: list[str] = []

    def teach(self, text: str, intent: str | None, confidence: float = 0.95,
              *others: tuple[str, float]) -> None:
        self.results[text] = nlu_result(intent, confidence, *others)

    def parse(self, text: str) -> NluResult:
        self.calls.append(text)
        return self.results.get(text, NluResult("nlu_fallback", 0.3, RASA))


def twilio_form(body: str | None = "hello", *, sender: str = "whatsapp:+923001234567",
                sid: str | None = None, **extra: str) -> dict[str, str]:
    form = {"From": sender, "To": "whatsapp:+14155238886", "MessageSid": sid or new_sid(),
            "AccountSid": "AC" + "0" * 32, "NumMedia": "0", **extra}
    if body is not None:
        form["Body"] = body
    return form


def signed(form: dict[str, str], *, path: str = "/webhooks/twilio", token: str = AUTH_TOKEN,
           base_url: str = BASE_URL) -> tuple[bytes, dict[str, str]]:
    """The encoded body and headers of a request exactly as Twilio signs it."""
    signature = RequestValidator(token).compute_signature(base_url + path, form)
    headers = {"X-Twilio-Signature": signature,
               "Content-Type": "application/x-www-form-urlencoded"}
    return urlencode(form).encode(), headers


__all__ = ["FALLBACK", "inbound", "nlu_result", "FakeNlu", "twilio_form", "signed", "new_sid"]
