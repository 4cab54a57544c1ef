"""Reading a request that claims to come from Twilio: cheap checks first, the signature last.

Order matters for an attacker's cost, not ours: type, size (while streaming) and parameter count
are refused before anything is parsed, the signature is checked off the event loop, and the
fields' shapes are checked after it. Twilio's signature covers the URL followed by every
key and value sorted and concatenated with no separator, so characters can be moved between a
key and its neighbour's value without changing it (`MessageSid=SM…&MessageType=text` signs the
same as `MessageSid=SM…MessageTypetext`). Only the shapes below make such a rewrite visible.
"""

import re
from functools import partial
from typing import TypeAlias
from urllib.parse import parse_qsl

from fastapi import HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import ImmutableMultiDict
from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)

from bot.casework.evidence import is_twilio_media
from bot.settings import Settings

FORM_TYPE = "application/x-www-form-urlencoded"
# Twilio's form for one message with 10 media items is a few kB; anything far larger is not Twilio.
MAX_REQUEST_BYTES = 64 * 1024
# An inbound WhatsApp message with 10 media items has about 50 parameters. The signature check
# is quadratic in their number (11,500 empty ones held the event loop for 5 s), so cap it first.
MAX_PARAMETERS = 120
IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"

MESSAGE_SID = re.compile(r"^(SM|MM)[0-9a-f]{32}$")
ACCOUNT_SID = re.compile(r"^AC[0-9a-f]{32}$")
SERVICE_SID = re.compile(r"^MG[0-9a-f]{32}$")
ADDRESS = re.compile(r"^(whatsapp:)?\+?[0-9]{3,16}$")  # To/From: a number, or a short code
DIGITS = re.compile(r"^[0-9]{1,4}$")
API_VERSION = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
WORD = re.compile(r"^[a-z_-]{1,32}$")  # SmsStatus, MessageStatus, MessageType: lower-case words
# Twilio's parameter names are PascalCase words, some numbered (MediaUrl0). A key that carries
# a piece of a value (hex digits, ':', '+') is not one of them. Names we do not read are let
# through: Twilio adds fields (WaId, ProfileName, Referral…), and refusing them would drop real
# messages; a rewrite that hides a field we do read leaves that field missing or misshapen.
FIELD_NAME = re.compile(r"^[A-Z][A-Za-z]{1,40}[0-9]{0,2}$")
IDEMPOTENCY_TOKEN = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")

_SHAPES: dict[str, re.Pattern[str]] = {
    "MessageSid": MESSAGE_SID, "SmsMessageSid": MESSAGE_SID, "SmsSid": MESSAGE_SID,
    "AccountSid": ACCOUNT_SID, "MessagingServiceSid": SERVICE_SID,
    "From": ADDRESS, "To": ADDRESS, "NumMedia": DIGITS, "NumSegments": DIGITS,
    "SmsStatus": WORD, "MessageStatus": WORD, "MessageType": WORD, "ApiVersion": API_VERSION,
}

# Twilio's parameters, as parsed from its URL-encoded body: text only, never a file upload.
TwilioForm: TypeAlias = ImmutableMultiDict[str, str]


PARAMETERS_CHECKED_INLINE = 40


async def read_signed_form(request: Request, settings: Settings) -> TwilioForm:
    """The form parameters, after checking type, size, encoding, Twilio's signature and the
    shape of every field Twilio sends."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != FORM_TYPE:
        raise HTTPException(415, f"expected {FORM_TYPE}, as Twilio sends")
    if settings.twilio_auth_token is None:
        raise HTTPException(503, "TWILIO_AUTH_TOKEN is not configured; cannot verify Twilio")
    signature = request.headers.get(SIGNATURE_HEADER)
    if not signature:
        raise HTTPException(403, f"missing {SIGNATURE_HEADER} header")
    raw = await _read_limited(request)
    if raw.count(b"&") >= MAX_PARAMETERS:
        raise HTTPException(413, f"more than {MAX_PARAMETERS} form parameters")
    try:
        form = TwilioForm(parse_qsl(raw.decode("utf-8"), keep_blank_values=True,
                                    errors="strict", max_num_fields=MAX_PARAMETERS))
    except UnicodeDecodeError as error:
        raise HTTPException(400, "form is not valid UTF-8") from error
    validator = RequestValidator(settings.twilio_auth_token.get_secret_value())
    algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER))
    check = partial(validator.validate, signed_url(request, settings), form, signature,
                    algorithm)
    # Validation costs ~3 µs a parameter: a real delivery (~20) is checked on the event loop
    # (86 µs, less than the hop to a thread); a long form, up to MAX_PARAMETERS, in a thread.
    valid = check() if len(form) <= PARAMETERS_CHECKED_INLINE else await run_in_threadpool(check)
    if not valid:
        raise HTTPException(403, "invalid Twilio signature")
    check_shapes(form, account_sid=settings.twilio_account_sid,
                 media_stand_in=settings.twilio_api_base_url)
    return form


async def _read_limited(request: Request) -> bytes:
    """The body, refused as soon as it passes the limit: never held whole in memory."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_REQUEST_BYTES:
        raise HTTPException(413, f"request body over {MAX_REQUEST_BYTES} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_REQUEST_BYTES:
            raise HTTPException(413, f"request body over {MAX_REQUEST_BYTES} bytes")
    return bytes(body)


def signed_url(request: Request, settings: Settings) -> str:
    """The URL Twilio signed: PUBLIC_BASE_URL + path, since a proxy hides the real one."""
    if not settings.public_base_url:
        return str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    return settings.public_base_url.rstrip("/") + request.url.path + query


def check_shapes(form: TwilioForm, *, account_sid: str | None,
                 media_stand_in: str | None = None) -> None:
    """400 unless every field looks as Twilio writes it (see the module's docstring)."""
    for key in form:
        if not FIELD_NAME.match(key):
            raise HTTPException(400, f"unexpected form field {key[:40]!r}")
        if len(form.getlist(key)) > 1:
            raise HTTPException(400, f"form field {key} given twice")
    for key, shape in _SHAPES.items():
        value = form.get(key)
        if value is not None and not shape.match(value):
            raise HTTPException(400, f"{key} is not in Twilio's format")
    sids = {form[key] for key in ("MessageSid", "SmsMessageSid", "SmsSid") if key in form}
    if len(sids) > 1:
        raise HTTPException(400, "MessageSid, SmsMessageSid and SmsSid disagree")
    if account_sid and form.get("AccountSid") != account_sid:
        raise HTTPException(403, "AccountSid is not this account's")
    for key, url in form.items():
        if key.startswith("MediaUrl") and not is_twilio_media(url, also=media_stand_in):
            raise HTTPException(400, f"{key} is not on Twilio's media hosts")


def idempotency_token(request: Request) -> str | None:
    """Twilio's token for one delivery attempt series; kept only when it looks like one."""
    token = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
    return token if IDEMPOTENCY_TOKEN.match(token) else None
