"""`make bench`, the outbox part: drain 100,000 queued messages through a local fake Twilio
with two worker processes on PostgreSQL.

Queues a bulk as a licence alert or a reminder campaign would (mixed kinds and priorities, about
20,000 people, WhatsApp and SMS, some WhatsApp windows closed so their approved template goes),
in a schema of its own (dropped after). Two worker processes run the worker's sending round
(`send_due` with the per-sender Pacer, as `rahnuma worker` does) against the fake Twilio, which
runs in a process of its own and records every message. While the bulk drains, replies are
queued one by one and timed until they reach the fake. Writes bench/results/outbox.md/.json:
messages a second, lost (queued, never sent), sent twice (by the bench's number of each message
at the fake), and how long a reply waits behind the bulk.

    .venv/bin/python -m bench.outbox_drain [--messages 100000] [--rate 2000]
"""

import argparse
import json
import multiprocessing
import os
import platform
import random
import statistics
import time
import uuid
from collections import Counter
from datetime import timedelta

import httpx
from sqlalchemy import Engine, func, insert, select, text

from bot.conversation.contacts import Contact, Message, utcnow
from bot.db import get_engine, session_scope
from bot.messaging.outbox import Outbox, Priority, Status, enqueue
from bot.messaging.rate import Pacer
from bot.messaging.sending import send_due
from bot.messaging.templates import WhatsAppTemplate
from bot.messaging.twilio import twilio_sender
from bot.messaging.worker import SEND_BATCH
from bot.migrate import upgrade
from bot.settings import PROJECT_ROOT

RESULTS = PROJECT_ROOT / "bench" / "results"
ACCOUNT = "AC" + "b" * 32
SMS_FROM, WHATSAPP_FROM = "+14155550100", "whatsapp:+14155550100"
LANGUAGES = ("ur", "ur-Latn", "pa", "ps", "en")
# kind, priority, share of the bulk, its template
KINDS = (("reminder", Priority.REMINDER, 0.5, "departure_reminder"),
         ("alert", Priority.ALERT, 0.3, "licence_alert"),
         ("case_update", Priority.CASE_UPDATE, 0.15, "case_update"),
         ("urgent", Priority.URGENT, 0.05, "case_update"))
CHUNK = 5000


def _serve_fake(port_out) -> None:  # noqa: ANN001 (a multiprocessing queue)
    from tests.fakes.twilio_server import FakeTwilio

    fake = FakeTwilio().start()
    port_out.put(fake.url)
    while True:
        time.sleep(3600)


def start_fake() -> tuple[multiprocessing.process.BaseProcess, str]:
    """The fake Twilio in a process of its own (its CPU is not the workers')."""
    context = multiprocessing.get_context("spawn")
    url_out = context.Queue()
    fake = context.Process(target=_serve_fake, args=(url_out,), daemon=True)
    fake.start()
    return fake, url_out.get(timeout=60)


def fresh_schema(base_url: str) -> tuple[str, str]:
    schema = f"rahnuma_bench_outbox_{uuid.uuid4().hex[:8]}"
    with get_engine(base_url).connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        connection.commit()
    separator = "&" if "?" in base_url else "?"
    return schema, f"{base_url}{separator}options=-csearch_path%3D{schema}"


def _rows(table, rows: list[dict], db: Engine) -> None:  # noqa: ANN001 (a Core table)
    with db.begin() as connection:
        for start in range(0, len(rows), CHUNK):
            connection.execute(insert(table), rows[start:start + CHUNK])


def queue_bulk(db: Engine, messages: int, people: int) -> dict[str, int]:
    """Contacts (60% wrote on WhatsApp within the day), approved templates, and `messages`
    outbox items with their conversation records; body "bench <n>" names each one."""
    rng, now = random.Random(14), utcnow()
    _rows(Contact.__table__, [{"phone": f"+92300{n:07d}", "state": {}, "opted_out": False,
                               "is_test": False, "created_at": now, "updated_at": now}
                              for n in range(people)], db)
    with db.connect() as connection:
        ids = [row[0] for row in connection.execute(select(Contact.__table__.c.id))]
    _rows(Message.__table__, [{"contact_id": cid, "channel": "whatsapp", "direction": "in",
                               "body": "salam", "media": [], "created_at": now - timedelta(
                                   hours=rng.choice((1, 5, 12, 30, 48)))} for cid in ids], db)
    sids = {(key, language): f"HX{uuid.uuid4().hex}" for key in {k[3] for k in KINDS}
            for language in LANGUAGES}
    _rows(WhatsAppTemplate.__table__, [
        {"key": key, "language": language, "content_sid": sid, "in_use_sid": sid,
         "approval_status": "approved", "rejection_reason": "", "body": "...",
         "synced_at": now} for (key, language), sid in sids.items()], db)
    plan = [kind for kind in KINDS for _ in range(int(messages * kind[2]))]
    plan += [KINDS[0]] * (messages - len(plan))
    rng.shuffle(plan)
    items = []
    for n, (kind, priority, _share, template) in enumerate(plan):
        items.append({"contact_id": rng.choice(ids), "channel": "whatsapp" if rng.random() < 0.7
                      else "sms", "body": f"bench {n}", "priority": int(priority), "kind": kind,
                      "language": rng.choice(LANGUAGES), "template_key": template,
                      "template_variables": {"1": f"B{n}", "2": "x"}, "status": "queued",
                      "attempts": 0, "next_attempt_at": now, "error": "", "created_at": now})
    _with_conversation_records(db, items)
    _rows(Outbox.__table__, items, db)
    return dict(Counter(item["kind"] for item in items))


def _with_conversation_records(db: Engine, items: list[dict]) -> None:
    """Each outbox item's copy in the conversation (enqueue writes both): it gets the SID."""
    table = Message.__table__
    with db.begin() as connection:
        for start in range(0, len(items), CHUNK):
            chunk = items[start:start + CHUNK]
            ids = connection.execute(insert(table).returning(
                table.c.id, sort_by_parameter_order=True), [
                {"contact_id": i["contact_id"], "channel": i["channel"], "direction": "out",
                 "body": i["body"], "media": [], "created_at": i["created_at"]}
                for i in chunk]).scalars().all()
            for item, message_id in zip(chunk, ids, strict=True):
                item["message_id"] = message_id


def _worker(database_url: str, twilio_url: str, rate: float, stop) -> None:  # noqa: ANN001
    """The worker's sending round, as run_once does it, until told to stop."""
    db = get_engine(database_url)
    send = twilio_sender(ACCOUNT, "token", sms_from=SMS_FROM, whatsapp_from=WHATSAPP_FROM,
                         api_base_url=twilio_url)
    pacer = Pacer(db, rate)
    while not stop.is_set():
        if send_due(db, send, limit=SEND_BATCH, pacer=pacer) == 0:
            time.sleep(0.2)


def remaining(db: Engine) -> int:
    with db.connect() as connection:
        return connection.execute(select(func.count()).select_from(Outbox.__table__).where(
            Outbox.__table__.c.status.in_((Status.QUEUED, Status.SENDING)))).scalar_one()


def probe_replies(db: Engine, total: int, probes: int, deadline: float) -> list[dict]:
    """Replies queued while the bulk drains (the first when a tenth has gone, then evenly):
    each to a person whose window is open, timed from its commit."""
    queued: list[dict] = []
    with db.connect() as connection:
        contact_id = connection.execute(select(Message.__table__.c.contact_id).where(
            Message.__table__.c.created_at > utcnow() - timedelta(hours=2)).limit(1)
        ).scalar_one()
    while len(queued) < probes and time.monotonic() < deadline:
        left = remaining(db)
        if left == 0:
            break
        if total - left >= total * (0.1 + 0.8 * len(queued) / probes):
            with session_scope(db) as session:
                contact = session.get(Contact, contact_id)
                enqueue(session, contact=contact, channel="whatsapp",
                        body=f"bench reply {len(queued)}", priority=Priority.REPLY)
            queued.append({"body": f"bench reply {len(queued)}", "queued_at": time.time(),
                           "bulk_left": left})
        time.sleep(0.5)  # counting 100,000 rows costs PostgreSQL ~20 ms: not too often
    return queued


def drain(db: Engine, database_url: str, twilio_url: str, rate: float, total: int,
          probes: int, limit_s: float) -> tuple[float, list[dict]]:
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    workers = [context.Process(target=_worker, args=(database_url, twilio_url, rate, stop))
               for _ in range(2)]
    started = time.time()
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + limit_s
    replies = probe_replies(db, total, probes, deadline)
    while remaining(db) and time.monotonic() < deadline:
        time.sleep(0.5)
    stop.set()
    for worker in workers:
        worker.join(timeout=30)
    return started, replies


def outbox_state(db: Engine) -> tuple[dict[str, int], int, set[int]]:
    """Items by status; conversation records that got their SID; the bulk's numbers still
    waiting (not drained within the time allowed: not lost)."""
    table = Outbox.__table__
    with db.connect() as connection:
        statuses = dict(connection.execute(select(table.c.status, func.count())
                                           .group_by(table.c.status)).all())
        records = connection.execute(select(func.count()).select_from(Message.__table__).where(
            Message.__table__.c.direction == "out",
            Message.__table__.c.sid.is_not(None))).scalar_one()
        waiting = {int(body.removeprefix("bench ")) for (body,) in connection.execute(
            select(table.c.body).where(table.c.status.in_((Status.QUEUED, Status.SENDING)),
                                       table.c.body.startswith("bench ")))
            if not body.startswith("bench reply")}
    return statuses, records, waiting


def tally(db: Engine, received: list[dict], replies: list[dict], total: int,
          started: float) -> dict:
    """What reached the fake, by the bench's number of each message; what the outbox says."""
    counts: Counter[int] = Counter()
    at = {}
    for message in received:
        mark = message["body"] or message["content_variables"]["1"].removeprefix("B")
        if mark.startswith("bench reply"):
            at[mark] = message["at"]
            continue
        counts[int(mark.removeprefix("bench "))] += 1
    statuses, records, waiting = outbox_state(db)
    bulk_at = sorted(m["at"] for m in received if m["body"] is None
                     or not m["body"].startswith("bench reply"))
    waits = [at[r["body"]] - r["queued_at"] for r in replies if r["body"] in at]
    return {
        "messages": total, "sent_at_fake": sum(counts.values()),
        "as_template": sum(1 for m in received if m["content_sid"]),
        "lost": sum(1 for n in range(total) if counts[n] == 0 and n not in waiting),
        "still_queued_at_the_time_limit": len(waiting),
        "sent_twice": sum(1 for n in counts if counts[n] > 1),
        "drain_seconds": round(bulk_at[-1] - started, 1) if bulk_at else None,
        "messages_per_second": round(len(bulk_at) / (bulk_at[-1] - started), 1)
        if bulk_at else None,
        "outbox_statuses": statuses,
        "conversation_records_with_their_sid": records,
        "reply_waits_s": [round(w, 3) for w in waits],
        "reply_wait_median_s": round(statistics.median(waits), 3) if waits else None,
        "reply_wait_max_s": round(max(waits), 3) if waits else None,
        "replies_queued_behind": [r["bulk_left"] for r in replies],
        "replies_lost": len(replies) - len(waits),
    }


def write_report(result: dict) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "outbox.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    rows = "\n".join(f"| {key} | {value} |" for key, value in result.items()
                     if key not in ("setup", "reply_waits_s"))
    setup = result["setup"]
    (RESULTS / "outbox.md").write_text(f"""# Outbox drain

{setup['messages']:,} messages queued at once for {setup['people']:,} people (kinds: \
{setup['kinds']}; 70% WhatsApp, 30% SMS; WhatsApp windows open for about 60% of people, \
the rest sent as approved templates), drained by two worker processes (the worker's sending \
round: claims with FOR UPDATE SKIP LOCKED, one sending-slot row per sender number) through a \
local fake Twilio in a process of its own, at a rate limit of {setup['rate_per_sender']:g} \
messages a second per sender number. {setup['probes']} replies queued one at a time while the \
bulk drained. PostgreSQL, {setup['machine']}; load average (1 min) before and after the \
run: {setup['load_average_before_after']} (the machine is shared with other work). \
`python -m bench.outbox_drain`.

| measure | value |
|---|---|
{rows}

- messages_per_second: bulk messages at the fake / seconds from the workers' start to the \
last one; the two workers share {setup['cores']} cores with PostgreSQL and the fake Twilio.
- lost: queued, never received by the fake. sent_twice: received more than once (counted by \
each message's own number in its body or template variable).
- the rate limit was set high so that the drain measures the outbox; at a real sender's rate \
(a WhatsApp sender starts at 80 a second) the drain takes as long as the rate says, and claims \
shrink to half a second of that rate, so a reply still waits about one round.
- reply waits: from the reply's commit to its arrival at the fake, with replies_queued_behind \
messages of the bulk still queued; every wait, in seconds: {result['reply_waits_s']}.
""")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=2000.0, help="per sender number")
    parser.add_argument("--probes", type=int, default=10)
    parser.add_argument("--limit-seconds", type=float, default=420.0,
                        help="stop draining after this (what is left is reported, not lost)")
    args = parser.parse_args()
    fake, twilio_url = start_fake()
    schema, url = fresh_schema(args.database)
    try:
        upgrade(url)
        db = get_engine(url)
        began, load_before = time.monotonic(), os.getloadavg()[0]
        kinds = queue_bulk(db, args.messages, args.people)
        print(f"queued {args.messages} in {time.monotonic() - began:.1f} s; draining")
        started, replies = drain(db, url, twilio_url, args.rate, args.messages, args.probes,
                                 args.limit_seconds)
        received = httpx.get(f"{twilio_url}/_fake/messages", timeout=120).json()["messages"]
        result = {"setup": {"messages": args.messages, "people": args.people, "kinds": kinds,
                            "rate_per_sender": args.rate, "probes": args.probes,
                            "cores": os.cpu_count(), "machine": platform.platform(),
                            "load_average_before_after": (round(load_before, 1),
                                                          round(os.getloadavg()[0], 1))},
                  **tally(db, received, replies, args.messages, started)}
        db.dispose()
    finally:
        fake.terminate()
        with get_engine(args.database).connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            connection.commit()
    write_report(result)
    print(json.dumps({k: v for k, v in result.items() if k != "reply_waits_s"}, indent=2,
                     default=str))


if __name__ == "__main__":
    main()
