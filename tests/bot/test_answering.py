"""Answers worked out in separate processes, and the database deciding, exactly once, whether
an answer goes back in the TwiML or through the outbox (issue: hardening, item 20)."""

import multiprocessing
import os
import random
import signal
import threading
import time

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.main import create_app
from bot.conversation.contacts import Message
from bot.conversation.inbox import (
    accept,
    answer,
    answer_unanswered,
    follow_duplicate,
    stop_waiting,
)
from tests.bot.test_inbox_recovery import answers_to, expire_leases, outbox_bodies, post
from tests.factories import inbound, twilio_form


def test_stop_waiting_before_the_answer_sends_it_through_the_outbox(db, bot, fake_nlu):
    fake_nlu.teach("fees", "ask_fees")
    message = inbound("fees")
    accepted = accept(db, message, rate_limit=20)
    assert stop_waiting(db, accepted.message_id) is None
    answered = answer(db, bot, message, accepted)
    assert answered.late and answered.replies
    assert outbox_bodies(db) == [r.body for r in answered.replies]


def test_stop_waiting_after_the_answer_returns_it_for_the_twiml(db, bot, fake_nlu):
    fake_nlu.teach("fees", "ask_fees")
    message = inbound("fees")
    accepted = accept(db, message, rate_limit=20)
    answered = answer(db, bot, message, accepted)
    assert not answered.late
    assert [r.body for r in stop_waiting(db, accepted.message_id)] == [
        r.body for r in answered.replies]
    assert outbox_bodies(db) == []


def test_stop_waiting_racing_the_answer_delivers_exactly_once(db, bot, fake_nlu):
    """The webhook gives up just as the answer commits: either the TwiML or the outbox
    carries it, never both and never neither."""
    fake_nlu.teach("fees", "ask_fees")
    prefetch, handle = bot.prefetch, bot.handle

    def jittered(work, longest):
        def slowly(*args, **kwargs):
            time.sleep(random.uniform(0, longest))
            return work(*args, **kwargs)
        return slowly

    # The NLU's round trip before the answer's transaction, the engine's work inside it.
    bot.prefetch, bot.handle = jittered(prefetch, 0.02), jittered(handle, 0.005)
    outcomes = set()
    for round_ in range(16):
        message = inbound("fees", phone=f"+9230012345{round_:02d}")
        accepted = accept(db, message, rate_limit=20)
        answered = []
        answering = threading.Thread(target=lambda m=message, a=accepted, out=answered:
                                     out.append(answer(db, bot, m, a)))
        answering.start()
        # At once, well after, and anywhere in between (where the race is).
        time.sleep((0.0, 0.1, random.uniform(0, 0.03), random.uniform(0, 0.03))[round_ % 4])
        for_twiml = stop_waiting(db, accepted.message_id)
        answering.join()
        with Session(db) as session:
            stored = session.exec(select(Message).where(Message.id == accepted.message_id)).one()
        bodies = [r.body for r in answered[0].replies]
        if for_twiml is None:
            assert answered[0].late and stored.gave_up_waiting_at is not None
            assert outbox_bodies(db)[-len(bodies):] == bodies
        else:
            assert not answered[0].late and [r.body for r in for_twiml] == bodies
        assert answers_to(db, message.sid) == len(bodies)
        outcomes.add(for_twiml is None)
    assert outcomes == {True, False}


def process_settings(settings):
    # Nothing listens on port 9: the answering process's bot answers with its keywords.
    return settings.model_copy(update={"answer_processes": 1, "reply_budget_seconds": 20.0,
                                       "rasa_url": "http://127.0.0.1:9"})


def answering_processes() -> list[multiprocessing.Process]:
    return multiprocessing.active_children()


def test_an_answering_process_answers_in_the_twiml(settings, db, bot):
    answered_here = []
    bot.handle = lambda *args, **kwargs: answered_here.append(args)  # the web process's bot
    app = create_app(process_settings(settings), bot)
    try:
        response = post(TestClient(app), twilio_form("agent fees kitni hai", sid=f"SM{'a' * 32}"))
        assert response.status_code == 200 and "<Message>" in response.text
        assert answering_processes() and answered_here == []
        assert answers_to(db, f"SM{'a' * 32}") >= 1 and outbox_bodies(db) == []
    finally:
        app.state.answerers.close()


def test_a_killed_answering_process_loses_nothing_and_is_replaced(settings, db):
    app = create_app(process_settings(settings))
    client = TestClient(app)
    try:
        assert "<Message>" in post(client, twilio_form("fees", sid=f"SM{'b' * 32}")).text
        for child in answering_processes():
            os.kill(child.pid, signal.SIGKILL)
        time.sleep(0.5)
        killed = post(client, twilio_form("contract", sid=f"SM{'c' * 32}"))
        assert killed.status_code == 200
        after = post(client, twilio_form("visa", sid=f"SM{'d' * 32}"))
        assert "<Message>" in after.text  # new answering processes took over
        if "<Message>" not in killed.text:  # the dead process had it: stored, swept later
            expire_leases(db)
            assert answer_unanswered(db, app.state.bot) == 1
        assert answers_to(db, f"SM{'c' * 32}") >= 1
    finally:
        app.state.answerers.close()


def test_a_retry_of_a_message_answered_late_returns_at_once(db, bot, fake_nlu):
    """In a rush the first copy was acknowledged without its answer: a retry has nothing to
    wait for (the outbox sends the answer), and must not hold its request polling."""
    fake_nlu.teach("fees", "ask_fees")
    message = inbound("fees")
    accepted = accept(db, message, rate_limit=20, late=True)
    started = time.monotonic()
    retry = follow_duplicate(db, bot, message, wait=2.0)
    assert retry.duplicate and retry.replies == [] and time.monotonic() - started < 1.0
    answer(db, bot, message, accepted)
    assert len(outbox_bodies(db)) >= 1 and answers_to(db, message.sid) == len(outbox_bodies(db))
