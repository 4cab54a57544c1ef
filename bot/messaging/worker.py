"""Background work: sending the outbox and fetching complaint evidence from Twilio.

`rahnuma worker` runs it on its own; `rahnuma serve` runs it in a thread of the app process.
"""

import logging
import threading
import time

from sqlmodel import Session

from bot.casework.evidence import fetch_pending
from bot.casework.privacy import apply_retention
from bot.db import get_engine, session_scope
from bot.messaging.outbox import send_due, twilio_sender
from bot.settings import Settings

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 10.0
RETENTION_EVERY_SECONDS = 3600.0


def run_once(settings: Settings) -> int:
    """One round: send due outbox messages, fetch pending evidence. Returns items done."""
    auth = None
    if settings.twilio_account_sid and settings.twilio_auth_token:
        auth = (settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value())
    done = 0
    with Session(get_engine(settings.database_url)) as session:
        if auth:
            done += send_due(session, twilio_sender(
                *auth, sms_from=settings.twilio_sms_from,
                whatsapp_from=settings.twilio_whatsapp_from,
                api_base_url=settings.twilio_api_base_url))
        done += fetch_pending(session, directory=settings.evidence_dir, auth=auth)
    return done


def run_forever(settings: Settings, stop: threading.Event) -> None:
    last_retention = 0.0
    while not stop.is_set():
        try:
            run_once(settings)
            if time.monotonic() - last_retention > RETENTION_EVERY_SECONDS:
                with session_scope(get_engine(settings.database_url)) as session:
                    apply_retention(session, days=settings.retention_days)
                last_retention = time.monotonic()
        except Exception:  # a failed round must not end the worker
            log.exception("worker round failed")
        stop.wait(INTERVAL_SECONDS)


def start_in_thread(settings: Settings) -> threading.Event:
    stop = threading.Event()
    threading.Thread(target=run_forever, args=(settings, stop), daemon=True,
                     name="rahnuma-worker").start()
    return stop
