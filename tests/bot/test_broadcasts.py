"""Alerts to many: texts checked as content is, the audience of people who said yes, the flow with
a second person's approval, queueing once per person in batches, cancelling, the figures."""

import threading
from datetime import date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from bot.casework.staff import Role
from bot.content.templates import get_templates
from bot.conversation.contacts import Contact, Direction, Message, utcnow
from bot.db import session_scope
from bot.messaging.outbox import Outbox, Priority, Status, record_status
from bot.messaging.scheduler import run_due
from bot.messaging.sending import send_due
from bot.outreach import broadcast_audience, broadcasts
from bot.outreach.broadcast_figures import figures
from bot.outreach.broadcast_sending import queue_all, queue_batch
from bot.outreach.broadcasts import Alert, AlertChanged, AlertError, AlertEvent, AlertStatus
from bot.outreach.consent import Topic, record
from bot.outreach.jobs import job_handlers
from bot.outreach.journeys import Journey, JourneyStatus
from bot.outreach.sources import Source
from bot.settings import PROJECT_ROOT
from tests.api.staff_helpers import make_staff

TEXTS = {
    "ur": "سیالکوٹ میں اٹلی کے جعلی ویزوں کی پیشکش ہو رہی ہے۔ کسی ایجنٹ کو پیسے نہ دیں، "
          "پہلے لائسنس چیک کریں۔",
    "ur-Latn": "Sialkot mein Italy ke jaali visa ki peshkash ho rahi hai. Kisi agent ko paisay "
               "na dein, pehle license check karein.",
    "pa": "سیالکوٹ وچ اٹلی دے جعلی ویزیاں دی پیشکش ہو رہی اے۔ کسے ایجنٹ نوں پیسے نہ دیو، "
          "پہلاں لائسنس چیک کرو۔",
    "ps": "په سیالکوټ کې د ایټالیا د جعلي ویزو وړاندیزونه کېږي. هېڅ ایجنټ ته پیسې مه ورکوئ، "
          "لومړی لایسنس وګورئ.",
    "en": "Fake Italy visa offers are going around in Sialkot. Do not pay any agent; check the "
          "licence first.",
}
TEMPLATE = get_templates(PROJECT_ROOT / "content")["alert"]
_phones = iter(range(10_000_000))


def person(db, *, district="sialkot", said_yes=True, language="ur", channel="whatsapp",
           source_id=None, opted_out=False, is_test=False, wrote=True,
           timezone=None, wrote_at=None) -> int:
    """A contact who wrote once and (by default) said yes to alerts; their id."""
    with session_scope(db) as session:
        contact = Contact(phone=f"+92300{next(_phones):07d}", district=district,
                          language=language, source_id=source_id, opted_out=opted_out,
                          is_test=is_test, timezone=timezone)
        session.add(contact)
        session.flush()
        if wrote:
            session.add(Message(contact_id=contact.id, channel=channel, body="salam",
                                direction=Direction.IN, created_at=wrote_at or utcnow()))
        if said_yes is not None:
            record(session, contact_id=contact.id, topic=Topic.ALERTS, given=said_yes,
                   wording="alerts?", channel=channel)
        return contact.id


def write(db, content, staff_id, **audience) -> int:
    with session_scope(db) as session:
        cleaned = {name: audience.get(name, []) for name in broadcast_audience.FILTERS}
        return broadcasts.create(session, content, TEMPLATE, title="Fake Italy visas",
                                 texts=TEXTS, audience=cleaned, staff_id=staff_id).id


def approved(db, content, staff_id, threshold=1000, **audience) -> int:
    alert_id = write(db, content, staff_id, **audience)
    with session_scope(db) as session:
        broadcasts.submit(session, alert_id=alert_id, staff_id=staff_id, threshold=threshold,
                          now=utcnow())
    return alert_id


def sending(db, content, staff_id, **audience) -> int:
    alert_id = approved(db, content, staff_id, **audience)
    with session_scope(db) as session:
        broadcasts.send_now(session, alert_id=alert_id, staff_id=staff_id, threshold=1000,
                            now=utcnow())
    return alert_id


def items(db, alert_id) -> list[Outbox]:
    with Session(db) as session:
        return list(session.exec(select(Outbox).where(Outbox.alert_id == alert_id)))


def alert_of(db, alert_id) -> Alert:
    with Session(db) as session:
        return session.get(Alert, alert_id)


def approve(db, alert_id, staff_id, seen=None) -> None:
    """A second person's approval of the alert as it is now (or as it was when `seen`)."""
    seen = seen or broadcasts.fingerprint(alert_of(db, alert_id))
    with session_scope(db) as session:
        broadcasts.approve(session, alert_id=alert_id, staff_id=staff_id,
                           fingerprint_seen=seen, now=utcnow())


@pytest.fixture
def staff(db) -> int:
    return make_staff(db, "sara@mrc.example", role=Role.SUPERVISOR)


@pytest.fixture
def second(db) -> int:
    return make_staff(db, "imran@mrc.example", role=Role.ADMIN)


def test_check_texts_refuses_a_missing_language(content):
    with pytest.raises(AlertError, match="missing ps"):
        broadcasts.check_texts(content, TEMPLATE, {**TEXTS, "ps": " "})


def test_check_texts_refuses_a_number_that_could_be_somebodys(content):
    with pytest.raises(AlertError, match="could be somebody's"):
        broadcasts.check_texts(content, TEMPLATE, {**TEXTS, "en": TEXTS["en"] + " 03001234567"})


def test_check_texts_refuses_a_text_in_another_language(content):
    with pytest.raises(AlertError, match=r"\[pa\]: declared pa but reads as ur"):
        broadcasts.check_texts(content, TEMPLATE, {**TEXTS, "pa": TEXTS["ur"]})


def test_check_texts_refuses_an_alert_too_long_for_sms(content):
    with pytest.raises(AlertError, match=r"\[ur\]: \d SMS segments"):
        broadcasts.check_texts(content, TEMPLATE, {**TEXTS, "ur": TEXTS["ur"] * 3})


def test_check_texts_accepts_the_five_texts(content):
    assert broadcasts.check_texts(content, TEMPLATE, TEXTS) == TEXTS


def test_audience_holds_only_those_whose_latest_answer_is_yes(db):
    yes = person(db)
    changed_mind = person(db)
    with session_scope(db) as session:
        record(session, contact_id=changed_mind, topic=Topic.ALERTS, given=False,
               wording="alerts?", channel="whatsapp")
    person(db, said_yes=None)  # never asked
    person(db, opted_out=True)  # sent STOP
    person(db, is_test=True)  # the simulator
    person(db, wrote=False)  # no channel left to reach them on
    with Session(db) as session:
        found = session.connection().execute(broadcast_audience.recipients(
            {}, today=date.today())).all()
    assert [row.id for row in found] == [yes]


def test_audience_filters_by_district_language_and_first_source(db):
    with session_scope(db) as session:
        source = Source(code="SKT12", kind="centre", name="Sialkot centre")
        session.add(source)
        session.flush()
        source_id = source.id
    match = person(db, district="sialkot", language="pa", source_id=source_id)
    person(db, district="lahore", language="pa", source_id=source_id)
    person(db, district="sialkot", language="en", source_id=source_id)
    person(db, district="sialkot", language="pa")
    audience = {"districts": ["sialkot"], "languages": ["pa"], "sources": ["SKT12"]}
    with Session(db) as session:
        rows = session.connection().execute(broadcast_audience.recipients(
            audience, today=date.today())).all()
        assert broadcast_audience.count(session, audience, today=date.today()) == 1
    assert [row.id for row in rows] == [match]


def test_audience_stage_comes_from_the_latest_journey_not_stopped(db):
    today = date(2026, 12, 3)
    planned, abroad, stopped, none = (person(db) for _ in range(4))
    with session_scope(db) as session:
        session.add(Journey(contact_id=planned, departs_on=today + timedelta(days=10)))
        session.add(Journey(contact_id=abroad, departs_on=today - timedelta(days=30),
                            status=JourneyStatus.DONE))
        session.add(Journey(contact_id=stopped, departs_on=today + timedelta(days=3),
                            status=JourneyStatus.STOPPED))
    with Session(db) as session:
        def ids(*stages):
            return [row.id for row in session.connection().execute(
                broadcast_audience.recipients({"stages": list(stages)}, today=today))]
        assert ids("planned") == [planned]
        assert ids("abroad") == [abroad]
        assert ids("none") == [stopped, none]


def test_audience_clean_refuses_an_unknown_district():
    with pytest.raises(broadcast_audience.AudienceError, match="atlantis"):
        broadcast_audience.clean({"districts": ["atlantis"]}, districts={"sialkot"},
                                 sources=set())


def test_audience_clean_cuts_each_unknown_value_it_repeats_to_40_characters():
    forged = ["a" * 5000, "b" * 41]
    with pytest.raises(broadcast_audience.AudienceError) as refused:
        broadcast_audience.clean({"districts": forged}, districts={"sialkot"}, sources=set())
    assert str(refused.value) == f"districts: unknown {'a' * 40}, {'b' * 40}"


def test_submit_over_the_threshold_waits_for_a_second_person(db, content, staff, second):
    person(db), person(db)
    alert_id = write(db, content, staff)
    with session_scope(db) as session:
        alert = broadcasts.submit(session, alert_id=alert_id, staff_id=staff, threshold=1,
                                  now=utcnow())
        assert (alert.status, alert.audience_count) == (AlertStatus.AWAITING_APPROVAL, 2)
    with pytest.raises(AlertError, match="another person"):
        approve(db, alert_id, staff)
    approve(db, alert_id, second)
    assert alert_of(db, alert_id).approved_by_staff_id == second


def test_approve_refuses_an_alert_changed_since_the_approver_read_it(db, content, staff,
                                                                      second):
    person(db), person(db)
    alert_id = approved(db, content, staff, threshold=1)  # awaiting a second person
    read = broadcasts.fingerprint(alert_of(db, alert_id))  # the second person opens the page
    with session_scope(db) as session:  # ...and the author rewrites it and submits it again
        broadcasts.edit(session, content, TEMPLATE, alert_id=alert_id, title="Fake Italy visas",
                        texts={**TEXTS, "en": TEXTS["en"].replace("Sialkot", "Gujrat")},
                        audience={}, staff_id=staff)
        broadcasts.submit(session, alert_id=alert_id, staff_id=staff, threshold=1, now=utcnow())
    with pytest.raises(AlertChanged, match="changed since you opened it: read it again"):
        approve(db, alert_id, second, seen=read)
    alert = alert_of(db, alert_id)
    assert (alert.status, alert.approved_by_staff_id) == (AlertStatus.AWAITING_APPROVAL, None)
    approve(db, alert_id, second)  # read again: approved
    assert alert_of(db, alert_id).status == AlertStatus.APPROVED


def test_submit_within_the_threshold_is_ready_to_send(db, content, staff):
    person(db)
    assert alert_of(db, approved(db, content, staff)).status == AlertStatus.APPROVED


def test_edit_after_approval_sends_it_back_to_draft(db, content, staff):
    person(db)
    alert_id = approved(db, content, staff)
    with session_scope(db) as session:
        broadcasts.edit(session, content, TEMPLATE, alert_id=alert_id, title="Italy, Sialkot",
                        texts=TEXTS, audience={"districts": ["sialkot"]}, staff_id=staff)
    assert alert_of(db, alert_id).status == AlertStatus.DRAFT


def test_every_change_writes_an_event(db, content, staff):
    person(db)
    alert_id = sending(db, content, staff)
    with Session(db) as session:
        steps = [(e.from_status, e.to_status) for e in broadcasts.events(session, alert_id)]
    assert steps == [("", "draft"), ("draft", "approved"), ("approved", "sending")]


def test_queue_sends_each_person_the_alert_in_their_language_on_their_channel(
        db, content, staff, settings):
    urdu = person(db, language="ur", channel="whatsapp")
    english = person(db, language="en", channel="sms")
    alert_id = sending(db, content, staff)
    assert queue_all(db, settings, alert_id=alert_id) == 2
    by_contact = {item.contact_id: item for item in items(db, alert_id)}
    assert TEXTS["ur"] in by_contact[urdu].body and by_contact[urdu].channel == "whatsapp"
    assert TEXTS["en"] in by_contact[english].body and by_contact[english].channel == "sms"
    assert by_contact[urdu].template_key == "alert"
    assert by_contact[urdu].template_variables == {"1": TEXTS["ur"]}
    assert {item.priority for item in by_contact.values()} == {Priority.ALERT}
    assert {item.kind for item in by_contact.values()} == {broadcasts.KIND}
    assert alert_of(db, alert_id).status == AlertStatus.SENT


def test_queue_in_batches_resumes_and_never_queues_anyone_twice(db, content, staff, settings):
    people = [person(db) for _ in range(5)]
    alert_id = sending(db, content, staff)
    with session_scope(db) as session:
        first = queue_batch(session, settings, alert_id=alert_id, now=utcnow(), size=2)
    assert (first.queued, first.done) == (2, False)
    queue_all(db, settings, alert_id=alert_id, size=2)
    queue_all(db, settings, alert_id=alert_id, size=2)  # run again: nothing more
    assert sorted(item.contact_id for item in items(db, alert_id)) == people
    assert alert_of(db, alert_id).queued == 5


def test_queue_by_two_workers_at_once_reaches_each_person_once(db, content, staff, settings):
    people = [person(db) for _ in range(40)]
    alert_id = sending(db, content, staff)
    workers = [threading.Thread(target=queue_all, args=(db, settings),
                                kwargs={"alert_id": alert_id, "size": 3}) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(item.contact_id for item in items(db, alert_id)) == people


def test_queue_holds_the_alert_through_the_persons_night(db, content, staff, settings):
    person(db, timezone="Asia/Karachi")
    alert_id = sending(db, content, staff)
    night = datetime(2026, 12, 3, 18, 30, tzinfo=utcnow().tzinfo)  # 23:30 in Pakistan
    with session_scope(db) as session:
        queue_batch(session, settings, alert_id=alert_id, now=night)
    (item,) = items(db, alert_id)
    assert item.next_attempt_at.replace(tzinfo=night.tzinfo) == datetime(
        2026, 12, 4, 3, 0, tzinfo=night.tzinfo)  # 08:00 in Pakistan


def test_scheduled_alert_is_queued_by_the_job_at_its_time(db, content, staff, settings):
    person(db), person(db)
    alert_id = approved(db, content, staff)
    when = utcnow() + timedelta(hours=2)
    with session_scope(db) as session:
        broadcasts.schedule(session, alert_id=alert_id, staff_id=staff, threshold=1000,
                            when=when, now=utcnow())
    handlers = job_handlers(settings)
    assert run_due(db, handlers) == 0 and items(db, alert_id) == []
    run_due(db, handlers, now=when + timedelta(seconds=1))
    assert len(items(db, alert_id)) == 2
    assert alert_of(db, alert_id).status == AlertStatus.SENT


def schedule(db, alert_id, staff_id, when, now=None) -> None:
    with session_scope(db) as session:
        broadcasts.schedule(session, alert_id=alert_id, staff_id=staff_id, threshold=2,
                            when=when, now=now or utcnow())


def test_scheduled_alert_whose_audience_grew_waits_for_a_second_person(
        db, content, staff, second, settings):
    person(db), person(db)
    settings.alert_approval_threshold = 2
    alert_id = approved(db, content, staff, threshold=2)  # within the threshold: one person
    schedule(db, alert_id, staff, when := utcnow() + timedelta(hours=2))
    person(db)  # a third says yes before its time
    run_due(db, job_handlers(settings), now=when + timedelta(seconds=1))
    with Session(db) as session:
        last = broadcasts.events(session, alert_id)[-1]
    assert items(db, alert_id) == [] and last.staff_id is None
    assert (last.from_status, last.to_status) == ("scheduled", AlertStatus.AWAITING_APPROVAL)
    assert "grown to 3 people" in last.note and "second person" in last.note
    approve(db, alert_id, second)  # with a second person's approval it goes to all three
    schedule(db, alert_id, staff, when := utcnow() + timedelta(hours=3))
    run_due(db, job_handlers(settings), now=when + timedelta(seconds=1))
    assert len(items(db, alert_id)) == 3


def test_schedule_refuses_a_time_more_than_30_days_ahead(db, content, staff):
    person(db)
    alert_id, now = approved(db, content, staff), utcnow()
    with pytest.raises(AlertError, match="at most 30 days ahead"):
        schedule(db, alert_id, staff, now + timedelta(days=30, minutes=1), now=now)
    assert alert_of(db, alert_id).status == AlertStatus.APPROVED
    schedule(db, alert_id, staff, now + timedelta(days=30), now=now)
    assert alert_of(db, alert_id).status == AlertStatus.SCHEDULED


def test_cancel_withdraws_queued_messages_and_the_worker_never_sends_them(
        db, content, staff, settings):
    person(db), person(db)
    alert_id = sending(db, content, staff)
    queue_all(db, settings, alert_id=alert_id)
    with session_scope(db) as session:
        assert broadcasts.cancel(session, alert_id=alert_id, staff_id=staff) == 2
    sent = []
    assert send_due(db, lambda to, channel, body, **kw: sent.append(to) or "SM1") == 0
    assert sent == [] and {i.status for i in items(db, alert_id)} == {Status.CANCELLED}


def test_cancel_midway_stops_the_batches(db, content, staff, settings):
    for _ in range(4):
        person(db)
    alert_id = sending(db, content, staff)
    with session_scope(db) as session:
        queue_batch(session, settings, alert_id=alert_id, now=utcnow(), size=2)
    with session_scope(db) as session:
        broadcasts.cancel(session, alert_id=alert_id, staff_id=staff)
    assert queue_all(db, settings, alert_id=alert_id, size=2) == 0
    assert len(items(db, alert_id)) == 2


def test_withdraw_queued_keeps_a_stopped_persons_alerts_from_going(db, content, staff,
                                                                     settings):
    stopper, other = person(db), person(db)
    alert_id = sending(db, content, staff)
    queue_all(db, settings, alert_id=alert_id)
    with session_scope(db) as session:
        assert broadcasts.withdraw_queued(session, contact_id=stopper) == 1
    statuses = {item.contact_id: item.status for item in items(db, alert_id)}
    assert statuses == {stopper: Status.CANCELLED, other: Status.QUEUED}


def test_figures_count_delivery_and_replies_within_48_hours(db, content, staff, settings):
    replied, late, quiet = person(db), person(db), person(db)
    alert_id = sending(db, content, staff)
    queue_all(db, settings, alert_id=alert_id)
    sids = iter(f"SMalert{n}" for n in range(10))
    send_due(db, lambda to, channel, body, **kw: next(sids))
    sent = {item.contact_id: item for item in items(db, alert_id)}
    with session_scope(db) as session:
        record_status(session, sid=sent[replied].sid, status="read")
        record_status(session, sid=sent[late].sid, status="delivered")
        record_status(session, sid=sent[quiet].sid, status="undelivered", error="30003")
        for contact_id, after in ((replied, timedelta(hours=3)), (late, timedelta(hours=50))):
            session.add(Message(contact_id=contact_id, channel="whatsapp", body="shukriya",
                                direction=Direction.IN,
                                created_at=sent[contact_id].sent_at + after))
    with Session(db) as session:
        found = figures(session, alert_id)
    assert (found.queued, found.sent, found.delivered, found.read, found.failed) == \
        (3, 3, 2, 1, 1)
    assert found.replies == 1 and found.waiting == 0 and found.cancelled == 0


def test_figures_count_people_who_stopped_alerts_after_it(db, content, staff, settings):
    stopper = person(db)
    person(db)
    alert_id = sending(db, content, staff)
    queue_all(db, settings, alert_id=alert_id)
    with session_scope(db) as session:
        record(session, contact_id=stopper, topic=Topic.ALERTS, given=False,
               wording="STOP ALERTS", channel="whatsapp")
    with Session(db) as session:
        assert figures(session, alert_id).opted_out == 1


def test_alert_events_name_the_worker_as_nobody(db, content, staff, settings):
    person(db)
    alert_id = sending(db, content, staff)
    queue_all(db, settings, alert_id=alert_id)
    with Session(db) as session:
        last = session.exec(select(AlertEvent).where(AlertEvent.alert_id == alert_id)
                            .order_by(AlertEvent.id.desc())).first()
    assert (last.to_status, last.staff_id) == (AlertStatus.SENT, None)
