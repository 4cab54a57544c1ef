"""Background work: fetching complaint evidence from Twilio (and, later, the outbox).

`rahnuma worker` runs it on its own; `rahnuma serve` runs it in a thread of the app process.
"""

import logging
import threading

from sqlmodel import Session

from bot.db import get_engine
from bot.evidence import fetch_pending
from bot.settings import Settings

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 10.0


def run_once(settings: Settings) -> int:
    auth = None
    if settings.twilio_account_sid and settings.twilio_auth_token:
        auth = (settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value())
    with Session(get_engine(settings.database_url)) as session:
        return fetch_pending(session, directory=settings.evidence_dir, auth=auth)


def run_forever(settings: Settings, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            run_once(settings)
        except Exception:  # a failed round must not end the worker
            log.exception("worker round failed")
        stop.wait(INTERVAL_SECONDS)


def start_in_thread(settings: Settings) -> threading.Event:
    stop = threading.Event()
    threading.Thread(target=run_forever, args=(settings, stop), daemon=True,
                     name="rahnuma-worker").start()
    return stop
