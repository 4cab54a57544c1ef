"""What every message Rahnuma sends first (case updates, licence alerts) goes through: the texts
as staff last published them, the person's quiet hours, and the WhatsApp template that stands
in for the text outside the 24-hour window.

Nobody is waiting for these messages, so unlike an answer they are held through the night in
the person's own time zone, and they go after answers in the outbox (their priority)."""

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from sqlmodel import Session, col, select

from bot.content.review import LiveContent
from bot.content.store import Content, get_content
from bot.content.templates import get_templates
from bot.conversation.channels import Channel
from bot.conversation.contacts import Contact, Direction, Message
from bot.conversation.language import Lang
from bot.messaging.outbox import Outbox, Priority, enqueue
from bot.outreach.quiet_hours import next_send_time
from bot.settings import Settings


@lru_cache
def _live(directory: Path) -> LiveContent:
    # One per content directory and process, like the engine's: a text staff publish in the
    # dashboard is used from the next message on, without a restart.
    return LiveContent(get_content(directory))


def published(session: Session, settings: Settings) -> Content:
    return _live(settings.content_dir).current(session)


@dataclass(frozen=True)
class Notice:
    """One message to one person: the ui text and the template that replaces it on WhatsApp
    outside the window, each with its values by name."""

    kind: str  # Outbox.kind: what the impact figures count
    priority: Priority
    key: str
    params: dict[str, str]
    template: str
    template_values: dict[str, str]


def last_channel(session: Session, contact_id: int) -> str | None:
    """Where the person last wrote from: a message they did not ask for goes there."""
    return session.exec(select(Message.channel).where(
        Message.contact_id == contact_id, Message.direction == Direction.IN)
        .order_by(col(Message.id).desc()).limit(1)).first()


def language_of(contact: Contact) -> Lang:
    """The language they chose, else the one they last wrote in (Urdu for a contact that never
    showed one, as for a first answer)."""
    chosen = contact.language or contact.last_language
    return Lang(chosen) if chosen in {str(lang) for lang in Lang} else Lang.UR


def send(session: Session, settings: Settings, notice: Notice, *, contact: Contact,
         channel: str, language: Lang, now: datetime,
         referral_id: int | None = None) -> Outbox:
    """Queue `notice` for `contact`, held until the end of their quiet hours if `now` falls
    in them. The caller has already decided the person may be sent it (STOP, consent)."""
    content = published(session, settings)
    body = content.text(notice.key, language, channel=Channel(channel), **notice.params)
    template = get_templates(settings.content_dir)[notice.template]
    not_before = next_send_time(now, timezone=contact.timezone,
                                start=settings.quiet_hours_start, end=settings.quiet_hours_end)
    return enqueue(session, contact=contact, channel=channel, body=body, language=language,
                   referral_id=referral_id, priority=notice.priority, kind=notice.kind,
                   not_before=not_before, template_key=template.key,
                   template_variables=template.variables_for(notice.template_values))
