"""A copy that dies mid-answer, an answer too slow for the webhook, a flood from one sender
(issue: hardening, items 19-21)."""

import threading
import time
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from api.main import create_app
from bot.conversation.contacts import Direction, Message, utcnow
from bot.conversation.inbox import (
    accept,
    answer,
    answer_unanswered,
    follow_duplicate,
    receive,
)
from bot.db import session_scope
from bot.messaging.outbox import Outbox
from tests.factories import inbound, signed, twilio_form


def outbox_bodies(db) -> list[str]:
    with Session(db) as session:
        return [o.body for o in session.exec(select(Outbox).order_by(Outbox.id))]


def answers_to(db, sid) -> int:
    with Session(db) as session:
        message = session.exec(select(Message).where(Message.sid == sid)).one()
        return session.exec(select(func.count()).select_from(Message).where(
            Message.reply_to_id == message.id)).one()


def expire_leases(db) -> None:
    with session_scope(db) as session:
        for message in session.exec(select(Message).where(Message.direction == Direction.IN)):
            message.lease_until = utcnow() - timedelta(seconds=1)


def test_a_retry_takes_over_a_message_whose_first_copy_died(db, bot, fake_nlu):
    fake_nlu.teach("fees", "ask_fees")
    message = inbound("fees")
    assert accept(db, message, rate_limit=20) is not None  # stored; then kill -9
    assert follow_duplicate(db, bot, message, wait=0.2).replies == []  # lease still held
    expire_leases(db)
    retry = receive(db, bot, message)
    assert retry.duplicate and retry.replies and not retry.late
    assert answers_to(db, message.sid) == 1
    third = receive(db, bot, message)  # and a third copy repeats it
    assert [r.body for r in third.replies] == [r.body for r in retry.replies]


def test_the_sweep_answers_what_a_dead_copy_left_through_the_outbox(db, bot, fake_nlu):
    fake_nlu.teach("fees", "ask_fees")
    message = inbound("fees")
    accept(db, message, rate_limit=20)
    assert answer_unanswered(db, bot) == 0  # its lease has not run out: someone may have it
    expire_leases(db)
    assert answer_unanswered(db, bot) == 1
    assert answer_unanswered(db, bot) == 0
    assert len(outbox_bodies(db)) == 1 and answers_to(db, message.sid) == 1


def test_a_late_copy_never_answers_twice(db, bot, fake_nlu):
    """The sweep took over a slow copy's message; the slow copy then finishes: one answer."""
    fake_nlu.teach("fees", "ask_fees")
    message = inbound("fees")
    accepted = accept(db, message, rate_limit=20)
    expire_leases(db)
    answer_unanswered(db, bot)
    slow = answer(db, bot, message, accepted)
    assert slow.replies == [] and answers_to(db, message.sid) == 1


def slow_bot(bot, seconds):
    """A bot whose NLU takes `seconds`: where a real answer spends its time when it is slow
    (Rasa busy), before the answer's transaction begins."""
    prefetch = bot.prefetch

    def slowly(*args, **kwargs):
        time.sleep(seconds)
        return prefetch(*args, **kwargs)

    bot.prefetch = slowly
    return bot


def post(client, form):
    body, headers = signed(form)
    return client.post("/webhooks/twilio", content=body, headers=headers)


def test_an_answer_past_the_budget_is_acknowledged_at_once_and_sent_later(settings, bot, db,
                                                                          fake_nlu):
    fake_nlu.teach("fees", "ask_fees")
    settings = settings.model_copy(update={"reply_budget_seconds": 0.3,
                                           "twilio_account_sid": "AC" + "0" * 32,
                                           "twilio_whatsapp_from": "whatsapp:+14155238886"})
    client = TestClient(create_app(settings, slow_bot(bot, 1.0)))
    started = time.monotonic()
    response = post(client, twilio_form("fees", sid=(sid := f"SM{'1' * 32}")))
    assert time.monotonic() - started < 0.9
    assert response.status_code == 200 and "<Message>" not in response.text
    deadline = time.monotonic() + 5
    while not outbox_bodies(db) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(outbox_bodies(db)) == 1 and answers_to(db, sid) == 1


def test_a_persons_next_answer_queues_behind_their_late_one(settings, bot, db, fake_nlu):
    fake_nlu.teach("fees", "ask_fees")
    fake_nlu.teach("protector", "ask_protector")
    late = inbound("fees")  # answered late: still waiting in the outbox
    answer(db, bot, late, accept(db, late, rate_limit=20, late=True))
    second = receive(db, bot, inbound("protector"))
    assert second.late and second.replies
    assert len(outbox_bodies(db)) == 2  # in order, behind the first


def test_a_flood_from_one_sender_is_never_parsed(db, bot, fake_nlu):
    bot.rate_limit_per_minute = 3
    for i in range(10):
        receive(db, bot, inbound(f"agent ne paise liye {i}"))
    assert len(fake_nlu.calls) == 3  # the seven over the limit cost no NLU call


def test_two_copies_at_once_answer_once(db, bot, fake_nlu):
    fake_nlu.teach("fees", "ask_fees")
    message = inbound("fees")
    results = []
    threads = [threading.Thread(target=lambda: results.append(receive(db, bot, message)))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers_to(db, message.sid) == 1
    assert len({tuple(r.body for r in result.replies) for result in results}) == 1


def test_without_rest_credentials_a_slow_answer_still_comes_in_the_twiml(settings, bot, db,
                                                                         fake_nlu):
    """No account SID or sender: the outbox could not send it, so the webhook waits."""
    fake_nlu.teach("fees", "ask_fees")
    settings = settings.model_copy(update={"reply_budget_seconds": 0.2})
    client = TestClient(create_app(settings, slow_bot(bot, 0.6)))
    response = post(client, twilio_form("fees"))
    assert "<Message>" in response.text and outbox_bodies(db) == []


def test_with_answers_queueing_a_delivery_is_acknowledged_without_waiting(settings, bot, db,
                                                                        fake_nlu, monkeypatch):
    """A backlog of answers means this one cannot be ready in time: acknowledge at once."""
    from api import webhooks

    monkeypatch.setattr(webhooks, "BACKLOG_TO_ACK_AT_ONCE", 0)
    fake_nlu.teach("fees", "ask_fees")
    settings = settings.model_copy(update={"reply_budget_seconds": 5.0,
                                           "twilio_account_sid": "AC" + "0" * 32,
                                           "twilio_whatsapp_from": "whatsapp:+14155238886"})
    client = TestClient(create_app(settings, slow_bot(bot, 1.0)))
    started = time.monotonic()
    response = post(client, twilio_form("fees"))
    assert time.monotonic() - started < 0.8 and "<Message>" not in response.text
    deadline = time.monotonic() + 5
    while not outbox_bodies(db) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(outbox_bodies(db)) == 1
