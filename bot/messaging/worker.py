"""Background work: sending the outbox, answering messages whose answering copy died, and
fetching complaint evidence from Twilio.

`rahnuma worker` runs it on its own; `rahnuma serve` runs it beside the app (`start_beside_app`).
"""

import logging
import multiprocessing
import os
import threading
import time
from typing import Protocol

from bot.background import become_background
from bot.casework.evidence import fetch_pending
from bot.casework.privacy import apply_retention
from bot.conversation.engine import Engine, build_engine
from bot.conversation.inbox import answer_unanswered
from bot.db import get_engine, session_scope
from bot.messaging.outbox import Sender, wait_for_work
from bot.messaging.rate import Pacer
from bot.messaging.scheduler import run_due
from bot.messaging.sending import send_due
from bot.messaging.twilio import twilio_sender
from bot.outreach.jobs import job_handlers
from bot.settings import Settings

log = logging.getLogger(__name__)
# A late answer queued by another process (serve --workers N) waits at most this long; one
# queued in this process wakes the worker at once. An idle round is three indexed queries.
INTERVAL_SECONDS = 2.0
RETENTION_EVERY_SECONDS = 3600.0
# Most messages a sending round claims per channel (the pacer claims about half a second's
# worth, up to this): fewer, larger rounds at bulk rates, as each claim walks its index past
# what was just sent (bench/results/outbox.md).
SEND_BATCH = 500


def _credentials(settings: Settings) -> tuple[str, str] | None:
    if settings.twilio_account_sid and settings.twilio_auth_token:
        return settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value()
    return None


def _sender(settings: Settings) -> Sender | None:
    """Built once per worker: a Twilio client per round cost more CPU than the round."""
    auth = _credentials(settings)
    if auth is None:
        return None
    return twilio_sender(*auth, sms_from=settings.twilio_sms_from,
                         whatsapp_from=settings.twilio_whatsapp_from,
                         api_base_url=settings.twilio_api_base_url,
                         timeout=settings.twilio_http_timeout_seconds)


def run_once(settings: Settings, bot: Engine | None = None,
             sender: Sender | None = None, pacer: Pacer | None = None) -> int:
    """One round: answer abandoned messages (when an engine is given), send due outbox
    messages, fetch pending evidence. Returns items done. `pacer`: kept by a worker from round
    to round (it learns the pace this worker manages)."""
    db = get_engine(settings.database_url)
    done = answer_unanswered(db, bot) if bot is not None else 0
    done += run_due(db, job_handlers())  # reminders, check-ins: they queue into the outbox
    sender = sender or _sender(settings)
    if sender is not None:  # at each sender number's rate, shared with every other worker
        done += send_due(db, sender, limit=SEND_BATCH, pacer=pacer or Pacer(
            db, settings.twilio_messages_per_second))
    done += fetch_pending(db, directory=settings.evidence_dir, auth=_credentials(settings),
                          twilio_stand_in=settings.twilio_api_base_url)
    return done


def run_forever(settings: Settings, stop: threading.Event, bot: Engine | None = None) -> None:
    bot = bot or build_engine(settings)
    sender = _sender(settings)
    pacer = Pacer(get_engine(settings.database_url), settings.twilio_messages_per_second)
    last_retention = 0.0
    while not stop.is_set():
        done = 0
        try:
            done = run_once(settings, bot, sender, pacer)
            if time.monotonic() - last_retention > RETENTION_EVERY_SECONDS:
                with session_scope(get_engine(settings.database_url)) as session:
                    apply_retention(session, days=settings.retention_days)
                last_retention = time.monotonic()
        except Exception:  # a failed round must not end the worker
            log.exception("worker round failed")
        if not done:
            # Idle: woken early when this process queues a reply. After a round that did
            # something, at once: a round sends at most a batch, and waiting between batches
            # held a rush hour's late answers (queued by other processes) to 50 a second.
            wait_for_work(INTERVAL_SECONDS)


class Started(Protocol):
    def set(self) -> None:
        """Stop it."""


def start_beside_app(settings: Settings) -> Started:
    """The worker `rahnuma serve` runs: a thread of the app process, woken at once when an
    answer is queued there; or, when answers are worked out in processes of their own
    (ANSWER_PROCESSES), a process of its own at their lower priority, so that sending a rush
    hour's late answers never takes the CPU from acknowledging deliveries."""
    if settings.answer_processes == 0:
        return start_in_thread(settings)
    process = multiprocessing.get_context("spawn").Process(
        target=_run_in_background, args=(settings, os.getpid()), daemon=True,
        name="rahnuma-worker")
    process.start()
    return _Stopper(process)


def start_in_thread(settings: Settings, bot: Engine | None = None) -> threading.Event:
    stop = threading.Event()
    threading.Thread(target=run_forever, args=(settings, stop, bot), daemon=True,
                     name="rahnuma-worker").start()
    return stop


def _run_in_background(settings: Settings, web_process: int) -> None:
    become_background(web_process)
    run_forever(settings, threading.Event())


class _Stopper:
    def __init__(self, process: multiprocessing.process.BaseProcess) -> None:
        self.process = process

    def set(self) -> None:
        self.process.terminate()
        self.process.join(timeout=10)
