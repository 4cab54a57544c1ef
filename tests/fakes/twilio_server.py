"""A local stand-in for Twilio: enough of the Messages API and the Content API for the outbox,
`rahnuma templates sync`, end-to-end journeys and the outbox bench. No network.

    twilio = FakeTwilio().start()          # or: with FakeTwilio() as twilio:
    settings.twilio_api_base_url = twilio.url
    ...
    twilio.messages                        # every message accepted, in order (SentMessage)
    twilio.fail_numbers["0063"] = 63016    # a To ending in 0063 gets Twilio's error 63016
    twilio.outages = 2                     # the next two requests get a 500
    twilio.set_approval("approved")        # every template's WhatsApp approval (or sid=...)
    twilio.stop()
    send = sender_for(twilio)              # the outbox's real sender, pointed at it

The worker paces each sender number at settings.twilio_messages_per_second (default 1, a long
code's SMS): in a test that runs the worker, set it high (1000.0), or it sends one a second.

Scripted errors answer as Twilio does (HTTP 400, JSON with `code`); 63016 (outside WhatsApp's
window) only refuses free text: a template (ContentSid) to the same number goes through.
"""

import json
import re
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

ACCOUNT = "AC" + "a" * 32
SMS_FROM, WHATSAPP_FROM = "+15550001111", "whatsapp:+15550002222"
_MESSAGES = re.compile(r"^/2010-04-01/Accounts/(\w+)/Messages\.json$")
_CONTENT = re.compile(r"^/v1/Content/?$")
_APPROVAL_CREATE = re.compile(r"^/v1/Content/(HX\w+)/ApprovalRequests/whatsapp$")
_APPROVAL_FETCH = re.compile(r"^/v1/Content/(HX\w+)/ApprovalRequests$")
ERROR_MESSAGES = {
    63016: "Failed to send freeform message because you are outside the allowed window.",
    21610: "Attempt to send to unsubscribed recipient",
    21211: "The 'To' number is not a valid phone number.",
    21614: "'To' number is not a valid mobile number",
}


@dataclass
class SentMessage:
    sid: str
    to: str
    from_: str
    body: str | None
    content_sid: str | None
    content_variables: dict[str, str] | None
    at: float  # time.time() when it arrived


@dataclass
class FakeContent:
    sid: str
    friendly_name: str
    language: str
    variables: dict[str, str]
    body: str
    approval_requests: list[dict[str, str]] = field(default_factory=list)
    status: str = "unsubmitted"
    rejection_reason: str = ""


class FakeTwilio:
    def __init__(self) -> None:
        self.messages: list[SentMessage] = []
        self.contents: dict[str, FakeContent] = {}
        self.fail_numbers: dict[str, int] = {}
        self.outages = 0
        self.requests = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- control -------------------------------------------------------------------------
    def start(self, port: int = 0) -> "FakeTwilio":
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True,
                         name="fake-twilio").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "FakeTwilio":
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL for settings.twilio_api_base_url (it serves both APIs)."""
        if self._server is None:
            raise RuntimeError("start() it first")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def content_url(self) -> str:
        return self.url

    def set_approval(self, status: str, *, sid: str | None = None, reason: str = "") -> None:
        """What Meta decided, for one template (sid) or every one created so far."""
        with self._lock:
            for content in self.contents.values():
                if sid in (None, content.sid):
                    content.status, content.rejection_reason = status, reason

    def sent_to(self, phone: str) -> list[SentMessage]:
        return [m for m in self.messages if m.to.removeprefix("whatsapp:") == phone]

    # --- the APIs --------------------------------------------------------------------------
    def answer(self, method: str, path: str, form: dict[str, str],
               data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests += 1
            if self.outages:
                self.outages -= 1
                return 500, {"code": 20500, "message": "Internal Server Error", "status": 500}
            if method == "POST" and _MESSAGES.match(path):
                return self._message(form)
            if method == "POST" and _CONTENT.match(path):
                return self._create_content(data)
            if method == "POST" and (found := _APPROVAL_CREATE.match(path)):
                return self._request_approval(found.group(1), data)
            if method == "GET" and (found := _APPROVAL_FETCH.match(path)):
                return self._approval(found.group(1))
            if method == "GET" and path == "/_fake/messages":  # for a fake in another process
                return 200, {"messages": [asdict(m) for m in self.messages]}
        return 404, {"code": 20404, "message": f"no such resource {path}", "status": 404}

    def _message(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        to = form.get("To", "")
        code = next((c for suffix, c in self.fail_numbers.items() if to.endswith(suffix)), None)
        if code is not None and not (code == 63016 and form.get("ContentSid")):
            return 400, {"code": code, "message": ERROR_MESSAGES.get(code, "refused"),
                         "more_info": f"https://www.twilio.com/docs/errors/{code}",
                         "status": 400}
        variables = form.get("ContentVariables")
        message = SentMessage(f"SM{uuid.uuid4().hex}", to, form.get("From", ""),
                              form.get("Body"), form.get("ContentSid"),
                              json.loads(variables) if variables else None, time.time())
        self.messages.append(message)
        return 201, {"sid": message.sid, "status": "queued", "to": to, "from": message.from_,
                     "body": message.body}

    def _create_content(self, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        body = ((data.get("types") or {}).get("twilio/text") or {}).get("body")
        if not body or not data.get("language"):
            return 400, {"code": 20001, "message": "language and a twilio/text body",
                         "status": 400}
        content = FakeContent(f"HX{uuid.uuid4().hex}", data.get("friendly_name", ""),
                              data["language"], data.get("variables") or {}, body)
        self.contents[content.sid] = content
        return 201, {"sid": content.sid, "friendly_name": content.friendly_name,
                     "language": content.language, "variables": content.variables,
                     "types": {"twilio/text": {"body": body}}}

    def _request_approval(self, sid: str, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        content = self.contents.get(sid)
        if content is None:
            return 404, {"code": 20404, "message": "no such content", "status": 404}
        content.approval_requests.append({"name": data.get("name", ""),
                                          "category": data.get("category", "")})
        content.status = "received"
        return 201, {"name": data.get("name"), "category": data.get("category"),
                     "content_type": "twilio/text", "status": content.status,
                     "rejection_reason": "", "allow_category_change": True}

    def _approval(self, sid: str) -> tuple[int, dict[str, Any]]:
        content = self.contents.get(sid)
        if content is None:
            return 404, {"code": 20404, "message": "no such content", "status": 404}
        last = content.approval_requests[-1] if content.approval_requests else {}
        return 200, {"sid": sid, "whatsapp": {
            "type": "whatsapp", "name": last.get("name", ""), "category": last.get(
                "category", ""), "content_type": "twilio/text", "status": content.status,
            "rejection_reason": content.rejection_reason}}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Twilio
    # Headers and body go in two writes: with Nagle's algorithm the body waited for the
    # client's delayed acknowledgement, 40 ms a message.
    disable_nagle_algorithm = True
    fake: FakeTwilio

    def do_GET(self) -> None:  # noqa: N802
        self._reply(*self.fake.answer("GET", self.path.split("?")[0], {}, {}))

    def do_POST(self) -> None:  # noqa: N802
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        if "json" in (self.headers.get("Content-Type") or ""):
            form, data = {}, json.loads(raw or "{}")
        else:
            form, data = {k: v[0] for k, v in parse_qs(raw).items()}, {}
        self._reply(*self.fake.answer("POST", self.path.split("?")[0], form, data))

    def _reply(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def sender_for(fake: FakeTwilio):  # noqa: ANN201 (bot.messaging.twilio.TwilioSender)
    """The outbox's real Twilio sender, talking to this fake."""
    from bot.messaging.twilio import twilio_sender

    return twilio_sender(ACCOUNT, "token", sms_from=SMS_FROM, whatsapp_from=WHATSAPP_FROM,
                         api_base_url=fake.url)
