"""Photos and voice notes sent during a complaint: kept as evidence, downloaded in the background.

The intake never waits for a download: it records the media reference, and the worker fetches
it from Twilio's media URL with the account's credentials, with retries. A file of a type or
size we do not keep is marked rejected, never downloaded in full.
"""

import logging
import mimetypes
from datetime import datetime
from pathlib import Path

import httpx
from sqlmodel import Field, Session, SQLModel, col, select

from bot.conversation.contacts import utcnow

log = logging.getLogger(__name__)

ALLOWED_TYPES = ("image/", "audio/", "video/", "application/pdf")
MAX_BYTES = 16 * 1024 * 1024
MAX_ATTEMPTS = 5


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


def fetch_pending(session: Session, *, directory: Path, auth: tuple[str, str] | None,
                  client: httpx.Client | None = None, limit: int = 20) -> int:
    """Download up to `limit` pending files; returns how many were stored."""
    query = (select(Evidence).where(Evidence.status == "pending")
             .order_by(col(Evidence.id)).limit(limit))
    stored = 0
    own_client = client is None
    client = client or httpx.Client(timeout=30, follow_redirects=True)
    try:
        for evidence in session.exec(query).all():
            stored += _fetch_one(evidence, directory=directory, auth=auth, client=client)
            session.commit()
    finally:
        if own_client:
            client.close()
    return stored


def _fetch_one(evidence: Evidence, *, directory: Path, auth: tuple[str, str] | None,
               client: httpx.Client) -> int:
    evidence.attempts += 1
    try:
        with client.stream("GET", evidence.url, auth=auth) as response:
            response.raise_for_status()
            declared = int(response.headers.get("content-length") or 0)
            if declared > MAX_BYTES:
                evidence.status, evidence.last_error = "rejected", f"{declared} bytes: too large"
                return 0
            data = b""
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > MAX_BYTES:
                    evidence.status, evidence.last_error = "rejected", "too large"
                    return 0
    except httpx.HTTPError as error:
        evidence.last_error = f"{type(error).__name__}"[:300]
        if evidence.attempts >= MAX_ATTEMPTS:
            evidence.status = "failed"
        log.warning("evidence %s download failed (attempt %s)", evidence.id, evidence.attempts)
        return 0
    extension = mimetypes.guess_extension(evidence.content_type.split(";")[0]) or ".bin"
    folder = directory / str(evidence.contact_id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{evidence.id}{extension}"
    path.write_bytes(data)
    evidence.path, evidence.size = str(path), len(data)
    evidence.status, evidence.stored_at, evidence.last_error = "stored", utcnow(), ""
    return 1


def attach_to_referral(session: Session, evidence_ids: list[int], referral_id: int) -> None:
    for evidence_id in evidence_ids:
        evidence = session.get(Evidence, evidence_id)
        if evidence:
            evidence.referral_id = referral_id
