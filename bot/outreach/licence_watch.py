"""Who checked a licence, or asked to be told when it changes: the audience of a licence alert."""

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.conversation.contacts import utcnow


class LicenceWatch(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("contact_id", "licence_no",
                                       name="uq_licencewatch_contact_licence"),)

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    licence_no: str = Field(max_length=32, index=True)  # normalised, as in Licence
    last_checked_at: datetime = Field(default_factory=utcnow)
    asked_at: datetime | None = None  # replied 1 to "tell me if this licence changes"
    # The status this person last heard (from the answer or an alert): alerts only on change.
    status_told: str = Field(default="", max_length=16)
    alerted_at: datetime | None = None
