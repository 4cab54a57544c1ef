"""`make bench`, the alerts part: an alert to 100,000 people who said yes to alerts, queued by
the scheduler job on PostgreSQL, then drained by two worker processes through a local fake
Twilio.

In a schema of its own (dropped after): the contacts (each wrote once, 70% on WhatsApp, 30% by
SMS, WhatsApp windows open for about 60%; five languages), plus a tenth as many who said no or
were never asked, so the audience query filters. The alert is written, submitted, approved by a
second person and sent as the pages do it (bot/outreach/broadcasts.py); the worker's job
(bot/outreach/broadcast_sending.py) queues it a batch per transaction, and is timed. Then two
worker processes run the outbox's sending round (bench/outbox_drain.py's workers) at the
configured rate. Writes bench/results/alerts.md/.json: seconds to count and to queue, messages a
second drained, lost (in the audience, never received) and sent twice (received more than once,
by phone number).

    .venv/bin/python -m bench.alert_queue [--contacts 100000] [--rate 2000]
"""

import argparse
import json
import os
import platform
import random
import time
import uuid
from collections import Counter
from datetime import time as clock
from datetime import timedelta

import httpx
from sqlalchemy import Engine, func, select, text

from bench.outbox_drain import _rows, drain, fresh_schema, start_fake
from bot.casework.staff import Role, add_staff
from bot.content.store import get_content
from bot.content.templates import get_templates
from bot.conversation.contacts import Contact, Message, utcnow
from bot.db import get_engine, session_scope
from bot.messaging.outbox import Outbox
from bot.messaging.scheduler import run_due
from bot.messaging.templates import WhatsAppTemplate
from bot.migrate import upgrade
from bot.outreach import broadcasts
from bot.outreach.broadcast_sending import BATCH
from bot.outreach.broadcasts import Alert, AlertStatus
from bot.outreach.consent import Consent, Topic
from bot.outreach.jobs import job_handlers
from bot.settings import PROJECT_ROOT, Settings

RESULTS = PROJECT_ROOT / "bench" / "results"
LANGUAGES = ("ur", "ur-Latn", "pa", "ps", "en")
TEXTS = {
    "ur": "سیالکوٹ میں اٹلی کے جعلی ویزوں کی پیشکش ہو رہی ہے۔ کسی ایجنٹ کو پیسے نہ دیں۔",
    "ur-Latn": "Sialkot mein Italy ke jaali visa ki peshkash ho rahi hai. Kisi agent ko paisay "
               "na dein.",
    "pa": "سیالکوٹ وچ اٹلی دے جعلی ویزیاں دی پیشکش ہو رہی اے۔ کسے ایجنٹ نوں پیسے نہ دیو۔",
    "ps": "په سیالکوټ کې د ایټالیا د جعلي ویزو وړاندیزونه کېږي. هېڅ ایجنټ ته پیسې مه ورکوئ.",
    "en": "Fake Italy visa offers are going around in Sialkot. Do not pay any agent.",
}


def seed(db: Engine, contacts: int) -> list[str]:
    """`contacts` people who said yes, a tenth more who did not; the phones of those who said
    yes (the audience)."""
    rng, now = random.Random(15), utcnow()
    others = contacts // 10
    _rows(Contact.__table__, [
        {"phone": f"+92301{n:07d}", "state": {}, "opted_out": False, "is_test": False,
         "language": rng.choice(LANGUAGES), "district": "sialkot", "created_at": now,
         "updated_at": now} for n in range(contacts + others)], db)
    with db.connect() as connection:
        people = connection.execute(select(Contact.__table__.c.id, Contact.__table__.c.phone)
                                    .order_by(Contact.__table__.c.id)).all()
    _rows(Message.__table__, [
        {"contact_id": cid, "channel": "whatsapp" if rng.random() < 0.7 else "sms",
         "direction": "in", "body": "salam", "media": [],
         "created_at": now - timedelta(hours=rng.choice((1, 5, 12, 30, 48)))}
        for cid, _phone in people], db)
    _rows(Consent.__table__, [
        {"contact_id": cid, "topic": str(Topic.ALERTS), "given": n < contacts, "subject": "",
         "wording": "alerts?", "channel": "whatsapp", "created_at": now}
        for n, (cid, _phone) in enumerate(people) if n < contacts or n % 2], db)
    _rows(WhatsAppTemplate.__table__, [
        {"key": broadcasts.TEMPLATE, "language": language, "content_sid": sid,
         "in_use_sid": sid, "approval_status": "approved", "rejection_reason": "", "body": "...",
         "synced_at": now} for language in LANGUAGES for sid in [f"HX{uuid.uuid4().hex}"]], db)
    return [phone for _cid, phone in people[:contacts]]


def approved_alert(db: Engine, settings: Settings) -> tuple[int, float]:
    """Written, submitted (counted), approved by a second person, sent: as on the pages. Also
    the seconds the audience count took."""
    content = get_content(settings.content_dir)
    template = get_templates(settings.content_dir)[broadcasts.TEMPLATE]
    with session_scope(db) as session:
        writer, approver = (add_staff(session, email=f"{name}@bench.example", name=name,
                                      centre="mrc-lahore", role=Role.SUPERVISOR,
                                      password="bench password 1").id
                            for name in ("sara", "imran"))
        alert = broadcasts.create(session, content, template, title="bench", texts=TEXTS,
                                  audience={"districts": ["sialkot"]}, staff_id=writer)
        alert_id = alert.id
    began = time.monotonic()
    with session_scope(db) as session:
        broadcasts.submit(session, alert_id=alert_id, staff_id=writer, threshold=1000,
                          now=utcnow())
    counted = time.monotonic() - began
    with session_scope(db) as session:
        seen = broadcasts.fingerprint(broadcasts.locked(session, alert_id))  # the page shows it
        broadcasts.approve(session, alert_id=alert_id, staff_id=approver, fingerprint_seen=seen,
                           now=utcnow())
        broadcasts.send_now(session, alert_id=alert_id, staff_id=writer, threshold=1000,
                            now=utcnow())
    return alert_id, counted


def queue(db: Engine, settings: Settings, alert_id: int) -> tuple[float, int]:
    """The worker's job runs, one after another, until the alert is queued; seconds, runs."""
    handlers, runs, began = job_handlers(settings), 0, time.monotonic()
    while True:
        runs += run_due(db, handlers)
        with db.connect() as connection:
            status = connection.execute(select(Alert.__table__.c.status).where(
                Alert.__table__.c.id == alert_id)).scalar_one()
        if status != AlertStatus.SENDING:
            return time.monotonic() - began, runs


def tally(db: Engine, received: list[dict], audience: list[str], started: float) -> dict:
    counts = Counter(message["to"].removeprefix("whatsapp:") for message in received)
    at = sorted(message["at"] for message in received)
    with db.connect() as connection:
        statuses = dict(connection.execute(select(Outbox.__table__.c.status, func.count())
                                           .group_by(Outbox.__table__.c.status)).all())
    return {
        "received_at_fake": len(received),
        "as_template": sum(1 for m in received if m["content_sid"]),
        "lost": sum(1 for phone in audience if counts[phone] == 0),
        "sent_twice": sum(1 for number in counts.values() if number > 1),
        "outside_the_audience": len(set(counts) - set(audience)),
        "drain_seconds": round(at[-1] - started, 1) if at else None,
        "messages_per_second": round(len(at) / (at[-1] - started), 1) if at else None,
        "outbox_statuses": statuses,
    }


def write_report(result: dict) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "alerts.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    rows = "\n".join(f"| {key} | {value} |" for key, value in result.items() if key != "setup")
    setup = result["setup"]
    (RESULTS / "alerts.md").write_text(f"""# Alert to many: queueing and drain

An alert to {setup['contacts']:,} people who said yes to alerts ({setup['others']:,} more \
contacts who said no or were never asked, so the audience query filters), written, counted, \
approved by a second person and sent as the dashboard does it, then queued by the worker's job \
({setup['batch']:,} people per transaction; the conversation records and outbox items go in \
as bulk Core INSERTs, the records' ids taken from their sequence first) and drained by two \
worker processes through a local fake Twilio in a process of \
its own, at {setup['rate_per_sender']:g} messages a second per sender number. 70% WhatsApp \
(windows open for about 60%: the rest go as the approved `alert` template), 30% SMS. \
PostgreSQL, {setup['machine']}, {setup['cores']} cores; load average (1 min) before and after: \
{setup['load_average_before_after']} (the machine is shared with other work). \
`python -m bench.alert_queue`.

| measure | value |
|---|---|
{rows}

- count_seconds: the audience count shown before sending (one query over every contact).
- queue_seconds: from "send now" to every message queued, the job run by one process \
({result['job_runs']} runs, one batch each); queued_per_second = audience / queue_seconds.
- lost: in the audience, never received by the fake; sent_twice: a phone that received the \
alert more than once; outside_the_audience: a phone that received it and should not have.
- messages_per_second: messages at the fake / seconds from the workers' start to the last one; \
the two workers share the cores with PostgreSQL and the fake Twilio. At a real sender's rate \
the drain takes as long as the rate says (100,000 at 80 a second: about 21 minutes).
""")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=2000.0, help="per sender number")
    parser.add_argument("--limit-seconds", type=float, default=420.0,
                        help="stop draining after this (what is left is reported, not lost)")
    args = parser.parse_args()
    fake, twilio_url = start_fake()
    schema, url = fresh_schema(args.database)
    try:
        upgrade(url)
        db = get_engine(url)
        # No quiet hours: the bench measures queueing and sending, not the night.
        settings = Settings(database_url=url, quiet_hours_start=clock(0),
                            quiet_hours_end=clock(0), _env_file=None)
        load_before = os.getloadavg()[0]
        audience = seed(db, args.contacts)
        alert_id, counted = approved_alert(db, settings)
        queued_s, runs = queue(db, settings, alert_id)
        print(f"queued {args.contacts} in {queued_s:.1f} s; draining")
        started, _replies = drain(db, url, twilio_url, args.rate, args.contacts, 0,
                                  args.limit_seconds)
        received = httpx.get(f"{twilio_url}/_fake/messages", timeout=120).json()["messages"]
        with db.connect() as connection:
            queued = connection.execute(select(Alert.__table__.c.queued)).scalar_one()
        result = {"setup": {"contacts": args.contacts, "others": args.contacts // 10,
                            "batch": BATCH, "rate_per_sender": args.rate,
                            "cores": os.cpu_count(), "machine": platform.platform(),
                            "load_average_before_after": (round(load_before, 1),
                                                          round(os.getloadavg()[0], 1))},
                  "audience": len(audience), "count_seconds": round(counted, 2),
                  "queued": queued, "queue_seconds": round(queued_s, 1), "job_runs": runs,
                  "queued_per_second": round(queued / queued_s) if queued_s else None,
                  **tally(db, received, audience, started)}
        db.dispose()
    finally:
        fake.terminate()
        with get_engine(args.database).connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            connection.commit()
    write_report(result)
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
