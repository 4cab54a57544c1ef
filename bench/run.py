"""`make bench`: the signed webhook with the real Rasa server, measured on loopback.

Starts Rasa and `rahnuma serve` as separate processes (as in production), sends signed
WhatsApp/SMS messages from the held-out test set, and measures the webhook latency, the bare
Rasa parse latency on the same texts, the peak memory of both processes, and licence lookups
in a registry of 10,000 licences. Writes bench/results/latest.json and latest.md.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
import yaml
from twilio.request_validator import RequestValidator

from bench import licence_lookup
from bench.load import new_sid, run_load
from bot.conversation.language import normalize
from bot.conversation.nlu_server import start_rasa, stop, wait_until_ready
from bot.settings import PROJECT_ROOT

RESULTS = PROJECT_ROOT / "bench" / "results"
TOKEN = "bench-auth-token"
RASA_PORT, APP_PORT = 5915, 8915


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the process's peak resident memory so far."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def start_serve(port: int, env: dict[str, str], *, workers: int = 1) -> subprocess.Popen:
    """`rahnuma serve` as production runs it, once its /healthz answers."""
    process = subprocess.Popen([str(PROJECT_ROOT / ".venv" / "bin" / "rahnuma"), "serve",
                                "--port", str(port), "--workers", str(workers)],
                               env=os.environ | env, cwd=PROJECT_ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"app on port {port} did not start")


def start_app(database_url: str) -> subprocess.Popen:
    return start_serve(APP_PORT, {"DATABASE_URL": database_url,
                                  "RASA_URL": f"http://127.0.0.1:{RASA_PORT}",
                                  "TWILIO_AUTH_TOKEN": TOKEN,
                                  "PUBLIC_BASE_URL": f"http://127.0.0.1:{APP_PORT}"})


def signed_request(text: str, index: int) -> tuple[bytes, dict[str, str]]:
    sender = f"whatsapp:+9230000{index % 50:05d}" if index % 2 else f"+9231000{index % 50:05d}"
    form = {"From": sender, "To": "+14155550100", "Body": text, "NumMedia": "0",
            "MessageSid": new_sid()}
    url = f"http://127.0.0.1:{APP_PORT}/webhooks/twilio"
    signature = RequestValidator(TOKEN).compute_signature(url, form)
    return urlencode(form).encode(), {"X-Twilio-Signature": signature,
                                      "Content-Type": "application/x-www-form-urlencoded"}


def measure(texts: list[str]) -> dict:
    webhook, parse = [], []
    with httpx.Client(timeout=30) as client:
        for text in texts[:20]:  # warm both processes up
            client.post(f"http://127.0.0.1:{RASA_PORT}/model/parse", json={"text": text})
        for index, text in enumerate(texts):
            started = time.perf_counter()
            client.post(f"http://127.0.0.1:{RASA_PORT}/model/parse",
                        json={"text": normalize(text)}).raise_for_status()
            parse.append((time.perf_counter() - started) * 1000)
            body, headers = signed_request(text, index)
            started = time.perf_counter()
            response = client.post(f"http://127.0.0.1:{APP_PORT}/webhooks/twilio",
                                   content=body, headers=headers)
            webhook.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"webhook answered {response.status_code}: {response.text}")
    return {"webhook_ms": webhook, "parse_ms": parse}


def summary(name: str, values: list[float]) -> dict[str, float]:
    return {f"{name}_p50_ms": round(statistics.median(values), 1),
            f"{name}_p95_ms": round(percentile(values, 0.95), 1),
            f"{name}_max_ms": round(max(values), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--rate", type=float, default=50, help="messages a second under load")
    parser.add_argument("--seconds", type=float, default=20, help="length of the load phase")
    args = parser.parse_args()
    database_url = os.environ.get("BENCH_DATABASE_URL")
    tests = yaml.safe_load((PROJECT_ROOT / "nlu_data" / "tests" / "messages.yml").read_text())
    texts = [tests[i % len(tests)]["text"] for i in range(args.messages)]
    with tempfile.TemporaryDirectory() as tmp:
        rasa = start_rasa(RASA_PORT)
        app = None
        try:
            wait_until_ready(f"http://127.0.0.1:{RASA_PORT}", rasa)
            database_url = database_url or f"sqlite:///{tmp}/bench.db"
            app = start_app(database_url)
            timings = measure(texts)
            load = run_load(f"http://127.0.0.1:{APP_PORT}/webhooks/twilio", TOKEN,
                            database_url, texts, rate=args.rate, seconds=args.seconds)
            memory = {"app_peak_rss_mb": round(peak_rss_mb(app.pid), 1),
                      "rasa_peak_rss_mb": round(peak_rss_mb(rasa.pid), 1)}
        finally:
            if app:
                stop(app)
            stop(rasa)
        lookups = licence_lookup.measure(f"sqlite:///{tmp}/licences.db")
    parse_p50 = statistics.median(timings["parse_ms"])
    result = {"messages": args.messages,
              "database": database_url.split(":")[0] if database_url else "sqlite",
              "machine": f"{platform.machine()}, {os.cpu_count()} cores",
              **summary("webhook", timings["webhook_ms"]),
              **summary("rasa_parse", timings["parse_ms"]), **load, **memory, **lookups}
    result["targets"] = {
        "load_webhook_p95_le_150ms": load["load_webhook_p95_ms"] <= 150,
        "webhook_p50_le_2x_parse_p50_plus_20ms":
            result["webhook_p50_ms"] <= 2 * parse_p50 + 20,
        "nothing_lost_or_duplicated": load["lost"] == 0 and load["duplicated"] == 0,
        "app_memory_le_200mb": memory["app_peak_rss_mb"] <= 200,
        "licence_lookup_p95_le_20ms": max(lookups["lookup_number_p95_ms"],
                                          lookups["lookup_name_p95_ms"]) <= 20}
    RESULTS.mkdir(parents=True, exist_ok=True)
    for name in ("latest", result["database"]):  # the last run, and the last per database
        (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = ["# Benchmark", "", f"{args.messages} signed messages one at a time, then "
             f"{args.rate:g}/s for {args.seconds:g} s with 10% retried deliveries; real Rasa "
             f"server, {result['database']}, loopback, app and Rasa in separate processes.", "",
             "| measure | value |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in result.items()]
    for name in ("latest", result["database"]):
        (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
