"""Issue 14 on the dashboard: a case changed there reaches the worker, a licence upload says
how many alerts it queued, and the impact page counts reminders, check-ins, alerts and the
complaints that followed them."""

from datetime import date, timedelta

import pytest
from sqlmodel import Session, select

from api.main import create_app
from bot.casework.referrals import Referral
from bot.casework.staff import Role
from bot.conversation.contacts import Contact, utcnow
from bot.db import session_scope
from bot.messaging.outbox import Outbox, Priority
from bot.outreach.journeys import CheckIn, Journey
from bot.outreach.licence_watch import LicenceWatch
from tests.api.staff_helpers import make_case, make_staff, signed_in
from tests.api.test_staff_dashboard import impact_csv_rows


@pytest.fixture
def app(settings, bot, db, tmp_path):
    settings.evidence_dir = tmp_path / "evidence"
    return create_app(settings, bot)


def outbox(db, kind="case_update") -> list[Outbox]:
    with Session(db) as session:
        return list(session.exec(select(Outbox).where(Outbox.kind == kind)))


def test_case_update_status_change_on_the_dashboard_reaches_the_worker(app, db, content):
    make_staff(db, "ayesha@mrc.example")
    case = make_case(db, language="ps")
    client, csrf = signed_in(app, "ayesha@mrc.example")
    client.post(f"/staff/cases/{case.reference}/status",
                data={"csrf_token": csrf, "to": "referred", "referred_to": "fia",
                      "reason": "trafficking signs"})
    [item] = outbox(db)
    assert item.body == content.text("case_update_referred", "ps", reference=case.reference,
                                     office=content.text("case_office_fia", "ps"))
    assert (item.referral_id, item.priority, item.channel) == (
        case.id, Priority.CASE_UPDATE, "whatsapp")


def test_case_update_note_on_the_dashboard_only_when_marked_for_the_worker(app, db):
    make_staff(db, "ayesha@mrc.example")
    case = make_case(db)
    client, csrf = signed_in(app, "ayesha@mrc.example")
    client.post(f"/staff/cases/{case.reference}/note",
                data={"csrf_token": csrf, "note": "agent's number is switched off"})
    assert outbox(db) == []
    client.post(f"/staff/cases/{case.reference}/note",
                data={"csrf_token": csrf, "note": "We called OPF", "for_worker": "on"})
    [item] = outbox(db)
    assert "We called OPF" in item.body and case.reference in item.body


def test_licence_upload_says_how_many_alerts_it_queued(app, db):
    make_staff(db, "admin@mrc.example", role=Role.ADMIN)
    case = make_case(db)  # someone who wrote to us, and checked 0848/LHR last week
    with session_scope(db) as session:
        session.add(LicenceWatch(contact_id=session.get(Referral, case.id).contact_id,
                                 licence_no="0848/LHR", status_told="valid",
                                 last_checked_at=utcnow() - timedelta(days=7)))
    client, csrf = signed_in(app, "admin@mrc.example")
    for status, expected in (("valid", "0 licence alerts queued"),
                             ("suspended", "1 licence alerts queued"),
                             ("suspended", "0 licence alerts queued")):
        page = client.post("/staff/licences", data={"csrf_token": csrf}, files={
            "file": ("beoe.csv", f"licence_no,name,status\n0848/LHR,Ravi Manpower,{status}\n",
                     "text/csv")}).text
        assert expected in page
    assert len(outbox(db, "licence_alert")) == 1


# --- impact -----------------------------------------------------------------------------------

def outreach_of(db, phone: str, *, centre: str, test: bool = False) -> None:
    """A person reached first: two reminders, a licence alert and three check-ins sent (and a
    reminder still queued), three check-ins answered (one fine, two problems) and one not; two
    complaints, 5 and 6 days after the alert and about 20 after the check-in problems."""
    case = make_case(db, phone=phone, centre=centre)
    later = make_case(db, phone=phone, centre=centre)
    now = utcnow()
    with session_scope(db) as session:
        contact = session.exec(select(Contact).where(Contact.phone == phone)).one()
        contact.is_test = test
        for kind, days_ago in (("reminder", 20), ("licence_alert", 10), ("reminder", 1),
                               ("checkin", 29), ("checkin", 26), ("checkin", 25)):
            session.add(Outbox(contact_id=contact.id, channel="whatsapp", body="-", kind=kind,
                               status="delivered", sent_at=now - timedelta(days=days_ago)))
        session.add(Outbox(contact_id=contact.id, channel="whatsapp", body="-",
                           kind="reminder"))  # queued, never sent: not counted
        journey = Journey(contact_id=contact.id, departs_on=date(2026, 1, 1))
        session.add(journey)
        session.flush()
        for answer, days_ago in (("paid", 28), ("underpaid", 25), ("different_job", 24),
                                 ("", None)):
            session.add(CheckIn(journey_id=journey.id, contact_id=contact.id, answer=answer,
                                answered_at=now - timedelta(days=days_ago)
                                if days_ago else None))
        session.get(Referral, case.id).created_at = now - timedelta(days=5)
        session.get(Referral, later.id).created_at = now - timedelta(days=4)


def test_impact_counts_outreach_and_the_complaints_that_followed(app, db):
    make_staff(db, "admin@mrc.example", role=Role.ADMIN)
    outreach_of(db, "+923001110001", centre="mrc-lahore")
    outreach_of(db, "+920000000001", centre="mrc-lahore", test=True)  # the simulator's
    client, _ = signed_in(app, "admin@mrc.example")
    rows = impact_csv_rows(client)
    assert rows[("reminders_sent", "")] == "2" and rows[("alerts_sent", "")] == "1"
    assert rows[("checkins_answered", "")] == "3" and rows[("checkin_problems", "")] == "2"
    assert rows[("checkins_sent", "")] == "3"
    # Both complaints came within 14 days of the alert (10 days ago); the check-in problems
    # (24-25 days ago) are too long before either.
    assert rows[("complaints_after_outreach", "")] == "2"
    assert (rows[("follow_up_days", "")], rows[("outreach_centre", "")]) == ("14", "all")
    page = client.get("/staff/impact").text
    assert 'id="alerts-sent">1<' in page and 'id="checkin-problems">2<' in page
    assert 'id="complaints-after-outreach">2<' in page and "within 14 days" in page


def test_impact_complaints_after_a_problem_check_in(app, db):
    make_staff(db, "admin@mrc.example", role=Role.ADMIN)
    case = make_case(db)
    with session_scope(db) as session:
        contact_id = session.get(Referral, case.id).contact_id
        journey = Journey(contact_id=contact_id, departs_on=date(2026, 1, 1))
        session.add(journey)
        session.flush()
        session.add(CheckIn(journey_id=journey.id, contact_id=contact_id, answer="underpaid",
                            answered_at=utcnow() - timedelta(days=3)))
    client, _ = signed_in(app, "admin@mrc.example")
    assert impact_csv_rows(client)[("complaints_after_outreach", "")] == "1"


def test_impact_outreach_counts_every_centre_complaints_only_their_own(app, db):
    make_staff(db, "ayesha@mrc.example", centre="mrc-peshawar")
    outreach_of(db, "+923001110001", centre="mrc-lahore")
    client, _ = signed_in(app, "ayesha@mrc.example")
    rows = impact_csv_rows(client)
    assert rows[("alerts_sent", "")] == "1" and rows[("checkins_answered", "")] == "3"
    assert rows[("complaints_after_outreach", "")] == "0"
