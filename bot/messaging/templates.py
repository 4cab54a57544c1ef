"""WhatsApp templates: the messages that may be sent outside WhatsApp's 24-hour window.

Each template is kept in content/templates/ like every other text (five languages, numbered
variables, a category); `rahnuma templates sync` creates them through Twilio's Content API,
asks for WhatsApp approval and records here each language's Content SID and approval status."""

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.conversation.contacts import utcnow


class WhatsAppTemplate(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("key", "language", name="uq_whatsapptemplate_key_lang"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64)
    language: str = Field(max_length=8)
    content_sid: str = Field(default="", max_length=64)  # HX...
    # Twilio's approval status: unsubmitted, received, pending, approved, rejected, paused...
    approval_status: str = Field(default="unsubmitted", max_length=24)
    rejection_reason: str = Field(default="", max_length=300)
    # The text synced, so a changed text is synced (created anew) again.
    body: str = ""
    synced_at: datetime = Field(default_factory=utcnow)
