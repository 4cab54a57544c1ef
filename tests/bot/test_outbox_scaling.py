"""The outbox under load: replies before bulk, order per person only where it matters, each
sender number's rate shared by several workers, and no item sent twice."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import insert
from sqlmodel import Session, func, select

from bot.conversation.contacts import Contact, Message, utcnow
from bot.db import session_scope
from bot.messaging.outbox import Outbox, Priority, Status, enqueue, send_due
from bot.messaging.rate import Pacer
from tests.fakes.twilio_server import FakeTwilio
from tests.fakes.twilio_server import sender_for as sender


@pytest.fixture
def twilio():
    with FakeTwilio() as fake:
        yield fake



def people(db, count: int) -> list[Contact]:
    with session_scope(db) as session:
        contacts = [Contact(phone=f"+9230011{n:05d}") for n in range(count)]
        session.add_all(contacts)
        session.flush()
        return contacts


def bulk(db, contacts: list[Contact], count: int, *, priority=Priority.REMINDER,
         kind="reminder") -> None:
    """`count` SMS, round the contacts, in one statement (as a fan-out would)."""
    rows = [{"contact_id": contacts[n % len(contacts)].id, "channel": "sms",
             "body": f"{kind} {n}", "priority": priority, "kind": kind, "status": "queued",
             "attempts": 0, "next_attempt_at": utcnow(), "error": "", "template_variables": {},
             "created_at": utcnow()} for n in range(count)]
    with session_scope(db) as session:
        session.connection().execute(insert(Outbox.__table__), rows)


def test_claim_sends_a_reply_queued_after_500_reminders_first(db, twilio):
    contacts = people(db, 50)
    bulk(db, contacts, 500)
    with session_scope(db) as session:
        enqueue(session, contact=contacts[7], channel="sms", body="the answer")
    assert send_due(db, sender(twilio), limit=10) == 10
    assert {m.body for m in twilio.messages} == {"the answer"} | {f"reminder {n}"
                                                                  for n in range(9)}


def test_claim_lets_a_reply_overtake_a_reminder_held_for_quiet_hours(db, twilio):
    [contact] = people(db, 1)
    with session_scope(db) as session:
        enqueue(session, contact=contact, channel="sms", body="reminder", kind="reminder",
                priority=Priority.REMINDER, not_before=utcnow() + timedelta(hours=9))
        enqueue(session, contact=contact, channel="sms", body="the answer")
    assert send_due(db, sender(twilio)) == 1
    assert [m.body for m in twilio.messages] == ["the answer"]


def test_claim_holds_a_reply_behind_an_older_reply_waiting_for_a_retry(db, twilio):
    [contact] = people(db, 1)
    with session_scope(db) as session:
        first = enqueue(session, contact=contact, channel="sms", body="first answer")
        first.attempts, first.next_attempt_at = 1, utcnow() + timedelta(seconds=30)
        enqueue(session, contact=contact, channel="sms", body="second answer")
    assert send_due(db, sender(twilio)) == 0


def test_claim_does_not_hold_a_reply_behind_a_reminder_waiting_for_a_retry(db, twilio):
    [contact] = people(db, 1)
    with session_scope(db) as session:
        reminder = enqueue(session, contact=contact, channel="sms", body="reminder",
                           kind="reminder", priority=Priority.REMINDER)
        reminder.attempts, reminder.next_attempt_at = 1, utcnow() + timedelta(seconds=30)
        enqueue(session, contact=contact, channel="sms", body="the answer")
    assert send_due(db, sender(twilio)) == 1


class FixedClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_pacer_gives_two_workers_slots_that_never_overlap(db):
    clock = FixedClock(1000.0)
    first, second = Pacer(db, 10, clock=clock), Pacer(db, 10, clock=clock)
    slots = first.reserve("+1555", 5) + second.reserve("+1555", 5) + first.reserve("+1555", 3)
    assert slots == pytest.approx([1000.0 + n / 10 for n in range(13)])


def test_pacer_keeps_each_sender_number_apart(db):
    clock = FixedClock(1000.0)
    pacer = Pacer(db, 10, clock=clock)
    pacer.reserve("+1555", 5)
    assert pacer.reserve("whatsapp:+1555", 1) == pytest.approx([1000.0])


def test_pacer_starts_again_from_now_after_a_quiet_spell(db):
    clock = FixedClock(1000.0)
    pacer = Pacer(db, 10, clock=clock)
    pacer.reserve("+1555", 5)
    clock.now = 2000.0
    assert pacer.reserve("+1555", 2) == pytest.approx([2000.0, 2000.1])


def test_pacer_claims_about_half_a_second_of_sending(db):
    assert (Pacer(db, 1).claim_size(500), Pacer(db, 80).claim_size(500),
            Pacer(db, 2000).claim_size(500)) == (1, 40, 500)


def test_pacer_claims_less_when_the_worker_sends_slower_than_the_rate(db):
    """A worker short of CPU: rounds stay short, so a reply does not wait for a long one."""
    pacer = Pacer(db, 2000)
    pacer.observe(100, 2.0, full=True)  # 50 a second
    assert pacer.claim_size(500) == 25


def test_pacer_learns_nothing_from_a_round_without_a_backlog(db):
    pacer = Pacer(db, 2000)
    pacer.observe(3, 1.0, full=False)
    assert pacer.claim_size(500) == 500


def run_workers(db, send, count: int, *, pacer_for=lambda: None, seconds=30.0) -> None:
    """Two workers (threads, each with its own connections) sending until `count` are out."""
    deadline = threading.Event()
    timer = threading.Timer(seconds, deadline.set)
    timer.start()

    def work() -> None:
        while not deadline.is_set() and sent(db) < count:
            send_due(db, send, pacer=pacer_for())

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    timer.cancel()


def sent(db) -> int:
    with Session(db) as session:
        return session.exec(select(func.count()).select_from(Outbox).where(
            Outbox.status == Status.SENT)).one()


def test_rate_limit_holds_across_two_workers(db, twilio):
    """20 a second for the SMS number, two workers, 40 messages: at Twilio no 21 of them
    arrive within 0.8 s (a second, less generous room for a late send), and all take 1.9 s
    or more. Measured by the fake's clock: wall time, with bounds no slow machine breaks."""
    bulk(db, people(db, 40), 40)
    run_workers(db, sender(twilio), 40, pacer_for=lambda: Pacer(db, 20))
    arrived = sorted(m.at for m in twilio.messages)
    assert len(arrived) == 40
    assert min(arrived[n + 20] - arrived[n] for n in range(20)) > 0.8
    assert arrived[-1] - arrived[0] > 1.9 * 0.95


def test_two_workers_never_send_one_item_twice(db, twilio):
    bulk(db, people(db, 60), 300)
    run_workers(db, sender(twilio), 300)
    bodies = [m.body for m in twilio.messages]
    assert len(bodies) == 300 and len(set(bodies)) == 300


def test_whatsapp_window_is_read_in_the_claim(db, twilio):
    """The claim reads the person's last message in the same query: one written 23 hours ago
    keeps the window open, one 25 hours ago does not."""
    contacts = people(db, 2)
    with session_scope(db) as session:
        for contact, hours in zip(contacts, (23, 25), strict=True):
            session.add(Message(contact_id=contact.id, channel="whatsapp", direction="in",
                                body="salam", created_at=utcnow() - timedelta(hours=hours)))
            enqueue(session, contact=contact, channel="whatsapp", body=f"after {hours}")
    send_due(db, sender(twilio))
    assert [m.body for m in twilio.messages] == ["after 23"]
