"""Where people came from: resource centres, changemakers, briefing sessions, stories, forums.

A source has a short code. Its WhatsApp link, SMS keyword and QR card all carry that code in the
first message ("RAHNUMA SKT12"); a message that carries a known code records a touch. The first
touch is the contact's source (Contact.source_id) and never changes; later touches are kept too.
The person is answered as any new contact would be: the code is never sent back.
"""

import re
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, Session, SQLModel, col, select

from bot.conversation.contacts import Contact, stored_id, utcnow


class SourceKind(StrEnum):
    CENTRE = "centre"  # a union resource centre
    CHANGEMAKER = "changemaker"  # a community changemaker: sees this source's figures
    BRIEFING = "briefing"  # a pre-departure briefing (Protector's office, OEC)
    STORY = "story"  # a radio or news story
    FORUM = "forum"  # a union forum or other gathering


# Letters then digits ("SKT12"): the digits keep a code apart from the words people write after
# "Rahnuma" ("rahnuma kya hai" carries no code).
CODE_PATTERN = re.compile(r"[A-Z]{2,5}[0-9]{1,4}")
# The word that introduces the code in every link and keyword, so a code is never mistaken for
# a licence number or a menu choice: "RAHNUMA SKT12". People write it in their own script too:
# رہنما (Urdu, Punjabi), رهنما (Pashto, Arabic keyboards); the script chooses the welcome's
# language when the message is nothing else.
KEYWORD = "RAHNUMA"
URDU_KEYWORD = "رہنما"
KEYWORDS = (KEYWORD, URDU_KEYWORD, "رهنما")
_CODE_IN_TEXT = re.compile(
    rf"(?<!\w)({'|'.join(KEYWORDS)})\s*[-:#]?\s*([A-Za-z]{{2,5}}[0-9]{{1,4}})\b", re.IGNORECASE)


class Source(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=12, unique=True, index=True)  # upper case, CODE_PATTERN
    kind: str = Field(max_length=16)
    name: str = Field(max_length=200)  # "Sialkot resource centre", "Shazia B. (changemaker)"
    district: str = Field(default="", max_length=100)  # where it works, for the figures
    centre: str = Field(default="", max_length=64)  # the resource centre it belongs to
    # The changemaker's staff account: they see this source's figures and nothing personal.
    owner_staff_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    created_by_staff_id: int | None = Field(default=None, foreign_key="staff.id")
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class SourceTouch(SQLModel, table=True):
    """A message that carried a source's code: first touch (first=True) and every later one."""

    __table_args__ = (Index("ix_sourcetouch_source_time", "source_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    source_id: int = Field(foreign_key="source.id")
    first: bool = False
    message_id: int | None = Field(default=None, foreign_key="message.id")
    created_at: datetime = Field(default_factory=utcnow)


class OutreachSession(SQLModel, table=True):
    """An awareness session a changemaker or centre held: counted in the impact figures."""

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="source.id", index=True)
    held_on: date
    district: str = Field(default="", max_length=100)
    attendees: int = 0
    recorded_by_staff_id: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = Field(default_factory=utcnow)


def code_in(text: str) -> str | None:
    """The source code a message carries ("RAHNUMA SKT12", "rahnuma-skt12"), upper case."""
    found = _CODE_IN_TEXT.search(text or "")
    return found.group(2).upper() if found else None


def keyword_in(text: str) -> str:
    """The keyword as the person wrote it ("rahnuma", "رہنما"), or "" without a code."""
    found = _CODE_IN_TEXT.search(text or "")
    return found.group(1) if found else ""


def without_code(text: str) -> str:
    """The message with the code taken out: what is left is the person's own words."""
    return _CODE_IN_TEXT.sub(" ", text or "").strip(" \n\t.,:;-")


def by_code(session: Session, code: str) -> Source | None:
    return session.exec(select(Source).where(Source.code == code.upper(),
                                             col(Source.active).is_(True))).first()


def attribute(session: Session, *, contact: Contact, source: Source, new_contact: bool,
              message_id: int | None = None) -> SourceTouch:
    """Record that this message (or referral) came through `source`. Only a contact new at this
    touch takes it as their first source: someone who used Rahnuma before keeps their past to
    themselves (a code sent later, or a referral of a number already known, must not move their
    history into a changemaker's figures); their touch is kept as a later one. The caller saves
    the contact (the engine's turn writes back what it changed; a tracked Contact is flushed
    with the session)."""
    first = new_contact and contact.source_id is None
    if first:
        contact.source_id = stored_id(source)
    touch = SourceTouch(contact_id=stored_id(contact), source_id=stored_id(source), first=first,
                        message_id=message_id)
    session.add(touch)
    session.flush()
    return touch
