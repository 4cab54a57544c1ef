"""Licence alerts: the offer after a licence answer, the consent it records, and an import that
suspends an agency telling exactly the right people, once."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from bot.conversation.contacts import Contact, utcnow
from bot.conversation.inbox import receive
from bot.conversation.state import ConversationState
from bot.db import session_scope
from bot.messaging.outbox import Outbox, Priority
from bot.outreach import licence_alerts
from bot.outreach.consent import Consent, Topic
from bot.outreach.licence_alerts import import_with_alerts
from bot.outreach.licence_watch import LicenceWatch
from bot.registry.licences import Licence
from tests.factories import inbound

LIST = "licence_no,name,city,status\n0848/LHR,Ravi Manpower,Lahore,{ravi}\n" \
       "2214/MLK,Swat Valley Overseas,Malakand,valid\n"
VALID, SUSPENDED = LIST.format(ravi="valid"), LIST.format(ravi="suspended")
LIST_DATE = date(2026, 11, 20)


@pytest.fixture
def registry(db, settings):
    with session_scope(db) as session:
        import_with_alerts(session, VALID, settings=settings, file_name="beoe-1.csv")


def say(db, bot, body, phone="+923001110001", **kwargs):
    return receive(db, bot, inbound(body, phone=phone, **kwargs)).replies


def keys(replies) -> set[str]:
    return {key for reply in replies for key in reply.keys}


def contact_id(db, phone) -> int:
    with Session(db) as session:
        return session.exec(select(Contact.id).where(Contact.phone == phone)).one()


def watch_of(db, phone, licence_no="0848/LHR") -> LicenceWatch:
    with Session(db) as session:
        return session.exec(select(LicenceWatch).where(
            LicenceWatch.contact_id == contact_id(db, phone),
            LicenceWatch.licence_no == licence_no)).one()


def suspend(db, settings, **kwargs):
    with session_scope(db) as session:
        return import_with_alerts(session, SUSPENDED, settings=settings,
                                  file_name="beoe-2.csv", list_date=LIST_DATE, **kwargs)


def alerts(db) -> list[tuple[str, Outbox]]:
    with Session(db) as session:
        return list(session.exec(select(Contact.phone, Outbox).join(
            Contact, Contact.id == Outbox.contact_id).where(Outbox.kind == "licence_alert")
            .order_by(Outbox.id)))


def checked(db, phone, *, days_ago: int) -> None:
    """Moves the check (and any answer to the offer) back in time."""
    with session_scope(db) as session:
        watch = session.get(LicenceWatch, watch_of(db, phone).id)
        watch.last_checked_at = utcnow() - timedelta(days=days_ago)


# --- the offer --------------------------------------------------------------------------------

def test_licence_alerts_valid_answer_offers_them(db, bot, registry, content):
    replies = say(db, bot, "0848/LHR")
    assert "licence_alert_offer" in keys(replies)
    assert content.text("licence_alert_offer", "ur-Latn", licence_no="0848/LHR") in \
        "\n\n".join(r.body for r in replies)
    watch = watch_of(db, "+923001110001")
    assert (watch.status_told, watch.asked_at) == ("valid", None)


def test_licence_alerts_one_records_consent_with_the_words_shown(db, bot, registry, content):
    say(db, bot, "0848/LHR")
    assert "licence_alert_on" in keys(say(db, bot, "1"))
    with Session(db) as session:
        consent = session.exec(select(Consent)).one()
    shown = content.text("licence_alert_offer", "ur-Latn", licence_no="0848/LHR")
    assert (consent.topic, consent.subject, consent.given) == (
        Topic.LICENCE_ALERTS, "0848/LHR", True)
    assert (consent.wording, consent.channel) == (shown, "whatsapp")
    assert watch_of(db, "+923001110001").asked_at is not None
    # Asked once: the next answer about the same licence does not offer again.
    assert "licence_alert_offer" not in keys(say(db, bot, "0848/LHR"))


def test_licence_alerts_two_records_a_no(db, bot, registry):
    say(db, bot, "0848/LHR")
    assert "licence_alert_off" in keys(say(db, bot, "2"))
    with Session(db) as session:
        assert session.exec(select(Consent.given)).one() is False


def test_licence_alerts_offer_on_sms_travels_whole(db, bot, registry, content):
    replies = say(db, bot, "0848/LHR", channel="sms")
    offer = content.text("licence_alert_offer", "ur-Latn", licence_no="0848/LHR")
    assert any(offer in reply.body for reply in replies)


def test_licence_alerts_five_after_the_offer_is_still_a_complaint(db, bot, registry):
    say(db, bot, "0848/LHR")
    assert "complaint_consent" in keys(say(db, bot, "5"))
    with Session(db) as session:
        assert session.exec(select(Consent)).all() == []


def test_licence_alerts_not_offered_for_a_suspended_licence(db, bot, settings, registry):
    suspend(db, settings)
    replies = say(db, bot, "0848/LHR")
    assert "licence_advice_stop" in keys(replies)
    assert "licence_alert_offer" not in keys(replies)
    assert watch_of(db, "+923001110001").status_told == "suspended"
    with Session(db) as session:
        contact = session.exec(select(Contact)).one()
        assert ConversationState.load(contact.state).flow is None


# --- the alert --------------------------------------------------------------------------------

PEOPLE = {
    "asked": "+923001110001",  # replied 1, checked 300 days ago
    "recent": "+923001110002",  # checked 10 days ago
    "old": "+923001110003",  # checked 200 days ago, never asked
    "stopped": "+923001110004",  # checked 10 days ago, then STOP
    "declined": "+923001110005",  # checked 10 days ago, replied 2
    "other": "+923001110006",  # asked about 2214/MLK only
}


@pytest.fixture
def audience(db, bot, registry):
    for who in ("asked", "recent", "old", "stopped", "declined"):
        say(db, bot, "0848/LHR", phone=PEOPLE[who])
    say(db, bot, "1", phone=PEOPLE["asked"])
    say(db, bot, "2", phone=PEOPLE["declined"])
    say(db, bot, "stop", phone=PEOPLE["stopped"])
    say(db, bot, "2214/MLK", phone=PEOPLE["other"])
    say(db, bot, "1", phone=PEOPLE["other"])
    for who, days in (("asked", 300), ("recent", 10), ("old", 200), ("stopped", 10),
                      ("declined", 10)):
        checked(db, PEOPLE[who], days_ago=days)


def test_licence_alerts_suspension_tells_exactly_the_right_people(db, settings, content,
                                                                  audience):
    report = suspend(db, settings)
    assert report.alerts_queued == 2
    told = alerts(db)
    assert [phone for phone, _ in told] == [PEOPLE["asked"], PEOPLE["recent"]]
    status = content.text("licence_alert_state_suspended", "ur-Latn")
    for _phone, item in told:
        assert item.body == content.text(
            "licence_alert", "ur-Latn", name="Ravi Manpower", licence_no="0848/LHR",
            status=status, date="20-11-2026")
        assert (item.priority, item.channel, item.language) == (
            Priority.ALERT, "whatsapp", "ur-Latn")
        assert item.template_key == "licence_alert"
        assert item.template_variables == {"1": "20-11-2026", "2": "Ravi Manpower",
                                           "3": "0848/LHR", "4": status}
    assert watch_of(db, PEOPLE["recent"]).status_told == "suspended"


def test_licence_alerts_same_list_again_tells_nobody(db, settings, audience):
    suspend(db, settings)
    again = suspend(db, settings)
    assert again.alerts_queued == 0 and len(alerts(db)) == 2


def test_licence_alerts_summary_counts_them(db, settings, audience):
    assert "2 licence alerts queued" in suspend(db, settings).summary()


def test_licence_alerts_dry_run_queues_none(db, settings, audience):
    report = suspend(db, settings, dry_run=True)
    assert report.alerts_queued is None and "alerts" not in report.summary()
    assert alerts(db) == []
    with Session(db) as session:
        licence = session.exec(select(Licence).where(Licence.number == 848)).one()
    assert licence.status == "valid"
    assert watch_of(db, PEOPLE["recent"]).status_told == "valid"


def test_licence_alerts_a_later_cancellation_is_told_again(db, settings, audience):
    suspend(db, settings)
    with session_scope(db) as session:
        report = import_with_alerts(session, LIST.format(ravi="cancelled"), settings=settings,
                                    file_name="beoe-3.csv")
    assert report.alerts_queued == 2


def test_licence_alerts_at_night_wait_for_the_morning(db, settings, audience, monkeypatch):
    night = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)  # 23:00 in Pakistan
    monkeypatch.setattr(licence_alerts, "utcnow", lambda: night)
    suspend(db, settings)
    for _phone, item in alerts(db):
        due = item.next_attempt_at
        due = due.astimezone(UTC) if due.tzinfo else due.replace(tzinfo=UTC)
        assert due == datetime(2026, 11, 21, 3, 0, tzinfo=UTC)  # 08:00 there
