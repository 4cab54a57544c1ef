"""Photos and voice notes sent during a complaint: kept as evidence, downloaded in the background.

The intake never waits for a download: it records the media reference, and the worker fetches
it from Twilio's media URL with the account's credentials, with retries. A file of a type or
size we do not keep is marked rejected, never downloaded in full.
"""

import logging
import mimetypes
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine
from sqlmodel import Field, Session, SQLModel, col, select

from bot.conversation.contacts import utcnow
from bot.db import read_only, session_scope

log = logging.getLogger(__name__)

ALLOWED_TYPES = ("image/", "audio/", "video/", "application/pdf")
MAX_BYTES = 16 * 1024 * 1024
MAX_ATTEMPTS = 5
# Twilio serves media from these hosts (then redirects, without our credentials, to storage).
TWILIO_MEDIA_HOSTS = frozenset({"api.twilio.com", "media.twiliocdn.com", "mms.twiliocdn.com"})


class Evidence(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    referral_id: int | None = Field(default=None, foreign_key="referral.id", index=True)
    url: str = Field(max_length=500)
    content_type: str = Field(max_length=100)
    status: str = Field(default="pending", max_length=16, index=True)  # stored/failed/rejected
    path: str = Field(default="", max_length=300)
    size: int | None = None
    attempts: int = 0
    last_error: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow)
    stored_at: datetime | None = None


def record(session: Session, *, contact_id: int, url: str, content_type: str) -> Evidence:
    evidence = Evidence(contact_id=contact_id, url=url, content_type=content_type)
    if not content_type.startswith(ALLOWED_TYPES):
        evidence.status, evidence.last_error = "rejected", f"type {content_type} not kept"
    session.add(evidence)
    session.flush()
    return evidence


def is_twilio_media(url: str, *, also: str | None = None) -> bool:
    """An https URL on one of Twilio's media hosts: the only place our credentials go.
    `also`: the origin of a local stand-in for Twilio (tests, benchmarks)."""
    parts = urlsplit(url)
    if also and f"{parts.scheme}://{parts.netloc}" == also.rstrip("/"):
        return True
    return parts.scheme == "https" and parts.hostname in TWILIO_MEDIA_HOSTS \
        and parts.port in (None, 443) and not parts.username and not parts.password


@dataclass(frozen=True)
class _Download:
    status: str
    error: str = ""
    data: bytes = b""


def fetch_pending(db: Engine, *, directory: Path, auth: tuple[str, str] | None,
                  client: httpx.Client | None = None, limit: int = 20,
                  twilio_stand_in: str | None = None) -> int:
    """Download up to `limit` pending files; returns how many were stored. Downloads (up to
    16 MB, 30 s each) happen outside any transaction: on SQLite one would block every writer."""
    with Session(read_only(db)) as session:
        query = (select(Evidence.id, Evidence.url).where(Evidence.status == "pending")
                 .order_by(col(Evidence.id)).limit(limit))
        due = [(id_, url) for id_, url in session.exec(query) if id_ is not None]
    if not due:  # the usual case: no client (its TLS context costs milliseconds) to build
        return 0
    stored = 0
    own_client = client is None
    client = client or httpx.Client(timeout=30, follow_redirects=True)
    try:
        for evidence_id, url in due:
            if is_twilio_media(url, also=twilio_stand_in):
                download = _download(url, auth=auth, client=client)
            else:  # never send our Twilio credentials anywhere else
                download = _Download("rejected", "not a Twilio media URL")
            with session_scope(db) as session:
                evidence = session.get(Evidence, evidence_id)
                if evidence is not None and evidence.status == "pending":
                    stored += _record(evidence, download, directory)
    finally:
        if own_client:
            client.close()
    return stored


def _download(url: str, *, auth: tuple[str, str] | None, client: httpx.Client) -> _Download:
    try:
        with client.stream("GET", url, auth=auth) as response:
            response.raise_for_status()
            declared = int(response.headers.get("content-length") or 0)
            if declared > MAX_BYTES:
                return _Download("rejected", f"{declared} bytes: too large")
            data = bytearray()
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > MAX_BYTES:
                    return _Download("rejected", "too large")
            return _Download("stored", data=bytes(data))
    except httpx.HTTPError as error:
        return _Download("retry", type(error).__name__)


def _record(evidence: Evidence, download: _Download, directory: Path) -> int:
    evidence.attempts += 1
    if download.status == "rejected":
        evidence.status, evidence.last_error = "rejected", download.error[:300]
        return 0
    if download.status == "retry":
        evidence.last_error = download.error[:300]
        if evidence.attempts >= MAX_ATTEMPTS:
            evidence.status = "failed"
        log.warning("evidence %s download failed (attempt %s)", evidence.id, evidence.attempts)
        return 0
    extension = mimetypes.guess_extension(evidence.content_type.split(";")[0]) or ".bin"
    folder = directory / str(evidence.contact_id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{evidence.id}{extension}"
    path.write_bytes(download.data)
    evidence.path, evidence.size = str(path), len(download.data)
    evidence.status, evidence.stored_at, evidence.last_error = "stored", utcnow(), ""
    return 1


def attach_to_referral(session: Session, evidence_ids: list[int], referral_id: int) -> None:
    for evidence_id in evidence_ids:
        evidence = session.get(Evidence, evidence_id)
        if evidence:
            evidence.referral_id = referral_id
