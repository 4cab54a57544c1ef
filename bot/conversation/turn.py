"""The value types that cross the engine's boundary, and the context a flow works in."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from sqlmodel import Session

from bot.conversation.channels import Channel
from bot.conversation.keys import declared
from bot.conversation.language import Lang
from bot.conversation.state import ConversationState

if TYPE_CHECKING:
    from bot.content.store import Content
    from bot.conversation.contacts import Contact
    from bot.conversation.nlu import Nlu, NluResult


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
    # Twilio's I-Twilio-Idempotency-Token: the same for every retry of one delivery.
    idempotency_token: str | None = None


@dataclass(frozen=True)
class OutboundMessage:
    body: str
    language: Lang
    # The content keys (ui keys, "topic:<id>") the reply was built from: for tests and reports.
    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class Understanding:
    """What the engine made of a message: stored on the inbound row, printed by `ask`."""

    text: str  # normalized
    language: Lang
    nlu: NluResult | None = None
    # The message itself showed this language (a confident detection, not a fallback).
    shown: bool = False

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

    session: Session | None  # None: `rahnuma ask`, stateless, records nothing
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
    # The first-response times the complaint replies promise (settings).
    first_response_hours: int = 48
    urgent_response_hours: int = 4
    state: ConversationState = field(default_factory=ConversationState)
    # Content keys used for this reply, in order (see OutboundMessage.keys).
    keys: list[str] = field(default_factory=list)
    # Asked lazily by understood(): only messages no command, flow or number took need it.
    nlu: Nlu | None = None

    @property
    def language(self) -> Lang:
        return self.understanding.language

    @property
    def text(self) -> str:
        return self.understanding.text

    @property
    def db(self) -> Session:
        """The session of a stored conversation (flows that record something need one)."""
        if self.session is None:
            raise RuntimeError("this turn is stateless: it cannot record anything")
        return self.session

    @property
    def contact_id(self) -> int:
        """The stored contact's id: every turn with a session has a contact in the database."""
        if self.contact.id is None:
            raise RuntimeError("the contact of this turn is not stored")
        return self.contact.id

    @property
    def channel(self) -> Channel:
        return self.inbound.channel

    def understood(self) -> NluResult | None:
        """The NLU's reading of this message, asked at most once."""
        if self.understanding.nlu is None and self.text and self.nlu is not None:
            self.understanding = replace(self.understanding, nlu=self.nlu.parse(self.text))
        return self.understanding.nlu

    def say(self, key: str, **params: object) -> None:
        expected = declared(key)
        if expected is None or not set(params) <= expected:
            # Code and content/ must agree (bot/conversation/keys.py): fail loudly in tests.
            raise KeyError(f"text {key!r} with {sorted(params)} is not declared in keys.py")
        self.parts.append(self.content.text(key, self.language, channel=self.channel, **params))
        self.keys.append(key)

    def say_topic(self, topic_id: str, text: str, more: str = "") -> None:
        self.parts.append(text)
        self.more = more
        self.keys.append(f"topic:{topic_id}")
