"""WhatsApp templates: the messages that may be sent outside WhatsApp's 24-hour window.

Each template is kept in content/templates/ like every other text (five languages, numbered
variables, a category); `rahnuma templates sync` creates them through Twilio's Content API,
asks for WhatsApp approval and records here each language's Content SID and approval status."""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, Session, SQLModel, select

from bot.content.templates import Template
from bot.conversation.contacts import utcnow
from bot.messaging.twilio import Approval

if TYPE_CHECKING:
    from bot.settings import Settings


class WhatsAppTemplate(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("key", "language", name="uq_whatsapptemplate_key_lang"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64)
    language: str = Field(max_length=8)
    content_sid: str = Field(default="", max_length=64)  # HX...
    # Twilio's approval status: unsubmitted, received, pending, approved, rejected, paused...
    approval_status: str = Field(default="unsubmitted", max_length=24)
    rejection_reason: str = Field(default="", max_length=300)
    # The Content SID that is sent: the last one Meta approved, kept in use while a changed
    # text (content_sid) waits for its own approval.
    in_use_sid: str = Field(default="", max_length=64)
    # The text synced, so a changed text is synced (created anew) again.
    body: str = ""
    synced_at: datetime = Field(default_factory=utcnow)


# Meta's language for each of ours. Roman Urdu is Urdu to Meta; its templates are told apart by
# name. Pashto: [verify] Meta's list (developers.facebook.com, template languages) has long
# had no Pashto; newer lists name regional codes. If Meta rejects it, the dashboard shows why.
WHATSAPP_LANGUAGES = {"ur": "ur", "ur-Latn": "ur", "pa": "pa", "ps": "ps_AF", "en": "en"}
APPROVED = "approved"
# Meta withdrew its approval: the template can no longer be sent.
_WITHDRAWN = {"paused", "disabled"}


def approval_name(key: str, language: str, body: str) -> str:
    """The name Meta files the template under: unique per text, because a name Meta has seen
    (even deleted) cannot be used for another text, and Urdu and Roman Urdu share a language."""
    digest = hashlib.sha1(body.encode()).hexdigest()[:6]
    return f"rahnuma_{key}_{language.lower().replace('-', '_')}_{digest}"


def approved_templates(session: Session) -> dict[tuple[str, str], str]:
    """(key, language) -> the Content SID of its approved template."""
    rows = session.exec(select(WhatsAppTemplate).where(WhatsAppTemplate.in_use_sid != ""))
    return {(row.key, row.language): row.in_use_sid for row in rows}


def approved_sid(session: Session, key: str, language: str) -> str | None:
    return approved_templates(session).get((key, language))


@dataclass
class Synced:
    key: str
    language: str
    action: str  # created, refreshed, failed
    status: str
    error: str = ""


class TemplateApi(Protocol):
    def create(self, *, friendly_name: str, language: str, body: str,
               variables: dict[str, str]) -> str: ...

    def request_approval(self, content_sid: str, *, name: str, category: str) -> Approval: ...

    def approval(self, content_sid: str) -> Approval: ...


def sync_templates(session: Session, api: TemplateApi, templates: dict[str, Template], *,
                   fill: Callable[[str], str] = str) -> list[Synced]:
    """Each template in each language: created at Twilio and submitted for WhatsApp approval
    when new or its text changed, else its approval status refreshed. `fill` puts contacts
    ({opf_helpline}) into the text. One failure is reported and the others go on."""
    existing = {(row.key, row.language): row for row in session.exec(select(WhatsAppTemplate))}
    results = []
    for template in templates.values():
        for language, text in template.text.items():
            row = existing.get((template.key, language)) or WhatsAppTemplate(
                key=template.key, language=language)
            session.add(row)  # kept even if Twilio fails midway: what it created is known
            try:
                action = _sync_one(api, template, row, fill(text))
            except Exception as failure:  # Twilio refused or was unreachable: say which
                results.append(Synced(template.key, language, "failed", row.approval_status,
                                      f"{type(failure).__name__}: {failure}"[:300]))
                continue
            row.synced_at = utcnow()
            results.append(Synced(template.key, language, action, row.approval_status))
    session.flush()
    return results


def _sync_one(api: TemplateApi, template: Template, row: WhatsAppTemplate, body: str) -> str:
    if row.content_sid and row.body == body:
        if row.approval_status == "unsubmitted":  # its approval request failed last time
            _request_approval(api, template, row)
        else:  # Meta decides, and may pause or disable an approved one later
            _record_approval(row, api.approval(row.content_sid))
        return "refreshed"
    # New, or its text changed: a Content resource is immutable once submitted, so a new one.
    # The old one stays at Twilio, and in use (in_use_sid) until the new one is approved.
    samples = {str(n): name for n, name in enumerate(template.variables, 1)}
    row.content_sid = api.create(friendly_name=approval_name(template.key, row.language, body),
                                 language=WHATSAPP_LANGUAGES[row.language], body=body,
                                 variables=samples)
    row.body, row.approval_status, row.rejection_reason = body, "unsubmitted", ""
    _request_approval(api, template, row)
    return "created"


def _request_approval(api: TemplateApi, template: Template, row: WhatsAppTemplate) -> None:
    _record_approval(row, api.request_approval(
        row.content_sid, name=approval_name(template.key, row.language, row.body),
        category=template.category))


def _record_approval(row: WhatsAppTemplate, approval: Approval) -> None:
    row.approval_status, row.rejection_reason = approval.status, approval.rejection_reason
    if approval.status == APPROVED:
        row.in_use_sid = row.content_sid
    elif approval.status in _WITHDRAWN and row.in_use_sid == row.content_sid:
        row.in_use_sid = ""


def sync_from_settings(settings: "Settings") -> list[Synced]:
    """`rahnuma templates sync`: content/templates/ against Twilio's Content API. Refuses
    templates that fail their check (a problem elsewhere in content/ does not stop it)."""
    from bot.content.check import template_problems
    from bot.content.store import load_content
    from bot.content.templates import load_templates
    from bot.db import get_engine, session_scope
    from bot.messaging.twilio import ContentApi

    if not (settings.twilio_account_sid and settings.twilio_auth_token):
        raise RuntimeError("set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN first")
    content = load_content(settings.content_dir)  # for the contacts a template may name
    problems = template_problems(settings.content_dir, content.contacts)
    if problems:
        raise RuntimeError("fix the templates first:\n  " + "\n  ".join(problems))
    api = ContentApi(settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value(),
                     base_url=settings.twilio_api_base_url,
                     timeout=settings.twilio_http_timeout_seconds)
    with session_scope(get_engine(settings.database_url)) as session:
        return sync_templates(session, api, load_templates(settings.content_dir)[0],
                              fill=content.fill_contacts)
