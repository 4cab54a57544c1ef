"""`make bench`, part two: a rush hour. 200 signed messages a second for 20 s at one instance,
then at two instances on one PostgreSQL database, with the real Rasa server; answering in the
web process's threads, and in answering processes of their own (ANSWER_PROCESSES).

What must hold (hardening issue, item 20): every delivery acknowledged within 2 s (p99, Twilio
gives up at 15 s), every answer sent within 60 s (in the TwiML, or through the outbox to a local
stand-in for Twilio), nothing lost, nothing answered twice. Writes bench/results/overload.*.
"""

import argparse
import json
import os
import subprocess
import uuid
from pathlib import Path

import yaml
from sqlalchemy import text

from bench import fake_twilio
from bench.load import ACCOUNT_SID, nlu_sources, run_load
from bench.procs import cpu_seconds, own_cpu_seconds, wait_idle
from bench.run import start_serve
from bot.conversation.nlu_server import start_rasa, stop, wait_until_ready
from bot.db import get_engine
from bot.settings import PROJECT_ROOT

RESULTS = PROJECT_ROOT / "bench" / "results"
TOKEN = "bench-auth-token"
RASA_PORT, FIRST_APP_PORT = 5916, 8921
# What the README's production section recommends for a 2-core machine.
ANSWER_PROCESSES = 2


def start_instance(port: int, database_url: str, twilio_url: str, workers: int,
                   answer_processes: int) -> subprocess.Popen:
    return start_serve(port, {"ANSWER_PROCESSES": str(answer_processes),
        "DATABASE_URL": database_url, "RASA_URL": f"http://127.0.0.1:{RASA_PORT}",
        "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_SMS_FROM": "+14155550100", "TWILIO_WHATSAPP_FROM": "whatsapp:+14155550100",
        "TWILIO_API_BASE_URL": twilio_url, "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        # The outbox paces each sender number (bot/messaging/rate.py); this bench measures
        # the app, not a sender's Twilio rate, so the stand-in's number is a fast one.
        "TWILIO_MESSAGES_PER_SECOND": "1000"},
        workers=workers)


def fresh_postgres(base_url: str) -> str:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with get_engine(base_url).connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        connection.commit()
    separator = "&" if "?" in base_url else "?"
    return f"{base_url}{separator}options=-csearch_path%3D{schema}"


def rush(name: str, database_url: str, instances: int, workers: int, answer_processes: int,
         texts: list[str], twilio: fake_twilio.StandIn, rate: float, seconds: float,
         rasa_pid: int) -> dict:
    ports = [FIRST_APP_PORT + i for i in range(instances)]
    apps = []
    try:
        for port in ports:  # one after the other: each migrates (a no-op after the first)
            apps.append(start_instance(port, database_url, twilio.url, workers,
                                       answer_processes))
        urls = [f"http://127.0.0.1:{port}/webhooks/twilio" for port in ports]
        wait_idle(rasa_pid)
        before = _cpu(apps, rasa_pid, twilio.pid)
        result = run_load(urls, TOKEN, database_url, texts, rate=rate, seconds=seconds,
                          drain_seconds=90)
        result["cpu_seconds"] = {part: round(spent - before[part], 1)
                                 for part, spent in _cpu(apps, rasa_pid, twilio.pid).items()}
    finally:
        for app in apps:
            stop(app)
    result["setup"] = name
    result["understood_by"] = nlu_sources(database_url)  # "fallback": Rasa too slow, keywords
    result["targets"] = {
        "ack_p99_le_2s": result["load_webhook_p99_ms"] <= 2000,
        "every_reply_within_60s": result["unanswered"] == 0
        and (result["reply_delay_max_s"] or 0) <= 60,
        "nothing_lost_or_duplicated": result["lost"] == 0 and result["duplicated"] == 0}
    return result


def _cpu(apps: list[subprocess.Popen], rasa_pid: int, twilio_pid: int) -> dict[str, float]:
    """CPU spent so far: the web processes (each instance's first process, which also sends
    the outbox), what runs below them (answering processes, uvicorn's workers), Rasa, this
    process (the load generator) and the stand-in for Twilio."""
    web = sum(cpu_seconds(app.pid, below=False) for app in apps)
    return {"web": web, "below_web": sum(cpu_seconds(app.pid) for app in apps) - web,
            "rasa": cpu_seconds(rasa_pid), "generator": own_cpu_seconds(),
            "twilio_stand_in": cpu_seconds(twilio_pid)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--only", help="run only the setups whose name contains this")
    parser.add_argument("--answer-processes", type=int, default=ANSWER_PROCESSES)
    parser.add_argument("--postgres", default=os.environ.get(
        "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    tests = yaml.safe_load((PROJECT_ROOT / "nlu_data" / "tests" / "messages.yml").read_text())
    texts = [case["text"] for case in tests]
    twilio = fake_twilio.StandIn()
    rasa = start_rasa(RASA_PORT)
    results = []
    try:
        wait_until_ready(f"http://127.0.0.1:{RASA_PORT}", rasa)
        tmp = Path("/tmp") / f"rahnuma-bench-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        # (name, database, instances, web processes per instance, answering processes per
        # instance: 0 = answers in the web process's threads)
        processes = args.answer_processes
        setups = [("sqlite, 1 instance, answering in threads", f"sqlite:///{tmp}/t.db", 1, 1, 0),
                  (f"sqlite, 1 instance, {processes} answering processes",
                   f"sqlite:///{tmp}/p.db", 1, 1, processes)]
        if _reachable(args.postgres):
            setups += [("postgresql, 1 instance, answering in threads",
                        fresh_postgres(args.postgres), 1, 1, 0),
                       (f"postgresql, 1 instance, {processes} answering processes",
                        fresh_postgres(args.postgres), 1, 1, processes),
                       (f"postgresql, 2 instances, {processes} answering processes each",
                        fresh_postgres(args.postgres), 2, 1, processes)]
        for name, url, instances, workers, answerers in setups:
            if args.only and args.only not in name:
                continue
            print(f"rush hour: {name} at {args.rate:g}/s for {args.seconds:g} s", flush=True)
            results.append(rush(name, url, instances, workers, answerers, texts, twilio,
                                args.rate, args.seconds, rasa.pid))
    finally:
        stop(rasa)
        twilio.shutdown()
    write(results, args.rate, args.seconds)


def _reachable(url: str) -> bool:
    try:
        with get_engine(url).connect():
            return True
    except Exception:  # no PostgreSQL here: the SQLite figures alone
        return False


def write(results: list[dict], rate: float, seconds: float) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "overload.json").write_text(json.dumps(results, indent=2) + "\n")
    keys = ["load_achieved_rate_per_s", "load_webhook_p50_ms", "load_webhook_p99_ms",
            "load_webhook_max_ms", "load_http_statuses", "answered", "answered_late_via_outbox",
            "unanswered", "lost", "never_acknowledged", "duplicated", "reply_delay_p50_s",
            "reply_delay_p99_s", "reply_delay_max_s", "answer_rate_per_s", "understood_by",
            "cpu_seconds", "targets"]
    lines = ["# Rush hour", "", f"{rate:g} signed messages a second for {seconds:g} s (10% "
             "delivered twice, as Twilio retries), real Rasa, a local stand-in for Twilio's "
             "REST API for answers sent through the outbox; 2 cores for everything.", "",
             "cpu_seconds: CPU spent from the rush's start until its last answer left, by the "
             "web process, by the processes below it (answering, the worker), by Rasa, by the "
             "load generator and by the stand-in for Twilio (PostgreSQL's own is not counted).",
             "",
             "| measure | " + " | ".join(r["setup"] for r in results) + " |",
             "|---|" + "---|" * len(results)]
    lines += [f"| {key} | " + " | ".join(str(r.get(key)) for r in results) + " |"
              for key in keys]
    (RESULTS / "overload.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
