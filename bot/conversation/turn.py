"""The value types that cross the engine's boundary, and the context a flow works in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from bot.conversation.channels import Channel
from bot.conversation.language import Lang

if TYPE_CHECKING:
    from bot.content.store import Content
    from bot.conversation.contacts import Contact
    from bot.conversation.nlu import NluResult


@dataclass(frozen=True)
class Media:
    url: str
    content_type: str


@dataclass(frozen=True)
class InboundMessage:
    phone: str  # E.164, e.g. "+923001234567"
    channel: Channel
    body: str
    sid: str | None = None
    media: tuple[Media, ...] = ()
    # Twilio's OptOutType (STOP, START, HELP) when its own keyword handling recognised one.
    opt_out_type: str | None = None


@dataclass(frozen=True)
class OutboundMessage:
    body: str
    language: Lang


@dataclass(frozen=True)
class Understanding:
    """What the engine made of a message: stored on the inbound row, printed by `ask`."""

    text: str  # normalized
    language: Lang
    nlu: NluResult | None = None

    @property
    def intent(self) -> str | None:
        return self.nlu.intent if self.nlu else None

    @property
    def confidence(self) -> float | None:
        return self.nlu.confidence if self.nlu else None

    @property
    def source(self) -> str | None:
        return self.nlu.source if self.nlu else None


@dataclass
class Turn:
    """One inbound message being answered: flows read from it and add reply parts to it."""

    session: Session
    contact: Contact
    inbound: InboundMessage
    content: Content
    understanding: Understanding
    first_contact: bool = False
    parts: list[str] = field(default_factory=list)
    # Sent only if they fit on the same page as the answer (e.g. the first-contact hint).
    optional: list[str] = field(default_factory=list)
    # Text held back for "MORE", before pagination.
    more: str = ""
    # The first-response time the complaint reply promises (settings).
    first_response_hours: int = 48

    @property
    def language(self) -> Lang:
        return self.understanding.language

    @property
    def text(self) -> str:
        return self.understanding.text

    @property
    def channel(self) -> Channel:
        return self.inbound.channel

    def say(self, key: str, **params: object) -> None:
        self.parts.append(self.content.text(key, self.language, **params))

    @property
    def state(self) -> dict[str, Any]:
        return self.contact.state or {}

    def set_state(self, **state: Any) -> None:
        """Replace the conversation state (a new dict, so the JSON column sees the change)."""
        self.contact.state = {k: v for k, v in state.items() if v is not None}

    def clear_flow(self) -> None:
        """Leaves the active flow; an unfinished complaint is kept so it can be resumed."""
        self.set_state(intake=self.state.get("intake"))
