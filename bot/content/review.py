"""Texts edited in the dashboard: an editor proposes, another person reviews, approval publishes.

Every version is a row, kept: who proposed it and when, who reviewed it, when, with what comment.
The published texts are the newest published version of each (text, language), laid over the
repository's `content/`. A rollback publishes an older text again as a new version, so the
history only grows. Each process notices a publication on its next message (`LiveContent`)."""

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, Text
from sqlmodel import Column, Field, Session, SQLModel, col, func, select

from bot.content.check import check_consistency
from bot.content.store import Content
from bot.content.texts import Changes, parse_key, text_of, with_texts
from bot.conversation.contacts import utcnow
from bot.conversation.language import LANGUAGES, Lang


class VersionStatus(StrEnum):
    PROPOSED = "proposed"
    PUBLISHED = "published"
    SENT_BACK = "sent_back"


# A version is reviewed once; published and sent-back versions never change again.
TRANSITIONS = {VersionStatus.PROPOSED: {VersionStatus.PUBLISHED, VersionStatus.SENT_BACK}}
MAX_NOTE = 1000


class ReviewError(Exception):
    """A content change was refused; the message says why, for the staff member."""


class ContentVersion(SQLModel, table=True):
    __table_args__ = (Index("ix_contentversion_key_language", "key", "language"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=120)  # ui:<key> or topic:<id>:<part>
    language: str = Field(max_length=8)
    text: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(max_length=16, index=True)
    note: str = Field(default="", max_length=MAX_NOTE)  # the editor's reason, or "rolled back"
    author_id: int = Field(foreign_key="staff.id")
    created_at: datetime = Field(default_factory=utcnow)
    reviewer_id: int | None = Field(default=None, foreign_key="staff.id")
    reviewed_at: datetime | None = None
    review_comment: str = Field(default="", max_length=MAX_NOTE)
    published_at: datetime | None = None


def published_changes(session: Session) -> dict[tuple[str, Lang], str]:
    """The newest published text of every (key, language) edited in the dashboard."""
    rows = session.exec(select(ContentVersion.key, ContentVersion.language, ContentVersion.text)
                        .where(ContentVersion.status == VersionStatus.PUBLISHED)
                        .order_by(col(ContentVersion.id))).all()
    return {(key, Lang(language)): text for key, language, text in rows
            if language in {str(lang) for lang in LANGUAGES}}


def new_problems(content: Content, changes: Changes) -> list[str]:
    """What `rahnuma content check` would say of these changes that it does not say now."""
    if not changes:
        return []
    before = set(check_consistency(content))
    return [p for p in check_consistency(with_texts(content, changes)) if p not in before]


def _check_text(content: Content, key: str, language: Lang, text: str) -> str:
    if parse_key(content, key) is None:
        raise ReviewError(f"there is no text {key!r}")
    text = text.replace("\r\n", "\n").strip()
    if not text:
        raise ReviewError("the text is empty")
    problems = new_problems(content, {(key, language): text})
    if problems:
        raise ReviewError("; ".join(problems))
    return text


def propose(session: Session, content: Content, *, key: str, language: Lang, text: str,
            author_id: int, note: str = "") -> ContentVersion:
    """A proposed change, if it passes every content check; `content` is the published one."""
    text = _check_text(content, key, language, text)
    if text == text_of(content, key, language):
        raise ReviewError("the text is the same as the published one")
    return add_proposal(session, key=key, language=language, text=text, author_id=author_id,
                        note=note)


def add_proposal(session: Session, *, key: str, language: Lang, text: str, author_id: int,
                 note: str) -> ContentVersion:
    """A proposal already checked (a workbook checks all its rows together)."""
    version = ContentVersion(key=key, language=str(language), text=text,
                             status=VersionStatus.PROPOSED, note=note.strip()[:MAX_NOTE],
                             author_id=author_id)
    session.add(version)
    session.flush()
    return version


def _reviewable(session: Session, version_id: int, reviewer_id: int) -> ContentVersion:
    version = session.get(ContentVersion, version_id, with_for_update=True)
    if version is None:
        raise ReviewError("no such proposal")
    if VersionStatus(version.status) not in TRANSITIONS:
        raise ReviewError(f"this version was already {version.status.replace('_', ' ')}")
    if version.author_id == reviewer_id:
        raise ReviewError("another person must review your own proposal")
    return version


def approve(session: Session, content: Content, *, version_id: int, reviewer_id: int,
            comment: str = "") -> ContentVersion:
    """Publish a proposal, checked again against what is published now."""
    version = _reviewable(session, version_id, reviewer_id)
    _check_text(content, version.key, Lang(version.language), version.text)
    now = utcnow()
    version.status, version.reviewer_id = VersionStatus.PUBLISHED, reviewer_id
    version.reviewed_at = version.published_at = now
    version.review_comment = comment.strip()[:MAX_NOTE]
    session.add(version)
    session.flush()
    return version


def send_back(session: Session, *, version_id: int, reviewer_id: int,
              comment: str) -> ContentVersion:
    if not comment.strip():
        raise ReviewError("say what should change, for the editor")
    version = _reviewable(session, version_id, reviewer_id)
    version.status, version.reviewer_id = VersionStatus.SENT_BACK, reviewer_id
    version.reviewed_at, version.review_comment = utcnow(), comment.strip()[:MAX_NOTE]
    session.add(version)
    session.flush()
    return version


def publish_directly(session: Session, content: Content, *, key: str, language: Lang,
                     text: str, reviewer_id: int, note: str) -> ContentVersion:
    """A reviewer's own act that needs no second person: a rollback to a text that was
    published (or is in the repository), or marking the current text reviewed."""
    text = _check_text(content, key, language, text)
    now = utcnow()
    version = ContentVersion(key=key, language=str(language), text=text,
                             status=VersionStatus.PUBLISHED, note=note, author_id=reviewer_id,
                             reviewer_id=reviewer_id, reviewed_at=now, published_at=now)
    session.add(version)
    session.flush()
    return version


def rollback(session: Session, content: Content, base: Content, *, key: str,
             language: Lang, to_version: int | None, reviewer_id: int) -> ContentVersion:
    """Publish again an earlier published text (or, with None, the repository's text)."""
    if to_version is None:
        text, note = text_of(base, key, language), "rolled back to the repository text"
    else:
        old = session.get(ContentVersion, to_version)
        if old is None or old.key != key or old.language != language or \
                old.status != VersionStatus.PUBLISHED:
            raise ReviewError("only a published version of this text can be brought back")
        text, note = old.text, f"rolled back to version {to_version}"
    return publish_directly(session, content, key=key, language=language, text=text,
                            reviewer_id=reviewer_id, note=note)


def history(session: Session, key: str, language: Lang) -> list[ContentVersion]:
    return list(session.exec(select(ContentVersion).where(
        ContentVersion.key == key, ContentVersion.language == str(language))
        .order_by(col(ContentVersion.id).desc())).all())


def proposals(session: Session) -> list[ContentVersion]:
    return list(session.exec(select(ContentVersion).where(
        ContentVersion.status == VersionStatus.PROPOSED).order_by(col(ContentVersion.id))).all())


@dataclass(frozen=True)
class Stale:
    key: str
    why: str  # "changed" (text differs from the last one reviewed) or "english" (EN changed since)


def changed_since_review(session: Session, content: Content, language: Lang,
                         keys: Iterable[str]) -> list[Stale]:
    """Texts of one language whose current text is not the one last reviewed here, or whose
    English was published again after this language's last review (the translation may lag)."""
    reviewed: dict[str, tuple[int, str]] = {}
    english: dict[str, int] = {}
    for version in session.exec(select(ContentVersion).where(
            ContentVersion.status == VersionStatus.PUBLISHED).order_by(col(ContentVersion.id))):
        if version.language == language:
            reviewed[version.key] = (version.id or 0, version.text)
        if version.language == Lang.EN:
            english[version.key] = version.id or 0
    stale = []
    for key in keys:
        last = reviewed.get(key)
        if last and last[1] != text_of(content, key, language):
            stale.append(Stale(key, "changed"))
        elif last and language != Lang.EN and english.get(key, 0) > last[0]:
            stale.append(Stale(key, "english"))
    return stale


def never_reviewed(session: Session, language: Lang, keys: Iterable[str]) -> list[str]:
    seen = set(session.exec(select(ContentVersion.key).where(
        ContentVersion.status == VersionStatus.PUBLISHED,
        ContentVersion.language == str(language))).all())
    return [key for key in keys if key not in seen]


class LiveContent:
    """The published content for one process: the repository's texts with the dashboard's
    published versions over them, rebuilt when a newer version has been published (one indexed
    query a message; every instance and answering process sees a publication on its next
    message, with no restart)."""

    def __init__(self, base: Content) -> None:
        self.base = base
        self._content = base
        self._generation: int | None = 0
        self._lock = threading.Lock()

    def current(self, session: Session) -> Content:
        generation = session.exec(select(func.max(ContentVersion.id)).where(
            ContentVersion.status == VersionStatus.PUBLISHED)).one()
        if generation != self._generation:
            with self._lock:
                if generation != self._generation:
                    self._content = with_texts(self.base, published_changes(session))
                    self._generation = generation
        return self._content
