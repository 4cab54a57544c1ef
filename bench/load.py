"""A steady stream of signed webhook deliveries, with some retried, and the bookkeeping after:
what was stored, answered (in the TwiML or later through the outbox), lost or answered twice."""

import asyncio
import random
import statistics
import time
import uuid
from urllib.parse import urlencode, urlsplit

from sqlalchemy import text
from twilio.request_validator import RequestValidator

from bot.db import get_engine


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


ACCOUNT_SID = "AC" + "b" * 32  # the account the bench's app instances are configured with


def new_sid() -> str:
    return f"SM{uuid.uuid4().hex}"  # Twilio's shape: the webhook refuses any other


def signed(url: str, token: str, body: str, sid: str, index: int,
           senders: int = 400, sms: bool = True) -> tuple[bytes, dict]:
    """One signed delivery; every third sender writes by SMS unless `sms` is False."""
    sender = f"whatsapp:+9232{index % senders:08d}" if index % 3 or not sms else \
        f"+9233{index % senders:08d}"
    form = {"From": sender, "To": "+14155550100", "Body": body, "NumMedia": "0",
            "MessageSid": sid, "AccountSid": ACCOUNT_SID}
    signature = RequestValidator(token).compute_signature(url, form)
    return urlencode(form).encode(), {"X-Twilio-Signature": signature,
                                      "Content-Type": "application/x-www-form-urlencoded"}


async def post(url: str, payload: bytes, headers: dict) -> int:
    """One HTTP/1.1 POST on a connection of its own; the response's status. Written on
    asyncio's streams: httpx with a thousand open connections cost the generator ~11 ms of CPU
    a delivery, took the machine's CPU from the app it measures, and offered only a third of
    the intended rate."""
    address = urlsplit(url)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    try:
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        writer.write(f"POST {address.path} HTTP/1.1\r\nHost: {address.netloc}\r\n{head}"
                     f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
                     .encode() + payload)
        status_line = await reader.readline()
        await reader.read()  # the rest, until the app closes the connection
        return int(status_line.split()[1])
    finally:
        writer.close()


async def _run(urls: list[str], token: str, texts: list[str], rate: float, seconds: float,
               retry_share: float, senders: dict) -> dict:
    rng = random.Random(7)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    sids: list[str] = []
    acknowledged: set[str] = set()  # answered 200 at least once: Twilio considers it delivered
    tasks = []

    async def deliver(url: str, payload: bytes, headers: dict, sid: str) -> None:
        started = time.perf_counter()
        try:
            status = await asyncio.wait_for(post(url, payload, headers), 30)
        except (OSError, TimeoutError, ValueError):
            status = 0  # a failed delivery: Twilio would try it again
        latencies.append((time.perf_counter() - started) * 1000)
        statuses[status] = statuses.get(status, 0) + 1
        if status == 200:
            acknowledged.add(sid)

    start = time.perf_counter()
    count = int(rate * seconds)
    for index in range(count):
        await asyncio.sleep(max(0.0, start + index / rate - time.perf_counter()))
        sid = new_sid()
        sids.append(sid)
        url = urls[index % len(urls)]  # a load balancer in front of the instances
        payload, headers = signed(url, token, texts[index % len(texts)], sid, index,
                                  **senders)
        tasks.append(asyncio.create_task(deliver(url, payload, headers, sid)))
        if rng.random() < retry_share:  # Twilio retrying the same delivery
            tasks.append(asyncio.create_task(deliver(urls[(index + 1) % len(urls)],
                                                     *_resigned(urls, index, token, texts,
                                                                sid, senders), sid)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    return {"sids": sids, "acknowledged": acknowledged, "latencies": latencies,
            "statuses": statuses, "elapsed": elapsed, "deliveries": len(tasks)}


def _resigned(urls: list[str], index: int, token: str, texts: list[str],
              sid: str, senders: dict) -> tuple[bytes, dict]:
    """The retry may reach the other instance: signed for its URL, same MessageSid."""
    url = urls[(index + 1) % len(urls)]
    return signed(url, token, texts[index % len(texts)], sid, index, **senders)


def run_load(urls: str | list[str], token: str, database_url: str, texts: list[str], *,
             rate: float = 50, seconds: float = 20, retry_share: float = 0.1,
             drain_seconds: float = 0.0, senders: int = 400, sms: bool = True) -> dict:
    """Offer `rate` messages a second for `seconds`; then wait up to `drain_seconds` for late
    answers to leave through the outbox, and count what happened to every message."""
    urls = [urls] if isinstance(urls, str) else urls
    result = asyncio.run(_run(urls, token, texts, rate, seconds, retry_share,
                              {"senders": senders, "sms": sms}))
    outcome = settle(database_url, result["acknowledged"], drain_seconds)
    outcome["never_acknowledged"] = len(set(result["sids"]) - result["acknowledged"])
    latencies = result["latencies"]
    return {"load_rate_per_s": rate, "load_seconds": seconds, "load_instances": len(urls),
            "load_messages": len(result["sids"]),
            "load_deliveries_with_retries": result["deliveries"],
            "load_achieved_rate_per_s": round(len(result["sids"]) / result["elapsed"], 1),
            "load_webhook_p50_ms": round(statistics.median(latencies), 1),
            "load_webhook_p95_ms": round(percentile(latencies, 0.95), 1),
            "load_webhook_p99_ms": round(percentile(latencies, 0.99), 1),
            "load_webhook_max_ms": round(max(latencies), 1),
            "load_http_statuses": result["statuses"],
            **outcome, "answer_rate_per_s": round(
                outcome["answered"] / max(outcome["last_answer_s"], result["elapsed"]), 1)}


def settle(database_url: str, sids: set[str], drain_seconds: float) -> dict:
    deadline = time.monotonic() + drain_seconds
    while True:
        rows = _answers(database_url, sids)
        waiting = sum(1 for row in rows.values() if row["queued"] or not row["handled"])
        if not waiting or time.monotonic() >= deadline:
            break
        time.sleep(1)
    first = min((row["received"] for row in rows.values()), default=0.0)
    delays = [row["answered"] - row["received"] for row in rows.values()
              if row["answered"] is not None]
    late = sum(1 for row in rows.values() if row["via_outbox"])
    # Lost: acknowledged (Twilio would not retry) yet not stored.
    return {"lost": len(sids - set(rows)),
            "duplicated": sum(1 for row in rows.values() if row["copies"] > 1 or row["twice"]),
            "answered": len(delays), "unanswered": len(rows) - len(delays),
            "answered_late_via_outbox": late,
            "reply_delay_p50_s": round(statistics.median(delays), 2) if delays else None,
            "reply_delay_p99_s": round(percentile(delays, 0.99), 2) if delays else None,
            "reply_delay_max_s": round(max(delays), 2) if delays else None,
            "last_answer_s": round(max((row["answered"] or 0) - first
                                       for row in rows.values()), 1) if rows else 0.0}


def _answers(database_url: str, sids: set[str]) -> dict[str, dict]:
    """Per stored inbound message: when it came, when its answer left (TwiML: when it was
    stored; outbox: when Twilio accepted it), and whether it was answered more than once."""
    query = text(
        "SELECT m.sid, m.created_at, m.handled_at, r.id, r.body, r.created_at, o.status, "
        "o.sent_at FROM message m LEFT JOIN message r ON r.reply_to_id = m.id "
        "LEFT JOIN outbox o ON o.message_id = r.id WHERE m.direction = 'in'")
    rows: dict[str, dict] = {}
    with get_engine(database_url).connect() as connection:
        for sid, received, handled, reply_id, body, stored, status, sent in \
                connection.execute(query):
            if sid not in sids:
                continue
            row = rows.setdefault(sid, {"received": _seconds(received), "handled": handled,
                                        "answered": None, "queued": False, "via_outbox": False,
                                        "copies": 0, "twice": False, "bodies": set(),
                                        "ids": set()})
            if reply_id is None:
                continue
            if reply_id not in row["ids"]:
                row["ids"].add(reply_id)
                row["twice"] |= body in row["bodies"]
                row["bodies"].add(body)
            if status is not None:
                row["via_outbox"] = True
                row["queued"] |= status in ("queued", "sending")
                left = _seconds(sent) if sent is not None else None
            else:
                left = _seconds(stored)
            if left is not None:
                row["answered"] = max(row["answered"] or 0.0, left)
        counts = connection.execute(text(
            "SELECT sid, count(*) FROM message WHERE direction = 'in' GROUP BY sid "
            "HAVING count(*) > 1")).all()
    for sid, count in counts:
        if sid in rows:
            rows[sid]["copies"] = count
    return rows


def _seconds(moment) -> float:  # noqa: ANN001 (a datetime, or SQLite's text)
    from datetime import UTC, datetime

    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def nlu_sources(database_url: str) -> dict[str, int]:
    """How the stored messages were understood: a phase answered by the keyword fallback
    (Rasa too busy to answer in time) would not be measuring Rasa. "not asked": digits,
    commands, danger signs and steps that need no NLU."""
    with get_engine(database_url).connect() as connection:
        return {source or "not asked": count for source, count in connection.execute(text(
            "SELECT nlu, count(*) FROM message WHERE direction = 'in' GROUP BY nlu"))}
