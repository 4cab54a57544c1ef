"""The real Rasa server with the trained model, and the real app served by uvicorn."""

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from api.main import create_app
from bot.conversation.nlu_server import MODELS_DIR, start_rasa, stop, wait_until_ready
from bot.settings import PROJECT_ROOT, Settings
from tests.fakes.twilio_server import FakeTwilio


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def trained_model_exists() -> bool:
    return any(MODELS_DIR.glob("*.tar.gz"))


class RasaServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log = PROJECT_ROOT / "var" / f"rasa-test-{self.port}.log"
        log.parent.mkdir(exist_ok=True)
        self.process = start_rasa(self.port, log_file=log)
        wait_until_ready(self.url, self.process)

    def stop(self) -> None:
        stop(self.process)


@pytest.fixture(scope="session")
def rasa() -> Iterator[RasaServer]:
    if not trained_model_exists():
        pytest.fail("no trained model in nlu_data/models: run `make setup` (make test does)")
    server = RasaServer()
    yield server
    server.stop()


class AppServer:
    """uvicorn in a thread, on a free port: requests cross a real socket."""

    def __init__(self, settings: Settings) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("app did not start")
            time.sleep(0.05)

    def post(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        return httpx.post(f"{self.url}/webhooks/twilio", content=body, headers=headers,
                          timeout=30)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def e2e_settings(database_url: str, rasa_url: str) -> Settings:
    return Settings(database_url=database_url, rasa_url=rasa_url,
                    twilio_auth_token="test-auth-token",
                    public_base_url="https://rahnuma.example.org", _env_file=None)


@pytest.fixture
def app_server(database_url, db, rasa) -> Iterator[AppServer]:
    server = AppServer(e2e_settings(database_url, rasa.url))
    yield server
    server.stop()


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    """A local fake of Twilio's Messages and Content APIs, in a thread."""
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def twilio_settings(settings: Settings, twilio: FakeTwilio) -> Settings:
    """The test settings with an account and a WhatsApp sender, talking to the fake Twilio."""
    settings.twilio_account_sid = "AC" + "0" * 32
    settings.twilio_whatsapp_from = "whatsapp:+14155238886"
    settings.twilio_api_base_url = twilio.url
    return settings
