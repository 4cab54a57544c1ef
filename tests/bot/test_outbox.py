"""The outbox against a local stand-in for Twilio's REST API that fails, then recovers."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from sqlmodel import Session, select

from bot.conversation.contacts import Contact, Message, utcnow
from bot.db import session_scope
from bot.messaging.outbox import Outbox, enqueue, record_status, send_due
from bot.messaging.twilio import twilio_sender

ACCOUNT = "AC" + "a" * 32


class FakeTwilio(BaseHTTPRequestHandler):
    failures_left = 0
    received: list[dict] = []

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        if FakeTwilio.failures_left:
            FakeTwilio.failures_left -= 1
            self.send_response(500)
            self.end_headers()
            return
        FakeTwilio.received.append(form)
        body = json.dumps({"sid": f"SM{len(FakeTwilio.received):032d}", "status": "queued",
                           "to": form.get("To"), "from": form.get("From"),
                           "body": form.get("Body"), "account_sid": ACCOUNT}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def twilio():
    FakeTwilio.received, FakeTwilio.failures_left = [], 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeTwilio)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def queue(db, count) -> None:
    with session_scope(db) as session:
        contact = Contact(phone="+923001112222")
        session.add(contact)
        session.flush()
        # The person wrote: WhatsApp's 24-hour window is open, free text may go.
        session.add(Message(contact_id=contact.id, channel="whatsapp", direction="in",
                            body="salam"))
        for index in range(count):
            enqueue(session, contact=contact, channel="whatsapp", body=f"reply {index}")


def sender(twilio):
    return twilio_sender(ACCOUNT, "token", sms_from="+15550001111",
                         whatsapp_from="whatsapp:+15550002222", api_base_url=twilio)


def make_due(db) -> None:
    with session_scope(db) as session:
        for item in session.exec(select(Outbox)):
            item.next_attempt_at = utcnow()


def test_outbox_sends_through_twilio_rest(db, twilio):
    queue(db, 2)
    assert send_due(db, sender(twilio)) == 2
    assert [m["To"] for m in FakeTwilio.received] == ["whatsapp:+923001112222"] * 2
    with Session(db) as session:
        items = session.exec(select(Outbox)).all()
        assert {i.status for i in items} == {"sent"} and all(i.sent_at for i in items)
        # The conversation record carries Twilio's SID too, each its own.
        records = {i.sid: session.get(Message, i.message_id) for i in items}
        assert len(records) == 2 and all(m.sid == sid for sid, m in records.items())


def test_outbox_loses_nothing_while_twilio_is_down(db, twilio):
    queue(db, 5)
    FakeTwilio.failures_left = 7  # Twilio down for a while (the first message tries 8 times)
    for _ in range(20):  # one person: a failed send holds back the later ones, in order
        send_due(db, sender(twilio))
        make_due(db)  # instead of waiting out the backoff
    bodies = sorted(m["Body"] for m in FakeTwilio.received)
    assert bodies == [f"reply {i}" for i in range(5)]  # every one, exactly once
    with Session(db) as session:
        items = session.exec(select(Outbox)).all()
    assert {i.status for i in items} == {"sent"} and max(i.attempts for i in items) > 1


def test_outbox_backs_off_exponentially(db, twilio):
    queue(db, 1)
    FakeTwilio.failures_left = 5
    delays = []
    for _ in range(3):
        send_due(db, sender(twilio))
        with Session(db) as session:
            item = session.exec(select(Outbox)).one()
            delays.append((item.next_attempt_at - utcnow()).total_seconds())
        make_due(db)
    assert delays[0] < delays[1] < delays[2]


def test_outbox_delivery_callback_updates_status(db, twilio):
    queue(db, 1)
    send_due(db, sender(twilio))
    with Session(db) as session:
        sid = session.exec(select(Outbox)).one().sid
    with session_scope(db) as session:
        assert record_status(session, sid=sid, status="delivered")
        assert not record_status(session, sid="SMunknown", status="delivered")
    with Session(db) as session:
        assert session.exec(select(Outbox)).one().status == "delivered"


def test_outbox_keeps_one_persons_messages_in_order_through_failures(db, twilio):
    queue(db, 3)
    FakeTwilio.failures_left = 1  # the first send fails: the others must not overtake it
    assert send_due(db, sender(twilio)) == 0
    assert FakeTwilio.received == []
    make_due(db)
    assert send_due(db, sender(twilio)) == 3
    assert [m["Body"] for m in FakeTwilio.received] == ["reply 0", "reply 1", "reply 2"]


def test_outbox_late_queued_callback_never_sends_again(db, twilio):
    """Twilio's callbacks come out of order: a "queued" after "sent" must not re-queue."""
    queue(db, 1)
    send_due(db, sender(twilio))
    with Session(db) as session:
        sid = session.exec(select(Outbox)).one().sid
    with session_scope(db) as session:
        record_status(session, sid=sid, status="delivered")
        record_status(session, sid=sid, status="queued")
        record_status(session, sid=sid, status="sent")
    make_due(db)
    assert send_due(db, sender(twilio)) == 0
    assert len(FakeTwilio.received) == 1
    with Session(db) as session:
        assert session.exec(select(Outbox)).one().status == "delivered"


def test_outbox_item_of_a_worker_that_died_mid_send_is_sent_again(db, twilio):
    from datetime import timedelta

    queue(db, 1)
    with session_scope(db) as session:  # claimed by a worker that then died
        item = session.exec(select(Outbox)).one()
        item.status, item.next_attempt_at = "sending", utcnow() + timedelta(minutes=2)
    assert send_due(db, sender(twilio)) == 0  # still held by the dead worker's claim
    make_due(db)  # the claim runs out
    assert send_due(db, sender(twilio)) == 1


def test_twilio_client_has_a_timeout(db):
    """The library waits forever by default; a hung Twilio would stop the outbox."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()  # accepts connections, never answers
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    send = twilio_sender(ACCOUNT, "token", sms_from="+15550001111",
                         whatsapp_from="whatsapp:+15550002222", api_base_url=url, timeout=0.5)
    queue(db, 1)
    try:
        assert send_due(db, send) == 0
    finally:
        listener.close()
    with Session(db) as session:
        item = session.exec(select(Outbox)).one()
    assert item.status == "queued" and "Timeout" in item.error


def test_different_people_are_sent_side_by_side_each_in_order(db):
    """Eight people with three messages each; the first person's second send fails. Sends to
    different people overlap in time (the outbox is not one round trip at a time), each
    person's messages go in order, and the failed person's third waits behind the second."""
    with session_scope(db) as session:
        for person in range(8):
            contact = Contact(phone=f"+92300111{person:04d}")
            session.add(contact)
            session.flush()
            for index in range(3):
                enqueue(session, contact=contact, channel="sms", body=f"{person}-{index}")
    lock, in_flight, most_in_flight, order = threading.Lock(), [0], [0], []
    both_started = threading.Barrier(2, timeout=5)

    def send(to, channel, body, **template):
        with lock:
            in_flight[0] += 1
            most_in_flight[0] = max(most_in_flight[0], in_flight[0])
        try:
            if body in ("0-0", "1-0"):  # two people's first sends wait for each other
                both_started.wait()
            if body == "0-1":
                raise RuntimeError("Twilio said no")
            with lock:
                order.append(body)
            return f"SM{abs(hash(body)):032d}"[:34]
        finally:
            with lock:
                in_flight[0] -= 1

    assert send_due(db, send) == 22
    assert most_in_flight[0] >= 2
    for person in range(1, 8):
        assert [b for b in order if b.startswith(f"{person}-")] == [f"{person}-{i}"
                                                                   for i in range(3)]
    assert [b for b in order if b.startswith("0-")] == ["0-0"]
    with Session(db) as session:
        statuses = {item.body: item.status for item in session.exec(select(Outbox))}
    assert statuses["0-1"] == "queued" and statuses["0-2"] == "queued"


def test_worker_keeps_sending_while_there_is_more_than_one_batch(db, twilio, settings, bot,
                                                                  monkeypatch):
    """A rush hour's late answers, queued by other processes (nothing wakes this worker):
    after a full batch it goes on at once instead of waiting for its next round."""
    from bot.messaging import worker

    monkeypatch.setattr(worker, "INTERVAL_SECONDS", 5.0)
    with session_scope(db) as session:
        for person in range(250):
            contact = Contact(phone=f"+92300222{person:04d}")
            session.add(contact)
            session.flush()
            enqueue(session, contact=contact, channel="sms", body=f"answer {person}")
    settings = settings.model_copy(update={
        "twilio_account_sid": ACCOUNT, "twilio_sms_from": "+15550001111",
        "twilio_api_base_url": twilio, "twilio_messages_per_second": 1000.0})
    stop = threading.Event()
    started = time.monotonic()
    threading.Thread(target=worker.run_forever, args=(settings, stop, bot), daemon=True).start()
    try:
        while len(FakeTwilio.received) < 250 and time.monotonic() - started < 20:
            time.sleep(0.05)
        assert len(FakeTwilio.received) == 250
        assert time.monotonic() - started < 5.0  # three batches, no round's wait between
    finally:
        stop.set()
