"""A steady stream of signed webhook deliveries, with some retried, and the bookkeeping after."""

import asyncio
import random
import statistics
import time
import uuid
from urllib.parse import urlencode

import httpx
from sqlalchemy import text
from twilio.request_validator import RequestValidator

from bot.db import get_engine


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def signed(url: str, token: str, body: str, sid: str, index: int) -> tuple[bytes, dict]:
    sender = f"whatsapp:+9232{index % 400:08d}" if index % 3 else f"+9233{index % 400:08d}"
    form = {"From": sender, "To": "+14155550100", "Body": body, "NumMedia": "0",
            "MessageSid": sid}
    signature = RequestValidator(token).compute_signature(url, form)
    return urlencode(form).encode(), {"X-Twilio-Signature": signature,
                                      "Content-Type": "application/x-www-form-urlencoded"}


async def _run(url: str, token: str, texts: list[str], rate: float, seconds: float,
               retry_share: float) -> dict:
    rng = random.Random(7)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    sids: list[str] = []
    tasks = []
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        async def deliver(payload: bytes, headers: dict) -> None:
            started = time.perf_counter()
            response = await client.post(url, content=payload, headers=headers)
            latencies.append((time.perf_counter() - started) * 1000)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        start = time.perf_counter()
        count = int(rate * seconds)
        for index in range(count):
            await asyncio.sleep(max(0.0, start + index / rate - time.perf_counter()))
            sid = f"SMload{uuid.uuid4().hex}"
            sids.append(sid)
            payload, headers = signed(url, token, texts[index % len(texts)], sid, index)
            tasks.append(asyncio.create_task(deliver(payload, headers)))
            if rng.random() < retry_share:  # Twilio retrying the same delivery
                tasks.append(asyncio.create_task(deliver(payload, headers)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    return {"sids": sids, "latencies": latencies, "statuses": statuses, "elapsed": elapsed,
            "deliveries": len(tasks)}


def run_load(url: str, token: str, database_url: str, texts: list[str], *, rate: float = 50,
             seconds: float = 20, retry_share: float = 0.1) -> dict:
    result = asyncio.run(_run(url, token, texts, rate, seconds, retry_share))
    sids = result["sids"]
    with get_engine(database_url).connect() as connection:
        stored = connection.execute(text(
            "SELECT sid FROM message WHERE direction = 'in' AND sid LIKE 'SMload%'")).scalars()
        stored = list(stored)
        replies = connection.execute(text(
            "SELECT m.sid, count(r.id) FROM message m LEFT JOIN message r ON r.reply_to_id = m.id "
            "WHERE m.direction = 'in' AND m.sid LIKE 'SMload%' GROUP BY m.sid")).all()
    lost = len(set(sids) - set(stored))
    duplicated = (len(stored) - len(set(stored))) + sum(1 for _, n in replies if n > 1)
    latencies = result["latencies"]
    return {"load_rate_per_s": rate, "load_seconds": seconds,
            "load_messages": len(sids), "load_deliveries_with_retries": result["deliveries"],
            "load_achieved_rate_per_s": round(len(sids) / result["elapsed"], 1),
            "load_webhook_p50_ms": round(statistics.median(latencies), 1),
            "load_webhook_p95_ms": round(percentile(latencies, 0.95), 1),
            "load_webhook_max_ms": round(max(latencies), 1),
            "load_http_statuses": result["statuses"], "lost": lost, "duplicated": duplicated}
