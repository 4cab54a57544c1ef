"""`rahnuma serve` with answering processes (ANSWER_PROCESSES): the real command, the real
Rasa, a signed message answered in the TwiML, and /metrics counting what another process did."""

import os
import subprocess
import time
import xml.etree.ElementTree as ET

import httpx
import pytest

from bot.settings import PROJECT_ROOT
from tests.e2e.conftest import free_port
from tests.factories import AUTH_TOKEN, BASE_URL, signed, twilio_form

pytestmark = pytest.mark.rasa


@pytest.fixture
def served(rasa, database_url):
    port = free_port()
    env = os.environ | {"DATABASE_URL": database_url, "RASA_URL": rasa.url,
                        "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "PUBLIC_BASE_URL": BASE_URL,
                        "ANSWER_PROCESSES": "1", "METRICS_TOKEN": "scrape-me"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    process = subprocess.Popen([str(PROJECT_ROOT / ".venv" / "bin" / "rahnuma"), "serve",
                                "--port", str(port), "--workers", "1"], env=env,
                               cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"serve did not start: {process.communicate()[1][-2000:]}")
        time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=30)


def test_e2e_serve_answers_in_an_answering_process_and_counts_it(served):
    payload, headers = signed(twilio_form("agent kitni fees le sakta hai",
                                          sender="whatsapp:+923001239901"))
    response = httpx.post(f"{served}/webhooks/twilio", content=payload, headers=headers,
                          timeout=30)
    replies = [m.text or "" for m in ET.fromstring(response.text).iter("Message")]
    assert response.status_code == 200 and any("15,000" in reply for reply in replies)
    metrics = httpx.get(f"{served}/metrics", timeout=10,
                        headers={"Authorization": "Bearer scrape-me"}).text
    counted = [line for line in metrics.splitlines()
               if line.startswith("rahnuma_messages_total{") and 'intent="ask_fees"' in line]
    assert counted and float(counted[0].rsplit(" ", 1)[1]) == 1.0
    assert 'rahnuma_nlu_results_total{source="rasa"} 1.0' in metrics
