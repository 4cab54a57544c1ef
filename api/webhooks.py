"""Twilio's inbound-message webhook: signed form in, TwiML out, in the same request."""

import asyncio
import logging
import re
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import Engine as DbEngine
from sqlalchemy.exc import OperationalError
from twilio.twiml.messaging_response import MessagingResponse

from api import deps
from api.twilio_form import MESSAGE_SID, TwilioForm, idempotency_token, read_signed_form
from bot.conversation.answering import Answerers
from bot.conversation.channels import Channel
from bot.conversation.engine import Engine
from bot.conversation.inbox import Received, accept, follow_duplicate, stop_waiting
from bot.conversation.turn import InboundMessage, Media
from bot.db import session_scope
from bot.messaging.outbox import record_status
from bot.metrics import LATE_ANSWERS, WEBHOOK_LATENCY
from bot.settings import Settings

log = logging.getLogger(__name__)
router = APIRouter()

MAX_MEDIA = 10
NO_OUTBOX_BUDGET_SECONDS = 12.0
# Storing deliveries: a few threads taking requests in arrival order. With a thread each (up to
# 40), they fought over SQLite's write lock by polling, and its holder waited for the GIL.
_STORE_POOL = ThreadPoolExecutor(max_workers=3, thread_name_prefix="store")
# This many answers in hand already: a new one is acknowledged at once (late).
BACKLOG_TO_ACK_AT_ONCE = 8
PHONE = re.compile(r"^\+?[0-9]{6,16}$")


def _text(form: TwilioForm, key: str, default: str = "") -> str:
    """A form value without NUL characters: they carry no meaning in a message, and
    PostgreSQL cannot store them in text."""
    return (form.get(key) or default).replace("\x00", "")


def inbound_from_form(form: TwilioForm, token: str | None = None) -> InboundMessage:
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
                          sid=sid[:64], media=media, opt_out_type=opt_out,
                          idempotency_token=token)


@router.post("/webhooks/twilio")
async def twilio_inbound(request: Request, settings: deps.SettingsDep, db: deps.DbDep,
                         bot: deps.BotDep) -> Response:
    started = time.perf_counter()
    form = await read_signed_form(request, settings)
    inbound = inbound_from_form(form, idempotency_token(request))
    try:
        can_send_late = _outbox_can_send(settings)
        # Without REST credentials a late answer could never leave: wait for it instead, up to
        # a margin under Twilio's 15-second limit.
        budget = settings.reply_budget_seconds if can_send_late else max(
            settings.reply_budget_seconds, NO_OUTBOX_BUDGET_SECONDS)
        received = await _receive_within(request.app.state.answerers, db, bot, inbound,
                                         deadline=started + budget, can_send_late=can_send_late)
    except OperationalError as error:
        log.error("database unavailable: %s", type(error).__name__)
        raise HTTPException(503, "database unavailable; Twilio may retry") from error
    twiml = MessagingResponse()
    for reply in received.replies if not received.late else []:
        twiml.message(reply.body)
    WEBHOOK_LATENCY.observe(time.perf_counter() - started)
    return Response(str(twiml), media_type="application/xml")


def _outbox_can_send(settings: Settings) -> bool:
    """Late answers go through the outbox: only worth it when it has credentials to send."""
    return bool(settings.twilio_account_sid and settings.twilio_auth_token and
                (settings.twilio_sms_from or settings.twilio_whatsapp_from))


async def _receive_within(answerers: Answerers, db: DbEngine, bot: Engine,
                          inbound: InboundMessage, *, deadline: float,
                          can_send_late: bool) -> Received:
    """Store the message (before acknowledging: then nothing acknowledged is ever lost), then
    answer in the TwiML if the answer is ready by `deadline`. Past it, acknowledge with empty
    TwiML and let the answer go through the outbox: Twilio gives up after 15 s, and a busy
    instance must not make every sender wait for the queue ahead of them."""
    loop = asyncio.get_running_loop()
    # Answers are queueing: this one cannot be ready within the budget; waiting for it would
    # only hold the acknowledgement (and Twilio's connection) for nothing.
    at_once = can_send_late and answerers.in_hand >= BACKLOG_TO_ACK_AT_ONCE
    accepted = await loop.run_in_executor(_STORE_POOL, partial(
        accept, db, inbound, rate_limit=bot.rate_limit_per_minute, late=at_once))
    if accepted is None:  # a retry: the first copy's answer, or this copy takes over
        wait = max(deadline - time.perf_counter(), 0.0)
        return await run_in_threadpool(partial(follow_duplicate, db, bot, inbound, wait=wait))
    answering = answerers.submit(inbound, accepted)
    if at_once:
        return _late(answering)
    try:
        return await asyncio.wait_for(asyncio.shield(answering),
                                      max(deadline - time.perf_counter(), 0.0))
    except (TimeoutError, BrokenProcessPool):
        replies = await loop.run_in_executor(_STORE_POOL, stop_waiting, db,
                                             accepted.message_id)
        if replies is None:
            return _late(answering)
        return Received(replies)  # stored for the TwiML a moment ago: returned after all


def _late(answering: asyncio.Future) -> Received:
    LATE_ANSWERS.inc()
    answering.add_done_callback(_log_failure)
    return Received([], late=True)


def _log_failure(done: asyncio.Future) -> None:
    if not done.cancelled() and done.exception() is not None:
        log.error("late answer failed: %s (the sweep will answer it)",
                  type(done.exception()).__name__)


@router.post("/webhooks/twilio/status")
async def twilio_status(request: Request, settings: deps.SettingsDep,
                        db: deps.DbDep) -> Response:
    """Twilio's delivery callback for messages the outbox sent."""
    form = await read_signed_form(request, settings)
    sid, status = form.get("MessageSid"), form.get("MessageStatus")
    if not sid or not status:
        raise HTTPException(400, "MessageSid and MessageStatus are required")
    if not MESSAGE_SID.match(sid):
        raise HTTPException(400, "MessageSid is not in Twilio's format")
    with session_scope(db) as session:
        known = record_status(session, sid=sid, status=status,
                              error=form.get("ErrorCode", ""))
    return Response(status_code=204 if known else 202)
