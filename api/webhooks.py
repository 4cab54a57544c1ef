"""Twilio's inbound-message webhook: signed form in, TwiML out, in the same request."""

import logging
import re
import time
from typing import TypeAlias
from urllib.parse import parse_qsl

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy.exc import OperationalError
from starlette.datastructures import ImmutableMultiDict
from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)
from twilio.twiml.messaging_response import MessagingResponse

from api import deps
from bot.conversation.channels import Channel
from bot.conversation.inbox import receive
from bot.conversation.turn import InboundMessage, Media
from bot.db import session_scope
from bot.messaging.outbox import record_status
from bot.metrics import WEBHOOK_LATENCY
from bot.settings import Settings

log = logging.getLogger(__name__)
router = APIRouter()

FORM_TYPE = "application/x-www-form-urlencoded"
# Twilio's form for one message with 10 media items is a few kB; anything far larger is not Twilio.
MAX_REQUEST_BYTES = 64 * 1024
MAX_MEDIA = 10
PHONE = re.compile(r"^\+?[0-9]{6,16}$")
# Twilio's parameters, as parsed from its URL-encoded body: text only, never a file upload.
TwilioForm: TypeAlias = ImmutableMultiDict[str, str]


async def read_signed_form(request: Request, settings: Settings) -> TwilioForm:
    """The form parameters, after checking type, size, encoding and Twilio's signature."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != FORM_TYPE:
        raise HTTPException(415, f"expected {FORM_TYPE}, as Twilio sends")
    raw = await request.body()
    if len(raw) > MAX_REQUEST_BYTES:
        raise HTTPException(413, f"request body over {MAX_REQUEST_BYTES} bytes")
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError as error:
        raise HTTPException(400, "form is not valid UTF-8") from error
    form = TwilioForm(pairs)
    if settings.twilio_auth_token is None:
        raise HTTPException(503, "TWILIO_AUTH_TOKEN is not configured; cannot verify Twilio")
    signature = request.headers.get(SIGNATURE_HEADER)
    if not signature:
        raise HTTPException(403, f"missing {SIGNATURE_HEADER} header")
    validator = RequestValidator(settings.twilio_auth_token.get_secret_value())
    algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER))
    if not validator.validate(signed_url(request, settings), form, signature, algorithm):
        raise HTTPException(403, "invalid Twilio signature")
    return form


def signed_url(request: Request, settings: Settings) -> str:
    """The URL Twilio signed: PUBLIC_BASE_URL + path, since a proxy hides the real one."""
    if not settings.public_base_url:
        return str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    return settings.public_base_url.rstrip("/") + request.url.path + query


def _text(form: TwilioForm, key: str, default: str = "") -> str:
    """A form value without NUL characters: they carry no meaning in a message, and
    PostgreSQL cannot store them in text."""
    return (form.get(key) or default).replace("\x00", "")


def inbound_from_form(form: TwilioForm) -> InboundMessage:
    sender = _text(form, "From")
    sid = _text(form, "MessageSid") or _text(form, "SmsMessageSid")
    if not sender or not sid:
        raise HTTPException(400, "From and MessageSid are required")
    channel = Channel.WHATSAPP if sender.startswith("whatsapp:") else Channel.SMS
    phone = sender.removeprefix("whatsapp:").strip()
    if not PHONE.match(phone):
        raise HTTPException(400, "From is not a phone number")
    try:
        count = int(form.get("NumMedia") or 0)
    except ValueError as error:
        raise HTTPException(400, "NumMedia is not a number") from error
    media = tuple(
        Media(_text(form, f"MediaUrl{i}")[:500], _text(form, f"MediaContentType{i}")[:100])
        for i in range(min(max(count, 0), MAX_MEDIA))
        if _text(form, f"MediaUrl{i}")
    )
    opt_out = _text(form, "OptOutType").upper()[:16] or None
    return InboundMessage(phone=phone, channel=channel, body=_text(form, "Body"),
                          sid=sid[:64], media=media, opt_out_type=opt_out)


@router.post("/webhooks/twilio")
async def twilio_inbound(request: Request, settings: deps.SettingsDep, db: deps.DbDep,
                         bot: deps.BotDep) -> Response:
    started = time.perf_counter()
    form = await read_signed_form(request, settings)
    inbound = inbound_from_form(form)
    try:
        received = await run_in_threadpool(receive, db, bot, inbound)
    except OperationalError as error:
        log.error("database unavailable: %s", type(error).__name__)
        raise HTTPException(503, "database unavailable; Twilio may retry") from error
    twiml = MessagingResponse()
    for reply in received.replies:
        twiml.message(reply.body)
    WEBHOOK_LATENCY.observe(time.perf_counter() - started)
    return Response(str(twiml), media_type="application/xml")


@router.post("/webhooks/twilio/status")
async def twilio_status(request: Request, settings: deps.SettingsDep,
                        db: deps.DbDep) -> Response:
    """Twilio's delivery callback for messages the outbox sent."""
    form = await read_signed_form(request, settings)
    sid, status = form.get("MessageSid"), form.get("MessageStatus")
    if not sid or not status:
        raise HTTPException(400, "MessageSid and MessageStatus are required")
    with session_scope(db) as session:
        known = record_status(session, sid=sid, status=status,
                              error=form.get("ErrorCode", ""))
    return Response(status_code=204 if known else 202)
