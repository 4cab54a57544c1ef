"""Where answers are worked out: in a few threads of the web process, or in separate answering
processes at a lower CPU priority (`ANSWER_PROCESSES`).

Why processes: in a rush, answering (the engine, and Rasa beside it) wants more CPU than the
machine has, and inside one Python process the threads acknowledging Twilio cannot be given
priority over the threads answering: they share one interpreter lock. In processes of their
own, niced, the operating system gives acknowledging the CPU first, and answers wait instead
(measured in `make bench`, bench/results/overload.md).

Either way the webhook stores the message first, so nothing is lost if an answering process
dies: the message's lease runs out and the worker's sweep answers it through the outbox.
"""

import asyncio
import logging
import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from sqlalchemy import Engine as DbEngine

from bot.background import become_background
from bot.conversation.engine import Engine, build_engine
from bot.conversation.inbox import Accepted, Received, answer
from bot.conversation.turn import InboundMessage
from bot.db import get_engine
from bot.settings import Settings

log = logging.getLogger(__name__)

# Few threads on purpose: answering is CPU and database-lock bound, and every extra answering
# thread takes the interpreter lock and SQLite's write lock from the deliveries waiting to be
# stored and acknowledged (measured: with 8, acknowledgements at 55 messages/s waited 8 s for
# the write lock); with 2, the NLU's round trips left them idle. Shared by every app in the
# process (tests build many).
_THREADS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="answer")


class Answerers:
    """Hands stored messages to whoever works out their answers, and counts those in hand."""

    def __init__(self, settings: Settings, db: DbEngine, bot: Engine) -> None:
        self._settings, self._db, self._bot = settings, db, bot
        self._processes: ProcessPoolExecutor | None = None
        if settings.answer_processes > 0:
            self._processes = self._start_processes()
        self.in_hand = 0  # submitted and not finished; counted on the event loop

    def submit(self, inbound: InboundMessage, accepted: Accepted) -> "asyncio.Future[Received]":
        answering = asyncio.wrap_future(self._submit(inbound, accepted))
        self.in_hand += 1
        answering.add_done_callback(self._finished)
        return answering

    def close(self) -> None:
        if self._processes is not None:
            self._processes.shutdown(wait=False, cancel_futures=True)

    def _submit(self, inbound: InboundMessage, accepted: Accepted) -> Future[Received]:
        if self._processes is None:
            return _THREADS.submit(answer, self._db, self._bot, inbound, accepted)
        try:
            return self._processes.submit(_answer_here, inbound, accepted)
        except BrokenProcessPool:
            # An answering process died (killed, out of memory): its messages are stored and
            # the sweep answers them when their leases run out. Start afresh for the next.
            log.error("an answering process died; starting new ones")
            self._processes.shutdown(wait=False, cancel_futures=True)
            self._processes = self._start_processes()
            return self._processes.submit(_answer_here, inbound, accepted)

    def _start_processes(self) -> ProcessPoolExecutor:
        # "spawn": a fork of the web process would copy its threads' locks and connections.
        processes = ProcessPoolExecutor(max_workers=self._settings.answer_processes,
                                        mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_start_answering_process,
                                        initargs=(self._settings, os.getpid()))
        # Started now (the first task starts them all), not on the first message, which would
        # wait seconds for them to load the bot.
        processes.submit(_ready)
        return processes

    def _finished(self, _done: "asyncio.Future[Received]") -> None:
        self.in_hand -= 1


# In an answering process: its own database engine and bot, built once when it starts.
_here: tuple[DbEngine, Engine] | None = None


def _start_answering_process(settings: Settings, web_process: int) -> None:
    global _here
    become_background(web_process)
    _here = (get_engine(settings.database_url), build_engine(settings))


def _ready() -> bool:
    return _here is not None


def _answer_here(inbound: InboundMessage, accepted: Accepted) -> Received:
    if _here is None:
        raise RuntimeError("this answering process did not start")
    db, bot = _here
    return answer(db, bot, inbound, accepted)
