"""Retention and the right to be forgotten."""

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlmodel import Session, func, select

from bot.casework.evidence import Evidence
from bot.casework.privacy import apply_retention, forget_and_scrub, forget_contact
from bot.casework.referrals import Referral, ReferralEvent, Status, change_status
from bot.conversation.contacts import Contact, Message, utcnow
from bot.conversation.inbox import receive
from bot.db import get_engine, session_scope
from tests.factories import inbound


def file_complaint(db, bot, phone):
    for answer in ["5", "haan", "1", "agent ne paise le liye", "skip", "skip", "Lahore", "1",
                   "1"]:
        receive(db, bot, inbound(answer, phone=phone))


def age_all_messages(db, days):
    with session_scope(db) as session:
        for message in session.exec(select(Message)):
            message.created_at = utcnow() - timedelta(days=days)


def test_retention_erases_old_bodies_but_keeps_open_cases(db, bot):
    receive(db, bot, inbound("agent kitni fees le sakta hai", phone="+923001111111"))
    file_complaint(db, bot, "+923002222222")
    age_all_messages(db, 400)
    with session_scope(db) as session:
        erased = apply_retention(session, days=365)
    with Session(db) as session:
        bodies = {(m.contact_id, m.body) for m in session.exec(select(Message))}
        asker = session.exec(select(Contact).where(Contact.phone == "+923001111111")).one()
    assert erased == 2  # the question and its answer
    assert all(body == "" for contact_id, body in bodies if contact_id == asker.id)
    assert any(body for contact_id, body in bodies if contact_id != asker.id)


def test_retention_erases_a_closed_case_too(db, bot):
    file_complaint(db, bot, "+923002222222")
    with session_scope(db) as session:
        referral = session.exec(select(Referral)).one()
        change_status(session, referral, Status.CLOSED, actor="staff:1")
    age_all_messages(db, 400)
    with session_scope(db) as session:
        assert apply_retention(session, days=365) > 0


def test_forget_erases_everything_about_a_person(db, bot, tmp_path):
    file_complaint(db, bot, "+923002222222")
    receive(db, bot, inbound("hello", phone="+923003333333"))
    photo = tmp_path / "1.jpg"
    photo.write_bytes(b"jpeg")
    with session_scope(db) as session:
        contact = session.exec(select(Contact).where(Contact.phone == "+923002222222")).one()
        session.add(Evidence(contact_id=contact.id, url="x", content_type="image/jpeg",
                             status="stored", path=str(photo)))
    with session_scope(db) as session:
        counts = forget_contact(session, "+923002222222")
    assert counts["referrals"] == 1 and counts["evidence"] == 1 and counts["messages"] > 0
    assert not photo.exists()
    with Session(db) as session:
        assert session.exec(select(func.count()).select_from(Referral)).one() == 0
        assert session.exec(select(func.count()).select_from(ReferralEvent)).one() == 0
        phones = [c.phone for c in session.exec(select(Contact))]
    assert phones == ["+923003333333"]  # the other person is untouched


def test_forget_erases_what_outreach_keeps_about_a_person(db, bot):
    """Journeys, check-ins, pending reminders, consents, licence watches and source touches
    belong to the person too; on PostgreSQL they would also block deleting the contact."""
    from datetime import date

    from bot.messaging.scheduler import Job, JobStatus, schedule
    from bot.outreach.consent import Consent, Topic, record
    from bot.outreach.journeys import CheckIn, Journey
    from bot.outreach.licence_watch import LicenceWatch
    from bot.outreach.sources import Source, SourceTouch, attribute

    file_complaint(db, bot, "+923002222222")
    with session_scope(db) as session:
        person = session.exec(select(Contact).where(Contact.phone == "+923002222222")).one()
        journey = Journey(contact_id=person.id, country="Saudi Arabia", departs_on=date(2027, 3, 1))
        source = Source(code="SLK1", kind="changemaker", name="Shazia")
        session.add_all([journey, source, LicenceWatch(contact_id=person.id, licence_no="1/LHR")])
        session.flush()
        referral = session.exec(select(Referral)).one()
        session.add(CheckIn(journey_id=journey.id, contact_id=person.id, referral_id=referral.id))
        schedule(session, kind="journey_checkin", subject=f"journey:{journey.id}",
                 due_at=utcnow(), contact_id=person.id)
        schedule(session, kind="journey_reminder", subject=f"journey:{journey.id}",
                 due_at=utcnow())
        record(session, contact_id=person.id, topic=Topic.ALERTS, given=True, wording="1 Haan",
               channel="whatsapp")
        attribute(session, contact=person, source=source, new_contact=True)
    with session_scope(db) as session:
        forget_contact(session, "+923002222222")
    with Session(db) as session:
        for table in (Journey, CheckIn, Consent, LicenceWatch, SourceTouch, Contact):
            assert session.exec(select(func.count()).select_from(table)).one() == 0, table
        assert session.exec(select(Job.status)).one() == JobStatus.CANCELLED


def test_forget_unknown_number_changes_nothing(db):
    with session_scope(db) as session:
        assert forget_contact(session, "+920000000999") == {}


def test_forget_leaves_no_trace_in_the_sqlite_files(db, bot, database_url):
    """secure_delete zeroes the freed pages and the checkpoint empties the write-ahead log: the
    raw bytes of the database and its -wal file no longer hold the number or the story."""
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's files are the server's; VACUUM is the README's advice there")
    phone = "+923009871234"  # used by no other test: the shared file must not hold it already
    story = "Qadeer Overseas ne mera passport rakh liya"
    file_complaint(db, bot, "+923002222222")  # someone who stays: pages are not emptied
    for answer in ["5", "haan", "1", story, "skip", "skip", "Lahore", "1", "1"]:
        receive(db, bot, inbound(answer, phone=phone))
    file_complaint(db, bot, "+923003333333")
    path = Path(make_url(database_url).database)
    wal = path.with_name(path.name + "-wal")
    assert phone.encode() in path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    assert forget_and_scrub(db, phone)["referrals"] == 1
    raw = path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    assert phone[1:].encode() not in raw and story.encode() not in raw


def test_sqlite_connections_overwrite_deleted_rows(tmp_path):
    """Every connection asks for secure_delete (some SQLite builds default to it, most do not;
    a build that does would hide a missing PRAGMA from the test above)."""
    executed: list[str] = []

    class Cursor:
        def execute(self, sql: str) -> None:
            executed.append(sql)

        def close(self) -> None:
            pass

    class Connection:
        isolation_level = ""

        def cursor(self) -> Cursor:
            return Cursor()

    engine = get_engine(f"sqlite:///{tmp_path / 'pragmas.db'}")
    ours = [fn for fn in engine.pool.dispatch.connect if fn.__name__ == "_on_connect"]
    assert ours, "bot.db no longer prepares SQLite connections in _on_connect"
    for on_connect in ours:
        on_connect(Connection(), None)
    assert "PRAGMA secure_delete=ON" in executed
