"""A worker's departure: where and when, and whether they want reminders before and after."""

from datetime import date, datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from bot.conversation.contacts import utcnow


class JourneyStatus(StrEnum):
    PLANNED = "planned"  # told us; reminders not (yet) accepted
    ACTIVE = "active"  # reminders on
    STOPPED = "stopped"  # "stop reminders" or STOP
    DONE = "done"  # the last check-in is past


class Journey(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    country: str = Field(default="", max_length=64)  # a key of content/countries.yml
    city: str = Field(default="", max_length=64)
    departs_on: date
    status: str = Field(default=JourneyStatus.PLANNED, max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class CheckIn(SQLModel, table=True):
    """A check-in abroad and its answer: 1 paid as the contract says, 2 not, 3 other job."""

    id: int | None = Field(default=None, primary_key=True)
    journey_id: int = Field(foreign_key="journey.id", index=True)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    sent_at: datetime = Field(default_factory=utcnow)
    answer: str = Field(default="", max_length=16)  # "", "paid", "underpaid", "different_job"
    answered_at: datetime | None = None
    referral_id: int | None = Field(default=None, foreign_key="referral.id")
