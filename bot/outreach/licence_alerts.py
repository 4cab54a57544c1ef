"""Licence alerts: when the official list changes the status of a licence people checked, tell
them before they pay.

Who is told: everyone who asked (replied 1 to the offer after a licence answer), and everyone
who checked that licence within `licence_alert_recent_days`, unless they said no to the offer
or sent STOP. Only a change to a status that forbids recruiting is told (a licence back to
valid is not: "don't pay" would be wrong, and "you may pay now" is not ours to say).

Once: each person's LicenceWatch keeps the status they last heard (from an answer or an alert),
and an alert goes only when the new status differs from it, so the same list imported twice,
or a second import racing the first, tells nobody twice.
"""

from datetime import date, datetime, timedelta

from sqlalchemy import or_
from sqlmodel import Session, col, select

from bot.conversation.contacts import Contact, utcnow
from bot.messaging.outbox import Priority
from bot.outreach.consent import Consent, Topic, record
from bot.outreach.delivery import Notice, language_of, last_channel, published, send
from bot.outreach.licence_watch import LicenceWatch
from bot.registry.licence_import import (
    ImportReport,
    StatusChange,
    import_licences,
)
from bot.registry.licences import Licence, LicenceStatus
from bot.settings import Settings

KIND = "licence_alert"
ALERTED = frozenset(LicenceStatus) - {LicenceStatus.VALID}
DATE_FORMAT = "%d-%m-%Y"  # as the licence answer gives the list's date


def record_check(session: Session, *, contact_id: int, licence: Licence) -> LicenceWatch:
    """A licence answer was given: the person checked this licence now and heard its status."""
    watch = _watch(session, contact_id, licence.licence_no)
    watch.last_checked_at = utcnow()
    watch.status_told = licence.status
    session.add(watch)
    return watch


def _watch(session: Session, contact_id: int, licence_no: str) -> LicenceWatch:
    found = session.exec(select(LicenceWatch).where(
        LicenceWatch.contact_id == contact_id, LicenceWatch.licence_no == licence_no)).first()
    return found or LicenceWatch(contact_id=contact_id, licence_no=licence_no)


def asked_already(session: Session, *, contact_id: int, licence_no: str) -> bool:
    answer = _latest_answer(session, contact_id, licence_no)
    return answer is not None and answer.given


def answer_offer(session: Session, *, contact_id: int, licence_no: str, given: bool,
                 wording: str, channel: str) -> None:
    """The person's answer to the offer, kept with the words they were shown."""
    record(session, contact_id=contact_id, topic=Topic.LICENCE_ALERTS, given=given,
           wording=wording, channel=channel, subject=licence_no)
    watch = _watch(session, contact_id, licence_no)
    watch.asked_at = utcnow() if given else None
    session.add(watch)


def _latest_answer(session: Session, contact_id: int, licence_no: str) -> Consent | None:
    """Their last word on alerts about this licence, or on licence alerts as a whole ("")."""
    return session.exec(select(Consent).where(
        Consent.contact_id == contact_id, Consent.topic == Topic.LICENCE_ALERTS,
        col(Consent.subject).in_((licence_no, "")))
        .order_by(col(Consent.id).desc()).limit(1)).first()


def import_with_alerts(session: Session, text: str, *, settings: Settings, file_name: str,
                       dry_run: bool = False, skip_bad_rows: bool = False,
                       list_date: date | None = None) -> ImportReport:
    """Import the list (bot/registry/licence_import.py) and, in the same transaction, queue
    the alerts its status changes call for; the report says how many. A dry run queues none.
    Raises ImportRefused as the import does."""
    report = import_licences(session, text, file_name=file_name, dry_run=dry_run,
                             skip_bad_rows=skip_bad_rows, list_date=list_date)
    if dry_run:
        return report
    now = utcnow()
    report.alerts_queued = queue_alerts(session, settings, report.status_changes,
                                        list_date=list_date or now.date(), now=now)
    return report


def queue_alerts(session: Session, settings: Settings, changes: list[StatusChange], *,
                 list_date: date, now: datetime) -> int:
    since = now - timedelta(days=settings.licence_alert_recent_days)
    queued = 0
    for change in changes:
        if change.new not in ALERTED:
            continue
        for watch, contact in _audience(session, change.licence_no, since):
            if _alert(session, settings, change, watch, contact, list_date=list_date, now=now):
                queued += 1
    return queued


def _audience(session: Session, licence_no: str,
              since: datetime) -> list[tuple[LicenceWatch, Contact]]:
    """Who asked about this licence or checked it recently, and has not sent STOP. Locked, so
    that two imports at once cannot both find someone not yet told."""
    query = (select(LicenceWatch, Contact)
             .join(Contact, col(Contact.id) == col(LicenceWatch.contact_id))
             .where(LicenceWatch.licence_no == licence_no, col(Contact.opted_out).is_(False),
                    col(Contact.is_test).is_(False),
                    or_(col(LicenceWatch.asked_at).is_not(None),
                        col(LicenceWatch.last_checked_at) >= since))
             .order_by(col(LicenceWatch.id))
             .with_for_update(of=LicenceWatch))
    return [(watch, contact) for watch, contact in session.exec(query).all()]


def _alert(session: Session, settings: Settings, change: StatusChange, watch: LicenceWatch,
           contact: Contact, *, list_date: date, now: datetime) -> bool:
    if watch.status_told == change.new:
        return False  # they already know: told by an alert or by their own check
    answer = _latest_answer(session, watch.contact_id, watch.licence_no)
    if answer is not None and not answer.given:
        return False  # said no to these alerts
    channel = last_channel(session, watch.contact_id)
    if channel is None:
        return False  # their messages were erased: no way to reach them
    language = language_of(contact)
    status = published(session, settings).text(f"licence_alert_state_{change.new}", language)
    values = {"name": change.name, "licence_no": change.licence_no, "status": status,
              "date": list_date.strftime(DATE_FORMAT)}
    send(session, settings, Notice(KIND, Priority.ALERT, "licence_alert", values,
                                   "licence_alert", values),
         contact=contact, channel=channel, language=language, now=now)
    watch.status_told, watch.alerted_at = change.new, now
    return True
