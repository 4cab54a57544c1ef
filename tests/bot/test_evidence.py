"""Downloading evidence from Twilio's media URL: credentials, retries, limits."""

import base64
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.casework.evidence import MAX_ATTEMPTS, Evidence, fetch_pending, is_twilio_media, record
from bot.conversation.contacts import Contact
from bot.db import session_scope

AUTH = ("AC" + "1" * 32, "secret-token")


class FakeTwilioMedia(BaseHTTPRequestHandler):
    failures_left = 0
    requests = 0
    body = b"\xff\xd8jpeg-bytes"

    def do_GET(self):  # noqa: N802
        FakeTwilioMedia.requests += 1
        expected = "Basic " + base64.b64encode(f"{AUTH[0]}:{AUTH[1]}".encode()).decode()
        if self.headers.get("Authorization") != expected:
            self.send_response(401)
            self.end_headers()
            return
        if FakeTwilioMedia.failures_left:
            FakeTwilioMedia.failures_left -= 1
            self.send_response(503)
            self.end_headers()
            return
        size = 20 * 1024 * 1024 if self.path.endswith("/huge") else len(self.body)
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        if size == len(self.body):
            self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def media_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeTwilioMedia)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def pending(db, url, content_type="image/jpeg") -> int:
    with session_scope(db) as session:
        contact = Contact(phone="+923001112222")
        session.add(contact)
        session.flush()
        return record(session, contact_id=contact.id, url=url, content_type=content_type).id


def evidence(db, evidence_id) -> Evidence:
    with Session(db) as session:
        return session.get(Evidence, evidence_id)


def test_evidence_is_downloaded_with_account_credentials(db, media_server, tmp_path):
    evidence_id = pending(db, f"{media_server}/Media/ME1")
    assert fetch_pending(db, directory=tmp_path, auth=AUTH, twilio_stand_in=media_server) == 1
    stored = evidence(db, evidence_id)
    assert stored.status == "stored" and stored.path.endswith(".jpg")
    assert Path(stored.path).read_bytes() == FakeTwilioMedia.body


def test_evidence_failed_download_is_retried_then_stored(db, media_server, tmp_path):
    FakeTwilioMedia.failures_left = 2
    evidence_id = pending(db, f"{media_server}/Media/ME2")
    for _ in range(3):
        fetch_pending(db, directory=tmp_path, auth=AUTH, twilio_stand_in=media_server)
    assert evidence(db, evidence_id).status == "stored"
    assert evidence(db, evidence_id).attempts == 3


def test_evidence_gives_up_after_the_last_attempt(db, tmp_path):
    evidence_id = pending(db, "http://127.0.0.1:9/unreachable")
    for _ in range(MAX_ATTEMPTS):
        fetch_pending(db, directory=tmp_path, auth=AUTH, twilio_stand_in="http://127.0.0.1:9")
    assert evidence(db, evidence_id).status == "failed"


def test_evidence_too_large_is_rejected_without_download(db, media_server, tmp_path):
    evidence_id = pending(db, f"{media_server}/Media/huge")
    fetch_pending(db, directory=tmp_path, auth=AUTH, twilio_stand_in=media_server)
    assert evidence(db, evidence_id).status == "rejected"
    assert not list(tmp_path.rglob("*.jpg"))


def test_evidence_of_an_unkept_type_is_rejected(db):
    evidence_id = pending(db, "https://api.twilio.com/x", content_type="text/vcard")
    assert evidence(db, evidence_id).status == "rejected"
    with Session(db) as session:
        assert session.exec(select(Evidence).where(Evidence.status == "pending")).all() == []


def test_worker_round_fetches_pending_evidence(db, database_url, media_server, tmp_path):
    from bot.messaging.worker import run_once
    from bot.settings import Settings

    evidence_id = pending(db, f"{media_server}/Media/ME9")
    settings = Settings(database_url=database_url, twilio_account_sid=AUTH[0],
                        twilio_auth_token=AUTH[1], evidence_dir=tmp_path,
                        twilio_api_base_url=media_server, _env_file=None)
    assert run_once(settings) == 1
    assert evidence(db, evidence_id).status == "stored"


def test_evidence_elsewhere_than_twilio_never_gets_our_credentials(db, media_server, tmp_path):
    """A MediaUrl on another host (here: a server that would happily take the credentials)
    is rejected without a request: only Twilio's media hosts see the account's auth."""
    evidence_id = pending(db, f"{media_server}/Media/ME3")
    before = FakeTwilioMedia.requests
    assert fetch_pending(db, directory=tmp_path, auth=AUTH) == 0
    assert evidence(db, evidence_id).status == "rejected"
    assert FakeTwilioMedia.requests == before


@pytest.mark.parametrize(("url", "allowed"), [
    ("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", True),
    ("https://media.twiliocdn.com/AC1/abc", True),
    ("http://api.twilio.com/x", False),  # credentials never in clear text
    ("https://api.twilio.com.evil.example/x", False),
    ("https://user:pw@api.twilio.com/x", False),
    ("https://api.twilio.com:8443/x", False),
    ("https://evil.example/?api.twilio.com", False),
])
def test_only_twilio_media_urls_are_fetched(url, allowed):
    assert is_twilio_media(url) is allowed
