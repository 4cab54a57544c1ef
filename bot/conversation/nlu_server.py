"""Starting and stopping the local Rasa server (for `rahnuma serve` and the test suite)."""

import logging
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bot.settings import PROJECT_ROOT, Settings

log = logging.getLogger(__name__)

RASA_BIN = PROJECT_ROOT / ".venv-nlu" / "bin" / "rasa"
MODELS_DIR = PROJECT_ROOT / "nlu_data" / "models"
STARTUP_SECONDS = 180
# Rasa yields the CPU to the app on a shared machine: in a rush the app must keep storing and
# acknowledging deliveries (Twilio gives up after 15 s); answers can wait a little. Measured at
# 200 messages/s on 2 cores: acknowledgement p50/p99 3.8/6.0 s → 2.0/2.9 s (overload.md).
RASA_NICENESS = 10


def is_answering(url: str) -> bool:
    try:
        return httpx.get(f"{url}/status", timeout=2.0).status_code < 500
    except httpx.HTTPError:
        return False


def start_rasa(port: int, *, model: Path = MODELS_DIR, token: str | None = None,
               log_file: Path | None = None) -> subprocess.Popen:
    """Start `rasa run --enable-api` on 127.0.0.1:port (never on a public interface)."""
    if not RASA_BIN.exists():
        raise RuntimeError(f"{RASA_BIN} is missing: run `make setup` first")
    command = [str(RASA_BIN), "run", "--enable-api", "--model", str(model),
               "--interface", "127.0.0.1", "--port", str(port)]
    if token:
        command += ["--auth-token", token]
    env = os.environ | {"RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2",
                        "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}
    output = open(log_file, "ab") if log_file else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(command, cwd=PROJECT_ROOT / "nlu_data", env=env, stdout=output,
                               stderr=subprocess.STDOUT)
    # Set from here rather than in a preexec_fn (unsafe in a process with threads); Rasa's
    # threads, all started later, inherit it.
    os.setpriority(os.PRIO_PROCESS, process.pid, RASA_NICENESS)
    return process


def wait_until_ready(url: str, process: subprocess.Popen, timeout: float = STARTUP_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Rasa exited with code {process.returncode} while starting")
        try:
            status = httpx.get(f"{url}/status", timeout=2.0)
            if status.status_code == 200 and status.json().get("model_file"):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"Rasa did not become ready within {timeout:.0f}s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def local_nlu_server(settings: Settings) -> Iterator[None]:
    """Runs Rasa for the duration when RASA_URL is local and nothing answers there yet."""
    if not settings.rasa_is_local or is_answering(settings.rasa_url):
        yield
        return
    token = settings.rasa_token.get_secret_value() if settings.rasa_token else None
    log_file = PROJECT_ROOT / "var" / "rasa.log"
    log_file.parent.mkdir(exist_ok=True)
    print(f"Starting the Rasa server on port {settings.rasa_port} (log: {log_file}) ...")
    process = start_rasa(settings.rasa_port, token=token, log_file=log_file)
    try:
        wait_until_ready(settings.rasa_url, process)
        print("Rasa is ready.")
        yield
    finally:
        stop(process)
