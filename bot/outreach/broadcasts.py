"""Alerts to many people ("fake Italy visa offers in Sialkot"): written by supervisors and admins
in all five languages, sent to an audience through the outbox.

A large audience needs a second person's approval before anything is sent. Status follows
ALLOWED; every change writes an AlertEvent.
"""

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, update
from sqlmodel import Field, Session, SQLModel, col, select

from bot.content.check import TOPIC_SMS_SEGMENTS
from bot.content.review import new_problems
from bot.content.store import Content
from bot.content.templates import Template
from bot.conversation.channels import WHATSAPP_MAX_CHARS, Channel, sms_segments
from bot.conversation.contacts import stored_id, utcnow
from bot.conversation.language import LANGUAGES, Lang
from bot.messaging import scheduler
from bot.messaging.outbox import Outbox, Status
from bot.outreach import broadcast_audience

KIND = "alert"  # Outbox.kind of an alert's messages
# Above this many people an alert needs a second person's approval (the default of
# Settings.alert_approval_threshold, which is what the pages use).
APPROVAL_THRESHOLD = 1000
FRAME = "alert_frame"  # content/ui/alerts.yml: the words around the alert's text
TEMPLATE = "alert"  # content/templates/alerts.yml: the same outside WhatsApp's window
JOB = "alert_queue"  # the scheduler job that queues an alert, a batch at a time
TEMPLATE_CHARS = 1024  # Meta refuses a template body longer than this
# The furthest ahead an alert may be scheduled: a warning is about now, and an audience counted
# today says little about who matches months later.
MAX_AHEAD = timedelta(days=30)


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
    # Back to awaiting approval: at its time the audience had grown over the threshold and
    # only one person had approved it (start_scheduled).
    AlertStatus.SCHEDULED: frozenset({AlertStatus.SENDING, AlertStatus.AWAITING_APPROVAL,
                                      AlertStatus.CANCELLED}),
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


class AlertError(Exception):
    """An alert change was refused; the message says why, for the staff member. `key` (and
    `params`) name the same words in content/staff/alerts.yml, for the pages to show in the
    staff member's language, where they exist."""

    def __init__(self, message: str, *, key: str = "",
                 params: Mapping[str, object] | None = None) -> None:
        super().__init__(message)
        self.key, self.params = key, dict(params or {})


class AlertChanged(AlertError):
    """The alert was changed after the approver opened it: what they read is not what would
    be sent (the pages answer 409)."""


# Where a status change leaves a date behind.
_STAMPS = {AlertStatus.AWAITING_APPROVAL: "submitted_at", AlertStatus.APPROVED: "approved_at",
           AlertStatus.SENDING: "sending_at", AlertStatus.SENT: "sent_at",
           AlertStatus.CANCELLED: "cancelled_at"}
EDITABLE = frozenset({AlertStatus.DRAFT, AlertStatus.AWAITING_APPROVAL, AlertStatus.APPROVED})


def framed(content: Content, language: Lang, text: str, channel: Channel) -> str:
    """The message a person reads: the alert's text in the frame (the SMS frame is shorter)."""
    return content.text(FRAME, language, channel=channel,
                        warning=content.fill_contacts(text))


def one_line(content: Content, text: str) -> str:
    """The alert's text as a template variable: WhatsApp refuses line breaks in one."""
    return " ".join(content.fill_contacts(text).split())


def check_texts(content: Content, template: Template,
                texts: Mapping[str, str]) -> dict[str, str]:
    """The texts in every language, cleaned; refused with every problem the content checks
    find (language, stray English, numbers that could be somebody's, rule numbers, unknown
    {references}) and any message over its channel's limit."""
    cleaned = {str(lang): (texts.get(str(lang)) or "").replace("\r\n", "\n").strip()
               for lang in LANGUAGES}
    missing = [lang for lang, text in cleaned.items() if not text]
    if missing:
        raise AlertError(f"write the alert in every language: missing {', '.join(missing)}")
    changes = {(f"ui:{FRAME}", Lang(lang)): content.fill_contacts(text)
               for lang, text in cleaned.items()}
    problems = [problem.replace(f"ui.yml {FRAME} ", "") for problem in
                new_problems(content, changes)]
    for lang, text in cleaned.items():
        problems += _length_problems(content, template, Lang(lang), text)
    if problems:
        raise AlertError("; ".join(problems))
    return cleaned


def _length_problems(content: Content, template: Template, language: Lang,
                     text: str) -> list[str]:
    problems = []
    sms = sms_segments(framed(content, language, text, Channel.SMS))
    if sms > TOPIC_SMS_SEGMENTS:
        problems.append(f"[{language}]: {sms} SMS segments with the frame "
                        f"(max {TOPIC_SMS_SEGMENTS}): shorten it")
    whatsapp = len(framed(content, language, text, Channel.WHATSAPP))
    if whatsapp > WHATSAPP_MAX_CHARS:
        problems.append(f"[{language}]: {whatsapp} characters on WhatsApp "
                        f"(max {WHATSAPP_MAX_CHARS})")
    as_template = len(content.fill_contacts(template.text[language]).replace(
        "{{1}}", one_line(content, text)))
    if as_template > TEMPLATE_CHARS:
        problems.append(f"[{language}]: {as_template} characters as a WhatsApp template "
                        f"(max {TEMPLATE_CHARS})")
    return problems


def move(session: Session, alert: Alert, to: AlertStatus, *, staff_id: int | None,
          note: str = "") -> None:
    """The one way an alert's status changes: allowed by ALLOWED, stamped, and recorded."""
    current = AlertStatus(alert.status)
    if to not in ALLOWED[current]:
        raise AlertError(f"an alert that is {current.replace('_', ' ')} cannot become "
                         f"{to.replace('_', ' ')}")
    if to in _STAMPS:
        setattr(alert, _STAMPS[to], utcnow())
    alert.status = to
    session.add(alert)
    session.add(AlertEvent(alert_id=stored_id(alert), staff_id=staff_id, from_status=current,
                           to_status=to, note=note[:500]))
    session.flush()


def locked(session: Session, alert_id: int) -> Alert:
    """The alert, locked until the transaction ends: status changes and queueing batches of
    one alert happen one after the other, never side by side."""
    alert = session.exec(select(Alert).where(Alert.id == alert_id).with_for_update()
                         .execution_options(populate_existing=True)).first()
    if alert is None:
        raise AlertError("no such alert")
    return alert


def create(session: Session, content: Content, template: Template, *, title: str,
           texts: Mapping[str, str], audience: Mapping[str, list[str]],
           staff_id: int) -> Alert:
    """A draft. `audience` as broadcast_audience.clean returns it."""
    title = _title(title)
    alert = Alert(title=title, texts=check_texts(content, template, texts),
                  audience=dict(audience), created_by_staff_id=staff_id)
    session.add(alert)
    session.flush()
    session.add(AlertEvent(alert_id=stored_id(alert), staff_id=staff_id, from_status="",
                           to_status=AlertStatus.DRAFT, note="written"))
    session.flush()
    return alert


def _title(title: str) -> str:
    title = title.strip()
    if not title:
        raise AlertError("give the alert a title (for staff)")
    return title[:200]


def edit(session: Session, content: Content, template: Template, *, alert_id: int,
         title: str, texts: Mapping[str, str], audience: Mapping[str, list[str]],
         staff_id: int) -> Alert:
    """New words or audience; an alert submitted or approved goes back to draft (what was
    approved is not what would be sent)."""
    alert = locked(session, alert_id)
    if AlertStatus(alert.status) not in EDITABLE:
        raise AlertError("only an alert not yet scheduled or sent can be changed")
    alert.title = _title(title)
    alert.texts = check_texts(content, template, texts)
    alert.audience = dict(audience)
    alert.approved_by_staff_id, alert.approved_at = None, None
    if alert.status == AlertStatus.DRAFT:
        session.add(alert)
        session.add(AlertEvent(alert_id=alert_id, staff_id=staff_id, from_status=alert.status,
                               to_status=alert.status, note="changed"))
        session.flush()
    else:
        move(session, alert, AlertStatus.DRAFT, staff_id=staff_id, note="changed")
    return alert


def submit(session: Session, *, alert_id: int, staff_id: int, threshold: int,
           now: datetime) -> Alert:
    """Counted: over `threshold` it waits for a second person, else it is ready to send."""
    alert = locked(session, alert_id)
    alert.audience_count = broadcast_audience.count(session, alert.audience, today=now.date())
    if alert.audience_count == 0:
        raise AlertError("nobody is in this audience: nobody who said yes to alerts matches it")
    if alert.audience_count > threshold:
        move(session, alert, AlertStatus.AWAITING_APPROVAL, staff_id=staff_id,
              note=f"{alert.audience_count} people")
    else:
        move(session, alert, AlertStatus.APPROVED, staff_id=staff_id,
              note=f"{alert.audience_count} people, no second approval needed")
    return alert


def fingerprint(alert: Alert) -> str:
    """A digest of what a person reads on the alert's page (title, texts, audience), as
    canonical JSON: the approve form carries it, so an approval covers the words read."""
    shown = json.dumps({"title": alert.title, "texts": alert.texts, "audience": alert.audience},
                       sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(shown.encode("utf-8")).hexdigest()


def approve(session: Session, *, alert_id: int, staff_id: int, fingerprint_seen: str,
            now: datetime) -> Alert:
    """A second person's approval: not whoever wrote or submitted it, and of the alert as they
    read it (`fingerprint_seen`, from the page they opened): an edit and resubmission made
    meanwhile is not approved unseen. Checked under the lock, so no edit slips in between."""
    alert = locked(session, alert_id)
    if alert.status != AlertStatus.AWAITING_APPROVAL:
        raise AlertError("only an alert waiting for approval can be approved")
    if staff_id in _authors(session, alert):
        raise AlertError("another person must approve an alert you wrote or submitted")
    if fingerprint_seen != fingerprint(alert):
        raise AlertChanged("the alert changed since you opened it: read it again",
                           key="alerts_changed")
    alert.audience_count = broadcast_audience.count(session, alert.audience, today=now.date())
    alert.approved_by_staff_id = staff_id
    move(session, alert, AlertStatus.APPROVED, staff_id=staff_id,
          note=f"{alert.audience_count} people")
    return alert


def _authors(session: Session, alert: Alert) -> set[int]:
    """Who wrote, changed or submitted it."""
    staff = session.exec(select(AlertEvent.staff_id).where(
        AlertEvent.alert_id == alert.id,
        col(AlertEvent.to_status).in_((AlertStatus.DRAFT, AlertStatus.AWAITING_APPROVAL)))).all()
    return {alert.created_by_staff_id, *(s for s in staff if s is not None)}


def _second_approval(session: Session, alert: Alert) -> bool:
    """Approved by somebody other than whoever wrote, changed or submitted it."""
    approver = alert.approved_by_staff_id
    return approver is not None and approver not in _authors(session, alert)


def _ready(session: Session, alert: Alert, *, threshold: int, now: datetime) -> None:
    """Approved, and still within what was approved: an audience grown over the threshold
    since a one-person approval needs a second person first."""
    if alert.status != AlertStatus.APPROVED:
        raise AlertError("only an approved alert can be sent or scheduled")
    alert.audience_count = broadcast_audience.count(session, alert.audience, today=now.date())
    if alert.audience_count > threshold and not _second_approval(session, alert):
        raise AlertError(f"the audience has grown to {alert.audience_count} people: it needs "
                         "a second person's approval (save it again, then submit it)")


def send_now(session: Session, *, alert_id: int, staff_id: int, threshold: int,
             now: datetime) -> Alert:
    """Sending: the worker queues it into the outbox, a batch at a time."""
    alert = locked(session, alert_id)
    _ready(session, alert, threshold=threshold, now=now)
    move(session, alert, AlertStatus.SENDING, staff_id=staff_id)
    _queue_job(session, alert, now)
    return alert


def schedule(session: Session, *, alert_id: int, staff_id: int, threshold: int,
             when: datetime, now: datetime) -> Alert:
    alert = locked(session, alert_id)
    if when <= now:
        raise AlertError("choose a time in the future, or send it now")
    if when > now + MAX_AHEAD:
        raise AlertError(f"when: choose a time after now and at most {MAX_AHEAD.days} days "
                         "ahead", key="alerts_when_range", params={"days": MAX_AHEAD.days})
    _ready(session, alert, threshold=threshold, now=now)
    alert.scheduled_for = when
    move(session, alert, AlertStatus.SCHEDULED, staff_id=staff_id,
          note=when.strftime("%Y-%m-%d %H:%M UTC"))
    _queue_job(session, alert, when)
    return alert


def start_scheduled(session: Session, alert: Alert, *, threshold: int, now: datetime) -> bool:
    """At its time (the job, `alert` locked): sending, if the audience counted again is within
    what was approved; else back to awaiting approval, and False. Who matches grows between
    scheduling and sending, and a one-person approval covers only an audience within
    `threshold`."""
    alert.audience_count = broadcast_audience.count(session, alert.audience, today=now.date())
    if alert.audience_count > threshold and not _second_approval(session, alert):
        move(session, alert, AlertStatus.AWAITING_APPROVAL, staff_id=None,
             note=f"not sent: the audience has grown to {alert.audience_count} people, over "
                  f"{threshold}; a second person must approve it, then schedule it again")
        return False
    move(session, alert, AlertStatus.SENDING, staff_id=None, note="its scheduled time")
    return True


def _queue_job(session: Session, alert: Alert, due_at: datetime) -> None:
    scheduler.schedule(session, kind=JOB, due_at=due_at, subject=subject(alert),
                       payload={"alert_id": stored_id(alert)})


def subject(alert: Alert) -> str:
    return f"alert:{stored_id(alert)}"


def cancel(session: Session, *, alert_id: int, staff_id: int, note: str = "") -> int:
    """Nothing more is queued, and what is queued but not yet sent is withdrawn (a worker
    claims only queued items, so none of them is ever sent); returns how many."""
    alert = locked(session, alert_id)
    alert.cancelled_by_staff_id = staff_id
    move(session, alert, AlertStatus.CANCELLED, staff_id=staff_id, note=note)
    scheduler.cancel(session, subject=subject(alert))
    withdrawn = session.exec(update(Outbox).where(
        col(Outbox.alert_id) == alert_id, col(Outbox.status) == Status.QUEUED)
        .values(status=Status.CANCELLED, error="the alert was cancelled"))
    return int(withdrawn.rowcount)


def withdraw_queued(session: Session, *, contact_id: int,
                    kinds: tuple[str, ...] = (KIND,)) -> int:
    """The person said "stop alerts": alerts queued for them and not yet sent (held through
    the night, or behind the sending rate) never go. STOP needs no call: the worker skips every
    item but a reply for an opted-out person."""
    withdrawn = session.exec(update(Outbox).where(
        col(Outbox.contact_id) == contact_id, col(Outbox.kind).in_(kinds),
        col(Outbox.status) == Status.QUEUED)
        .values(status=Status.CANCELLED, error="the person stopped alerts"))
    return int(withdrawn.rowcount)


def events(session: Session, alert_id: int) -> list[AlertEvent]:
    return list(session.exec(select(AlertEvent).where(AlertEvent.alert_id == alert_id)
                             .order_by(col(AlertEvent.id))))
