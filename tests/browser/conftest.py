"""Debian's Chromium, driven by Playwright, against the real app on a local port."""

import os
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from api.main import create_app
from bot.db import get_engine
from bot.settings import PROJECT_ROOT, Settings
from tests.e2e.conftest import AppServer

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def chromium():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: `make test` installs it (apt-get install chromium)")
        pytest.skip("Chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield browser
        browser.close()


class Site(AppServer):
    """The app on a local port, with a fake NLU: the dashboard needs no Rasa."""

    def __init__(self, database_url, bot, evidence_dir):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.db = get_engine(database_url)  # for test helpers (fresh TOTP codes)
        settings = Settings(database_url=database_url, twilio_auth_token="t",
                            public_base_url=self.url, evidence_dir=evidence_dir,
                            _env_file=None)
        self.server = uvicorn.Server(uvicorn.Config(create_app(settings, bot), host="127.0.0.1",
                                                    port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.05)


@pytest.fixture
def site(database_url, db, bot, tmp_path):
    server = Site(database_url, bot, tmp_path / "evidence")
    yield server
    server.stop()


@pytest.fixture
def page(chromium, request):
    context = chromium.new_context(viewport={"width": 1000, "height": 900})
    page = context.new_page()
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    name = request.node.name.replace("[", "-").replace("]", "")
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    context.close()


