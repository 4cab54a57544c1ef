"""The staff dashboard over HTTP: accounts, access, the queue, case work, admin pages."""

import pytest
from sqlmodel import Session, select

from api.main import create_app
from bot.casework.evidence import Evidence
from bot.casework.referrals import Referral, ReferralEvent
from bot.casework.staff import Role
from bot.db import session_scope
from bot.messaging.outbox import Outbox
from tests.api.staff_helpers import (
    PASSWORD,
    browser,
    login,
    make_case,
    make_staff,
    signed_in,
)


@pytest.fixture
def app(settings, bot, db, tmp_path):
    settings.evidence_dir = tmp_path / "evidence"
    return create_app(settings, bot)


def test_staff_pages_need_a_login(app):
    response = browser(app).get("/staff/queue", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/staff/login"


def test_staff_login_sets_a_safe_session_cookie(app, db):
    make_staff(db, "ayesha@mrc.example")
    response = login(browser(app), "ayesha@mrc.example")
    cookie = response.headers["set-cookie"].lower()
    assert response.status_code == 303 and "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" in cookie


def test_staff_wrong_password_is_refused(app, db):
    make_staff(db, "ayesha@mrc.example")
    assert login(browser(app), "ayesha@mrc.example", "wrong password!").status_code == 401


def test_staff_lockout_after_repeated_failures(app, db):
    make_staff(db, "ayesha@mrc.example")
    client = browser(app)
    for _ in range(5):
        login(client, "ayesha@mrc.example", "wrong password!")
    response = login(client, "ayesha@mrc.example")  # right password, but locked
    assert response.status_code == 401 and "too many failed attempts" in response.text


def test_staff_post_without_csrf_token_is_refused(app, db):
    make_staff(db, "ayesha@mrc.example")
    case = make_case(db)
    client, _ = signed_in(app, "ayesha@mrc.example")
    assert client.post(f"/staff/cases/{case.reference}/claim", data={}).status_code == 403


def test_staff_logout_ends_the_session(app, db):
    make_staff(db, "ayesha@mrc.example")
    client, csrf = signed_in(app, "ayesha@mrc.example")
    client.post("/staff/logout", data={"csrf_token": csrf})
    assert client.get("/staff/queue", follow_redirects=False).status_code == 303


def test_staff_password_change_needs_the_current_one(app, db):
    make_staff(db, "ayesha@mrc.example")
    client, csrf = signed_in(app, "ayesha@mrc.example")
    bad = client.post("/staff/password", data={"csrf_token": csrf, "current": "nope",
                                               "new": "a new long password"})
    assert "current password is wrong" in bad.text
    client.post("/staff/password", data={"csrf_token": csrf, "current": PASSWORD,
                                         "new": "a new long password"})
    assert login(browser(app), "ayesha@mrc.example", "a new long password").status_code == 303


def test_caseworker_sees_only_own_centre_in_queue(app, db):
    make_staff(db, "ayesha@mrc.example", centre="mrc-lahore")
    mine, other = make_case(db, centre="mrc-lahore"), make_case(db, centre="mrc-peshawar")
    client, _ = signed_in(app, "ayesha@mrc.example")
    page = client.get("/staff/queue").text
    assert f"/staff/cases/{mine.reference}" in page
    assert f"/staff/cases/{other.reference}" not in page


def test_caseworker_cannot_open_another_centres_case_by_url(app, db):
    make_staff(db, "ayesha@mrc.example", centre="mrc-lahore")
    other = make_case(db, centre="mrc-peshawar")
    client, csrf = signed_in(app, "ayesha@mrc.example")
    assert client.get(f"/staff/cases/{other.reference}").status_code == 404
    assert client.post(f"/staff/cases/{other.reference}/claim",
                       data={"csrf_token": csrf}).status_code == 404


def test_caseworker_cannot_download_another_centres_evidence(app, db, settings):
    make_staff(db, "ayesha@mrc.example", centre="mrc-lahore")
    other = make_case(db, centre="mrc-peshawar")
    settings.evidence_dir.mkdir(parents=True)
    path = settings.evidence_dir / "1.jpg"
    path.write_bytes(b"jpeg")
    with session_scope(db) as session:
        referral = session.get(Referral, other.id)
        evidence = Evidence(contact_id=referral.contact_id, referral_id=other.id, url="x",
                            content_type="image/jpeg", status="stored", path=str(path))
        session.add(evidence)
        session.flush()
        evidence_id = evidence.id
    url = f"/staff/cases/{other.reference}/evidence/{evidence_id}"
    client, _ = signed_in(app, "ayesha@mrc.example")
    assert client.get(url).status_code == 404
    make_staff(db, "bilal@mrc.example", centre="mrc-peshawar")
    peshawar, _ = signed_in(app, "bilal@mrc.example")
    assert peshawar.get(url).content == b"jpeg"


def test_admin_sees_every_centre(app, db):
    make_staff(db, "admin@mrc.example", role=Role.ADMIN)
    other = make_case(db, centre="mrc-peshawar")
    client, _ = signed_in(app, "admin@mrc.example")
    assert client.get(f"/staff/cases/{other.reference}").status_code == 200


def test_claim_then_second_claim_is_told_it_is_taken(app, db):
    make_staff(db, "ayesha@mrc.example")
    make_staff(db, "bilal@mrc.example")
    case = make_case(db)
    first, csrf1 = signed_in(app, "ayesha@mrc.example")
    second, csrf2 = signed_in(app, "bilal@mrc.example")
    first.post(f"/staff/cases/{case.reference}/claim", data={"csrf_token": csrf1})
    response = second.post(f"/staff/cases/{case.reference}/claim", data={"csrf_token": csrf2})
    assert "Someone else already holds this case" in response.text


def test_status_change_with_reason_is_on_the_timeline(app, db):
    make_staff(db, "ayesha@mrc.example")
    case = make_case(db)
    client, csrf = signed_in(app, "ayesha@mrc.example")
    client.post(f"/staff/cases/{case.reference}/status",
                data={"csrf_token": csrf, "to": "referred", "referred_to": "protector",
                      "reason": "agent is licensed in Lahore"})
    with Session(db) as session:
        referral = session.get(Referral, case.id)
        assert (referral.status, referral.referred_to) == ("referred", "protector")
    assert "agent is licensed in Lahore" in client.get(f"/staff/cases/{case.reference}").text


def test_disallowed_status_change_gets_400(app, db):
    make_staff(db, "ayesha@mrc.example")
    case = make_case(db)
    client, csrf = signed_in(app, "ayesha@mrc.example")
    response = client.post(f"/staff/cases/{case.reference}/status",
                           data={"csrf_token": csrf, "to": "resolved", "reason": "x"})
    assert response.status_code == 400


def test_supervisor_assigns_within_centre_caseworker_cannot(app, db):
    make_staff(db, "sara@mrc.example", role=Role.SUPERVISOR)
    worker = make_staff(db, "ayesha@mrc.example")
    case = make_case(db)
    caseworker, csrf = signed_in(app, "ayesha@mrc.example")
    assert caseworker.post(f"/staff/cases/{case.reference}/assign",
                           data={"csrf_token": csrf, "staff_id": worker}).status_code == 403
    supervisor, csrf = signed_in(app, "sara@mrc.example")
    supervisor.post(f"/staff/cases/{case.reference}/assign",
                    data={"csrf_token": csrf, "staff_id": worker})
    with Session(db) as session:
        assert session.get(Referral, case.id).assignee_id == worker


def test_reply_is_queued_in_the_outbox_with_a_canned_text(app, db, content):
    make_staff(db, "ayesha@mrc.example")
    case = make_case(db)
    client, csrf = signed_in(app, "ayesha@mrc.example")
    client.post(f"/staff/cases/{case.reference}/reply", data={"csrf_token": csrf,
                                                     "canned": "canned_send_documents"})
    with Session(db) as session:
        [item] = session.exec(select(Outbox)).all()
        reference = case.reference
    assert item.body == content.text("canned_send_documents", "ur-Latn", reference=reference)
    assert item.status == "queued" and item.template_sid is None


def test_reply_outside_whatsapp_window_needs_a_template(app, db, settings):
    make_staff(db, "ayesha@mrc.example")
    case = make_case(db)
    with session_scope(db) as session:
        from datetime import timedelta

        from bot.conversation.contacts import Message, utcnow

        for message in session.exec(select(Message)):
            message.created_at = utcnow() - timedelta(hours=30)
    client, csrf = signed_in(app, "ayesha@mrc.example")
    assert "only allows an approved template" in client.get(f"/staff/cases/{case.reference}").text
    response = client.post(f"/staff/cases/{case.reference}/reply", data={"csrf_token": csrf,
                                                                "body": "salam"})
    assert response.status_code == 409
    settings.twilio_whatsapp_template_sid = "HX" + "0" * 32
    client.post(f"/staff/cases/{case.reference}/reply", data={"csrf_token": csrf, "body": "salam"})
    with Session(db) as session:
        item = session.exec(select(Outbox)).one()
    assert item.template_sid == settings.twilio_whatsapp_template_sid


def test_note_for_worker_is_marked(app, db):
    make_staff(db, "ayesha@mrc.example")
    case = make_case(db)
    client, csrf = signed_in(app, "ayesha@mrc.example")
    client.post(f"/staff/cases/{case.reference}/note",
                data={"csrf_token": csrf, "note": "We called OPF", "for_worker": "on"})
    with Session(db) as session:
        note = session.exec(select(ReferralEvent).where(ReferralEvent.for_worker)).one()
    assert note.note == "We called OPF"


def test_queue_search_by_reference_and_overdue_flag(app, db):
    make_staff(db, "ayesha@mrc.example")
    case = make_case(db)
    with session_scope(db) as session:
        from datetime import timedelta

        from bot.conversation.contacts import utcnow

        referral = session.get(Referral, case.id)
        referral.created_at = utcnow() - timedelta(hours=72)
        reference = referral.reference
    client, _ = signed_in(app, "ayesha@mrc.example")
    page = client.get(f"/staff/queue?q={reference}").text
    assert reference in page and "overdue" in page
    assert reference not in client.get("/staff/queue?q=XXXXXX").text


def test_admin_uploads_licence_list_and_sees_history(app, db):
    make_staff(db, "admin@mrc.example", role=Role.ADMIN)
    client, csrf = signed_in(app, "admin@mrc.example")
    csv_text = "licence_no,name,city,status\n0848/LHR,Ravi Manpower,Lahore,valid\n"
    response = client.post("/staff/licences", data={"csrf_token": csrf},
                           files={"file": ("beoe.csv", csv_text, "text/csv")})
    assert "1 added" in response.text and "beoe.csv" in response.text


def test_caseworker_cannot_reach_admin_pages(app, db):
    make_staff(db, "ayesha@mrc.example")
    client, _ = signed_in(app, "ayesha@mrc.example")
    assert client.get("/staff/licences").status_code == 403
    assert client.get("/staff/accounts").status_code == 403


def test_impact_page_and_csv(app, db):
    make_staff(db, "ayesha@mrc.example")
    make_case(db)
    client, _ = signed_in(app, "ayesha@mrc.example")
    page = client.get("/staff/impact").text
    assert 'id="people-reached">1<' in page and "<svg" in page
    csv_text = client.get("/staff/impact.csv").text
    assert "complaints_by_category,money_no_job,1" in csv_text


def test_simulator_talks_to_the_same_engine(app, db, content, fake_nlu):
    make_staff(db, "ayesha@mrc.example")
    client, csrf = signed_in(app, "ayesha@mrc.example")
    page = client.post("/staff/simulator", data={"csrf_token": csrf, "text": "0",
                                                 "channel": "whatsapp"}).text
    assert "Fees aur adaigi" in page or content.text("menu", "ur-Latn")[:10] in page


def test_admin_switches_an_account_off_and_it_is_signed_out(app, db):
    make_staff(db, "admin@mrc.example", role=Role.ADMIN)
    worker = make_staff(db, "ayesha@mrc.example")
    ayesha, _ = signed_in(app, "ayesha@mrc.example")
    admin, csrf = signed_in(app, "admin@mrc.example")
    admin.post(f"/staff/accounts/{worker}/active", data={"csrf_token": csrf})
    assert ayesha.get("/staff/queue", follow_redirects=False).status_code == 303
    assert login(browser(app), "ayesha@mrc.example").status_code == 401


def test_case_page_says_why_the_case_went_to_its_centre(app, db):
    make_staff(db, "ayesha@mrc.example", centre="mrc-lahore")
    case = make_case(db, centre="mrc-lahore", location_country="Saudi Arabia",
                     priority="urgent", phone="+923001113333")
    client, _ = signed_in(app, "ayesha@mrc.example")
    page = client.get(f"/staff/cases/{case.reference}").text
    assert "home district gujrat is served by Migrant Resource Centre, Lahore" in page
    assert "Abroad in: Saudi Arabia" in page and "URGENT" in page


def test_queue_lists_urgent_cases_first(app, db):
    make_staff(db, "ayesha@mrc.example", centre="mrc-lahore")
    older = make_case(db, centre="mrc-lahore", phone="+923001114444")
    urgent = make_case(db, centre="mrc-lahore", phone="+923001115555", priority="urgent")
    client, _ = signed_in(app, "ayesha@mrc.example")
    page = client.get("/staff/queue?view=open").text
    assert page.index(f"/staff/cases/{urgent.reference}") < \
        page.index(f"/staff/cases/{older.reference}")


def impact_csv_rows(client, query: str = "") -> dict[tuple[str, str], str]:
    lines = client.get(f"/staff/impact.csv{query}").text.strip().splitlines()[1:]
    return {(measure, key): value for measure, key, value in
            (line.split(",", 2) for line in lines)}


def test_simulator_conversations_are_left_out_of_impact(app, db, fake_nlu):
    make_staff(db, "ayesha@mrc.example")
    client, csrf = signed_in(app, "ayesha@mrc.example")
    for text in ("fees kitni hai", "0"):
        client.post("/staff/simulator", data={"csrf_token": csrf, "text": text,
                                              "channel": "whatsapp"})
    rows = impact_csv_rows(client)
    assert rows[("people_reached", "")] == "0" and rows[("messages_in", "")] == "0"
    make_case(db)  # a real worker's message and complaint
    rows = impact_csv_rows(client)
    assert rows[("people_reached", "")] == "1" and rows[("messages_in", "")] == "1"


def test_caseworker_impact_counts_their_centre_and_labels_the_totals(app, db):
    make_staff(db, "ayesha@mrc.example", centre="mrc-lahore")
    make_staff(db, "admin@mrc.example", role=Role.ADMIN)
    make_case(db, centre="mrc-lahore", phone="+923001110001")
    make_case(db, centre="mrc-peshawar", phone="+923001110002")
    make_case(db, centre="mrc-peshawar", phone="+923001110003")
    caseworker, _ = signed_in(app, "ayesha@mrc.example")
    for query in ("", "?centre=all", "?centre=mrc-peshawar"):  # a caseworker cannot widen it
        rows = impact_csv_rows(caseworker, query)
        assert rows[("complaints_centre", "")] == "mrc-lahore"
        assert rows[("complaints_by_category", "money_no_job")] == "1"
        assert rows[("people_reached", "")] == "3"  # messages: every centre, and labelled so
    page = caseworker.get("/staff/impact").text
    assert "Complaints at Migrant Resource Centre, Lahore" in page
    assert "All centres" in page and 'name="centre"' not in page
    admin, _ = signed_in(app, "admin@mrc.example")
    assert impact_csv_rows(admin)[("complaints_by_category", "money_no_job")] == "3"
    chosen = impact_csv_rows(admin, "?centre=mrc-peshawar")
    assert chosen[("complaints_by_category", "money_no_job")] == "2"
    assert admin.get("/staff/impact.csv?centre=nowhere").status_code == 400
