"""Alerts to many people ("fake Italy visa offers in Sialkot"): written by supervisors and admins
in all five languages, sent to an audience through the outbox.

A large audience needs a second person's approval before anything is sent. Status follows
ALLOWED; every change writes an AlertEvent.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from bot.conversation.contacts import utcnow

KIND = "alert"  # Outbox.kind of an alert's messages
# Above this many people an alert needs a second person's approval.
APPROVAL_THRESHOLD = 1000


class AlertStatus(StrEnum):
    DRAFT = "draft"
    AWAITING_APPROVAL = "awaiting_approval"  # audience over the threshold: a second person
    APPROVED = "approved"  # may be sent now or scheduled
    SCHEDULED = "scheduled"  # a job queues it at scheduled_for
    SENDING = "sending"  # being queued into the outbox, in batches
    SENT = "sent"  # every message queued (the outbox sends them at its rate)
    CANCELLED = "cancelled"  # nothing more is sent; queued messages are withdrawn


ALLOWED: dict[AlertStatus, frozenset[AlertStatus]] = {
    AlertStatus.DRAFT: frozenset({AlertStatus.AWAITING_APPROVAL, AlertStatus.APPROVED,
                                  AlertStatus.CANCELLED}),
    AlertStatus.AWAITING_APPROVAL: frozenset({AlertStatus.APPROVED, AlertStatus.DRAFT,
                                              AlertStatus.CANCELLED}),
    AlertStatus.APPROVED: frozenset({AlertStatus.SCHEDULED, AlertStatus.SENDING,
                                     AlertStatus.DRAFT, AlertStatus.CANCELLED}),
    AlertStatus.SCHEDULED: frozenset({AlertStatus.SENDING, AlertStatus.CANCELLED}),
    AlertStatus.SENDING: frozenset({AlertStatus.SENT, AlertStatus.CANCELLED}),
    AlertStatus.SENT: frozenset({AlertStatus.CANCELLED}),  # withdraws what is still queued
    AlertStatus.CANCELLED: frozenset(),
}


class Alert(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)  # for staff: "Fake Italy visas, Sialkot"
    # {"ur": ..., "ur-Latn": ..., "pa": ..., "ps": ..., "en": ...}: checked as content is.
    texts: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # {"districts": [...], "languages": [...], "sources": [codes], "stages": [...]}; empty
    # lists mean "any". Only contacts who said yes to alerts are ever in it.
    audience: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON,
                                                                            nullable=False))
    audience_count: int = 0  # as counted when it was submitted or approved
    status: str = Field(default=AlertStatus.DRAFT, max_length=20, index=True)
    created_by_staff_id: int = Field(foreign_key="staff.id")
    approved_by_staff_id: int | None = Field(default=None, foreign_key="staff.id")
    cancelled_by_staff_id: int | None = Field(default=None, foreign_key="staff.id")
    scheduled_for: datetime | None = None
    # How far queueing got (the last contact id queued): a resumed run carries on from here.
    queued_up_to_contact_id: int = 0
    queued: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = None
    approved_at: datetime | None = None
    sending_at: datetime | None = None
    sent_at: datetime | None = None
    cancelled_at: datetime | None = None


class AlertEvent(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id", index=True)
    staff_id: int | None = Field(default=None, foreign_key="staff.id")  # None: the worker
    from_status: str = Field(max_length=20)
    to_status: str = Field(max_length=20)
    note: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
