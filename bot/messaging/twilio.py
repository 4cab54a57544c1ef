"""The one place that talks to Twilio's REST APIs: sending messages (the Messages API), and
WhatsApp templates through the Content API.

Twilio's error codes are read here and turned into what they mean for the outbox (a person who
opted out, a number that cannot receive, WhatsApp's closed window), so nothing else in the code
knows Twilio's numbering.
"""

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx

from bot.conversation.channels import Channel


class Refusal(StrEnum):
    """Why Twilio will never send this message as asked: trying again would change nothing."""

    WINDOW_CLOSED = "window_closed"
    OPTED_OUT = "opted_out"
    INVALID_NUMBER = "invalid_number"


# https://www.twilio.com/docs/api/errors/<code>
REFUSALS = {
    63016: Refusal.WINDOW_CLOSED,   # free-form WhatsApp outside the 24-hour window
    21610: Refusal.OPTED_OUT,       # the number replied STOP to this sender
    21211: Refusal.INVALID_NUMBER,  # 'To' is not a valid phone number
    21614: Refusal.INVALID_NUMBER,  # 'To' is not a valid mobile number (a landline)
}


class Refused(Exception):
    def __init__(self, code: int, refusal: Refusal, message: str = "") -> None:
        super().__init__(f"Twilio {code}: {message}"[:300])
        self.code = code
        self.refusal = refusal


def refusal_for(code: object) -> Refusal | None:
    """What a Twilio error code means for the outbox, if it means "never" (also for the
    ErrorCode of a delivery callback, which arrives as text)."""
    try:
        return REFUSALS.get(int(str(code)))
    except ValueError:
        return None


class TwilioError(Exception):
    """Twilio answered with an error worth retrying (a 5xx, a 429, an unknown 4xx)."""

    def __init__(self, status: int, code: object, message: str) -> None:
        super().__init__(f"HTTP {status}, Twilio {code}: {message}"[:300])
        self.status, self.code = status, code


API_BASE_URL = "https://api.twilio.com"


class TwilioSender:
    """Sends one message through the Messages API; raises Refused when Twilio says it never
    will, anything else on a failure worth retrying (5xx, network, time-out).

    Plain HTTP (httpx) rather than Twilio's library here: at bulk rates the library cost 4.1 ms
    of CPU a message against 1.3 (it reads the environment's proxy settings again on every
    request), and the outbox's own CPU is what limits a drain (bench/results/outbox.md). One
    client for every sending thread: httpx's is thread-safe and keeps connections alive."""

    def __init__(self, account_sid: str, auth_token: str, *, sms_from: str | None,
                 whatsapp_from: str | None, api_base_url: str | None = None,
                 timeout: float = 10.0) -> None:
        self._from = {Channel.SMS: sms_from, Channel.WHATSAPP: whatsapp_from}
        self._path = f"/2010-04-01/Accounts/{account_sid}/Messages.json"
        # Twilio's library waits forever by default; here every call has its time-out, so one
        # hung connection cannot stop the outbox.
        self._client = httpx.Client(base_url=api_base_url or API_BASE_URL,
                                    auth=(account_sid, auth_token), timeout=timeout,
                                    limits=httpx.Limits(max_connections=32))

    def address(self, channel: str) -> str:
        """The sender number, as Twilio's rate limit counts it (one per number and channel)."""
        return self._from.get(Channel(channel)) or str(channel)

    def __call__(self, to: str, channel: str, body: str, *, content_sid: str | None = None,
                 content_variables: dict[str, str] | None = None) -> str:
        sender = self._from.get(Channel(channel))
        if not sender:
            raise RuntimeError(f"no sender number configured for {channel}")
        form = {"To": f"whatsapp:{to}" if channel == Channel.WHATSAPP else to, "From": sender}
        if content_sid:  # a template: Twilio takes the text from the approved content
            form |= {"ContentSid": content_sid,
                     "ContentVariables": json.dumps(content_variables or {}, ensure_ascii=False)}
        else:
            form["Body"] = body
        response = self._client.post(self._path, data=form)
        if response.status_code < 400:
            return str(response.json()["sid"])
        raise _error(response)


def _error(response: httpx.Response) -> Exception:
    """Twilio's error document ({"code": 21610, "message": ...}) as what it means."""
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    code, message = answer.get("code"), str(answer.get("message") or response.text[:200])
    refusal = refusal_for(code)
    if refusal is not None:
        return Refused(int(str(code)), refusal, message)
    return TwilioError(response.status_code, code, message)


def twilio_sender(account_sid: str, auth_token: str, *, sms_from: str | None,
                  whatsapp_from: str | None, api_base_url: str | None = None,
                  timeout: float = 10.0) -> TwilioSender:
    return TwilioSender(account_sid, auth_token, sms_from=sms_from,
                        whatsapp_from=whatsapp_from, api_base_url=api_base_url, timeout=timeout)


def twilio_client(account_sid: str, auth_token: str, base_url: str | None,
                  timeout: float) -> Any:
    """Twilio's library, for the Content API (a few calls a sync: its typed requests are
    worth their cost there)."""
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    # The library's default is no timeout: one hung connection would stop the outbox.
    client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout))
    if base_url:  # a local stand-in for Twilio (tests, benchmarks) serves both APIs
        client.content.base_url = base_url
    return client


@dataclass(frozen=True)
class Approval:
    status: str  # Twilio's: received, pending, approved, rejected, paused, disabled...
    rejection_reason: str = ""

    def __post_init__(self) -> None:  # as long as WhatsAppTemplate keeps them
        object.__setattr__(self, "status", self.status.lower()[:24])
        object.__setattr__(self, "rejection_reason", self.rejection_reason[:300])


class ContentApi:
    """Twilio's Content API (content.twilio.com/v1): templates and their WhatsApp approval."""

    def __init__(self, account_sid: str, auth_token: str, *, base_url: str | None = None,
                 timeout: float = 10.0) -> None:
        self._client = twilio_client(account_sid, auth_token, base_url, timeout)

    def create(self, *, friendly_name: str, language: str, body: str,
               variables: dict[str, str]) -> str:
        """A twilio/text template; returns its Content SID (HX...). `variables` are sample
        values, which Meta's reviewers read."""
        from twilio.rest.content.v1.content import ContentList

        request = ContentList.ContentCreateRequest({
            "friendly_name": friendly_name, "language": language, "variables": variables,
            "types": {"twilio/text": {"body": body}}})
        return str(self._client.content.v1.contents.create(request).sid)

    def request_approval(self, content_sid: str, *, name: str, category: str) -> Approval:
        from twilio.rest.content.v1.content.approval_create import ApprovalCreateList

        request = ApprovalCreateList.ContentApprovalRequest({"name": name, "category": category})
        created = self._client.content.v1.contents(content_sid).approval_create.create(request)
        return Approval(str(created.status or "received"), str(created.rejection_reason or ""))

    def approval(self, content_sid: str) -> Approval:
        fetched = self._client.content.v1.contents(content_sid).approval_fetch().fetch()
        whatsapp = fetched.whatsapp or {}
        return Approval(str(whatsapp.get("status") or "unsubmitted"),
                        str(whatsapp.get("rejection_reason") or ""))
