"""`rahnuma serve` with answering processes (ANSWER_PROCESSES): the real command, the real
Rasa, a signed message answered in the TwiML, and /metrics counting what another process did."""

import os
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

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
    yield url, process
    process.terminate()
    process.wait(timeout=30)


def test_e2e_serve_answers_in_an_answering_process_and_counts_it(served):
    served, _process = served
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


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            if ppid == pid:
                found.append(int(entry.name))
    return found


def test_e2e_background_processes_end_with_a_killed_serve(served):
    """kill -9 of the app: its answering and worker processes must not live on, holding
    memory and database connections."""
    _url, process = served
    background = children_of(process.pid)
    assert len(background) >= 2  # the answering process and the worker, at least
    process.kill()
    process.wait(timeout=10)
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() and not _zombie(pid) for pid in background):
        assert time.monotonic() < deadline, "background processes outlived the app"
        time.sleep(0.2)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_e2e_serve_stopped_by_sigterm_cleans_up_after_itself(served):
    """docker stop sends SIGTERM: serve must still stop what it started (its worker process,
    the local Rasa, its metrics directory) instead of dying at uvicorn's re-raised signal."""
    _url, process = served
    child = children_of(process.pid)[0]
    environment = Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
    [directory] = [Path(entry.split(b"=", 1)[1].decode()) for entry in environment
                   if entry.startswith(b"PROMETHEUS_MULTIPROC_DIR=")]
    assert directory.is_dir()
    process.terminate()
    assert process.wait(timeout=30) == 128 + 15
    assert not directory.exists()  # the cleanup after uvicorn ran
