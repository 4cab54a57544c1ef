"""Contacts, their conversation state, and every message in and out.

A message is stored before anything can fail on it: the inbound row is committed first, then the
engine's reply and the new conversation state are committed together.
"""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, Session, SQLModel, col, select


def utcnow() -> datetime:
    return datetime.now(UTC)


class _Row(Protocol):
    id: int | None


def stored_id(row: _Row) -> int:
    """The primary key of a row that is in the database (loaded, or added and flushed).

    Table models type `id` as `int | None` only because a new row has none until it is
    flushed; code that works on stored rows narrows it here, once."""
    if row.id is None:
        raise RuntimeError(f"this {type(row).__name__} is not stored yet (flush it first)")
    return row.id


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


class Contact(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    phone: str = Field(index=True, unique=True, max_length=32)  # E.164, without "whatsapp:"
    language: str | None = Field(default=None, max_length=8)  # chosen explicitly: always wins
    last_language: str | None = Field(default=None, max_length=8)  # detected most recently
    opted_out: bool = False
    opted_out_at: datetime | None = None
    # {"flow": name, "step": name, "values": {...}, "more": [pages]}; replaced, never mutated.
    state: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    is_test: bool = False  # the dashboard simulator: left out of the impact figures
    # Where the person is, for quiet hours: an IANA zone (Asia/Karachi unless known abroad).
    timezone: str | None = Field(default=None, max_length=40)
    # The first source whose code the person's message carried (bot/outreach/sources.py).
    source_id: int | None = Field(default=None, foreign_key="source.id", index=True)
    # Their home district as they told it (alerts opt-in, a complaint, a changemaker's referral):
    # a key of content/districts.yml, for alerts to a district and the figures by district.
    district: str = Field(default="", max_length=100, index=True)
    # When they were asked (once, after their first answer) whether they want alerts.
    alerts_asked_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Message(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("sid", name="uq_message_sid"),
        UniqueConstraint("idempotency_token", name="uq_message_idempotency_token"),
        Index("ix_message_unanswered", "handled_at", "lease_until"),
    )

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    channel: str = Field(max_length=16)
    direction: str = Field(max_length=3)
    body: str
    # Twilio's MessageSid; a retried delivery carries the same one, so it is unique.
    sid: str | None = Field(default=None, max_length=64)
    reply_to_id: int | None = Field(default=None, foreign_key="message.id", index=True)
    language: str | None = Field(default=None, max_length=8)
    intent: str | None = Field(default=None, max_length=64)
    confidence: float | None = None
    nlu: str | None = Field(default=None, max_length=16)  # "rasa" or "fallback"
    media: list[dict[str, str]] = Field(default_factory=list, sa_column=Column(JSON,
                                                                              nullable=False))
    created_at: datetime = Field(default_factory=utcnow, index=True)
    handled_at: datetime | None = None  # inbound: when its reply was stored
    # Inbound, until handled: the copy answering it holds it until then. A retried delivery
    # or the worker's sweep takes over an expired lease (its holder died mid-answer).
    lease_until: datetime | None = None
    # Inbound: when the webhook stopped waiting for the answer and acknowledged with empty
    # TwiML; the answer then goes through the outbox. Set and read in the database, so the
    # webhook and an answering process in another process agree on who delivers.
    gave_up_waiting_at: datetime | None = None
    # Twilio's I-Twilio-Idempotency-Token: the same delivery, whatever its MessageSid says.
    idempotency_token: str | None = Field(default=None, max_length=64)


def replies_to(session: Session, message_id: int, *, excluding: Any = None) -> list[Message]:
    """The stored answers to an inbound message, oldest first (`excluding`: a SQL condition)."""
    query = select(Message).where(Message.reply_to_id == message_id)
    if excluding is not None:
        query = query.where(~excluding)
    return list(session.exec(query.order_by(col(Message.id))))
