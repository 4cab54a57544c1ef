"""Sources on the dashboard: making one, its card, links and QR downloads, who may see which,
and the changemaker's referral and session forms (a changemaker sees nothing personal)."""

from urllib.parse import quote

import pytest
from markupsafe import escape
from sqlmodel import Session, select

from api.main import create_app
from bot.casework.referrals import Referral
from bot.casework.staff import Role
from bot.conversation.contacts import Contact
from bot.db import session_scope
from bot.messaging.outbox import Outbox
from bot.outreach.sources import OutreachSession, Source, SourceKind
from tests.api.staff_helpers import browser, csrf_of, login, make_case, make_staff, signed_in

WHATSAPP_FROM = "whatsapp:+14155238886"


@pytest.fixture
def app(settings, bot, db, tmp_path):
    settings.evidence_dir = tmp_path / "evidence"
    settings.twilio_whatsapp_from = WHATSAPP_FROM
    settings.twilio_sms_from = "+14155550100"
    return create_app(settings, bot)


def add_source(db, code="SLK1", *, centre="mrc-lahore", owner=None) -> int:
    with session_scope(db) as session:
        source = Source(code=code, kind=SourceKind.CHANGEMAKER, name=f"{code} sessions",
                        district="sialkot", centre=centre, owner_staff_id=owner)
        session.add(source)
        session.flush()
        return source.id


def changemaker(app, db, email="shazia@mrc.example"):
    """A signed-in changemaker's client and CSRF token (from a page they may open)."""
    make_staff(db, email, role=Role.CHANGEMAKER)
    client = browser(app)
    assert login(client, email).headers["location"] == "/staff/changemaker"
    return client, csrf_of(client.get("/staff/changemaker/refer").text)


def staff_id(db, email) -> int:
    from bot.casework.staff import Staff

    with Session(db) as session:
        return session.exec(select(Staff.id).where(Staff.email == email)).one()


def sources(db) -> list[Source]:
    with Session(db) as session:
        return list(session.exec(select(Source)))


# --- making sources ---------------------------------------------------------------------------

def test_sources_supervisor_makes_one_for_a_changemaker(app, db):
    make_staff(db, "sana@mrc.example", role=Role.SUPERVISOR)
    make_staff(db, "shazia@mrc.example", role=Role.CHANGEMAKER)
    client, csrf = signed_in(app, "sana@mrc.example")
    response = client.post("/staff/sources", data={
        "csrf_token": csrf, "name": "Shazia's sessions", "kind": "changemaker",
        "district": "سیالکوٹ", "owner": str(staff_id(db, "shazia@mrc.example"))},
        follow_redirects=False)
    assert response.headers["location"] == "/staff/sources?made=SLK1"
    [made] = sources(db)
    assert (made.code, made.district, made.centre, made.owner_staff_id) == (
        "SLK1", "sialkot", "mrc-lahore", staff_id(db, "shazia@mrc.example"))
    assert "SLK1" in client.get("/staff/sources?made=SLK1").text


def test_sources_caseworker_cannot_make_a_changemakers_source_for_another_centre(app, db):
    make_staff(db, "ayesha@mrc.example")
    client, csrf = signed_in(app, "ayesha@mrc.example")
    response = client.post("/staff/sources", data={
        "csrf_token": csrf, "name": "Mardan", "kind": "changemaker", "centre": "mrc-peshawar"})
    assert response.status_code == 403 and sources(db) == []


def test_sources_caseworker_cannot_give_a_source_to_a_changemaker(app, db):
    make_staff(db, "ayesha@mrc.example")
    make_staff(db, "shazia@mrc.example", role=Role.CHANGEMAKER)
    client, csrf = signed_in(app, "ayesha@mrc.example")
    response = client.post("/staff/sources", data={
        "csrf_token": csrf, "name": "Shazia", "kind": "changemaker",
        "owner": str(staff_id(db, "shazia@mrc.example"))})
    assert response.status_code == 403 and sources(db) == []


def test_sources_taken_code_is_a_400_that_says_so(app, db):
    make_staff(db, "ayesha@mrc.example")
    add_source(db, "SKT12")
    client, csrf = signed_in(app, "ayesha@mrc.example")
    response = client.post("/staff/sources", data={
        "csrf_token": csrf, "name": "Another", "kind": "centre", "code": "skt12"})
    assert response.status_code == 400 and "already taken" in response.text


def test_sources_caseworker_sees_only_their_centres(app, db):
    make_staff(db, "ayesha@mrc.example")
    add_source(db, "LHR1")
    add_source(db, "PSH1", centre="mrc-peshawar")
    client, _ = signed_in(app, "ayesha@mrc.example")
    page = client.get("/staff/sources").text
    assert "LHR1" in page and "PSH1" not in page
    assert client.get("/staff/sources/PSH1").status_code == 404
    assert client.get("/staff/sources/PSH1/qr.png").status_code == 404


# --- the card ---------------------------------------------------------------------------------

def test_source_page_shows_link_keyword_and_qr(app, db):
    make_staff(db, "ayesha@mrc.example")
    add_source(db, "SLK1")
    client, _ = signed_in(app, "ayesha@mrc.example")
    page = client.get("/staff/sources/SLK1").text
    assert "https://wa.me/14155238886?text=" + quote("رہنما SLK1") in page
    assert "RAHNUMA SLK1" in page and "+14155550100" in page
    assert 'src="/staff/sources/SLK1/qr.svg"' in page


def test_source_qr_png_is_a_png(app, db):
    make_staff(db, "ayesha@mrc.example")
    add_source(db, "SLK1")
    client, _ = signed_in(app, "ayesha@mrc.example")
    response = client.get("/staff/sources/SLK1/qr.png")
    assert response.headers["content-type"] == "image/png"
    assert response.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_source_qr_svg_is_svg(app, db):
    make_staff(db, "ayesha@mrc.example")
    add_source(db, "SLK1")
    client, _ = signed_in(app, "ayesha@mrc.example")
    response = client.get("/staff/sources/SLK1/qr.svg")
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in response.text and "<script" not in response.text


def test_source_card_has_urdu_and_english(app, db, content):
    make_staff(db, "ayesha@mrc.example")
    add_source(db, "SLK1")
    client, _ = signed_in(app, "ayesha@mrc.example")
    page = client.get("/staff/sources/SLK1/card").text
    for language in ("ur", "en"):
        for key in ("source_card_title", "source_card_what"):
            assert escape(content.text(key, language)) in page
    assert content.text("source_card_title", "ps") not in page
    # Scan and SMS lines, in both languages, with the keyword kept left to right in Urdu.
    assert page.count('<bdi dir="ltr" lang="en">RAHNUMA SLK1</bdi>') == 4
    assert page.count('<bdi dir="ltr" lang="en">+14155238886</bdi>') == 2
    assert "<svg" in page and "style=" not in page and "<script" not in page


def test_source_without_a_whatsapp_number_says_so_and_has_no_qr(app, db):
    app.state.settings.twilio_whatsapp_from = None
    make_staff(db, "ayesha@mrc.example")
    add_source(db, "SLK1")
    client, _ = signed_in(app, "ayesha@mrc.example")
    assert "TWILIO_WHATSAPP_FROM" in client.get("/staff/sources/SLK1").text
    assert client.get("/staff/sources/SLK1/qr.png").status_code == 404


# --- the changemaker --------------------------------------------------------------------------

def test_changemaker_lands_on_their_page_from_staff_home(app, db):
    client, _ = changemaker(app, db)
    assert client.get("/staff", follow_redirects=False).headers["location"] == \
        "/staff/changemaker"


@pytest.mark.parametrize("path", ["/staff/queue", "/staff/sources", "/staff/simulator",
                                  "/staff/impact", "/staff/accounts"])
def test_changemaker_cannot_open_staff_pages(app, db, path):
    client, _ = changemaker(app, db)
    add_source(db, "SLK1", owner=staff_id(db, "shazia@mrc.example"))
    assert client.get(path).status_code == 403


def test_changemaker_prints_their_own_card_but_no_one_elses(app, db):
    client, _ = changemaker(app, db)
    add_source(db, "SLK1", owner=staff_id(db, "shazia@mrc.example"))
    add_source(db, "LHR2")
    assert client.get("/staff/changemaker").text.count("/staff/sources/SLK1/card") == 1
    assert client.get("/staff/sources/SLK1/card").status_code == 200
    assert client.get("/staff/sources/SLK1/qr.png").content.startswith(b"\x89PNG")
    assert client.get("/staff/sources/LHR2/card").status_code == 404


def test_changemaker_cannot_open_a_case(app, db):
    case = make_case(db)
    client, _ = changemaker(app, db)
    assert client.get(f"/staff/cases/{case.reference}").status_code == 403


def test_changemaker_refer_form_offers_only_their_sources(app, db):
    client, _ = changemaker(app, db)
    add_source(db, "SLK1", owner=staff_id(db, "shazia@mrc.example"))
    add_source(db, "NRW1")
    page = client.get("/staff/changemaker/refer").text
    assert "SLK1" in page and "NRW1" not in page


def refer_form(csrf, source_id, **fields) -> dict[str, str]:
    return {"csrf_token": csrf, "source": str(source_id), "phone": "0300 7654321",
            "district": "Sialkot", "category": "money_no_job", "language": "ur",
            "description": "agent took 2 lakh", "consent": "yes", "name": "", **fields}


def test_changemaker_refers_someone(app, db):
    client, csrf = changemaker(app, db)
    source_id = add_source(db, "SLK1", owner=staff_id(db, "shazia@mrc.example"))
    response = client.post("/staff/changemaker/refer", data=refer_form(csrf, source_id),
                           follow_redirects=False)
    assert response.headers["location"] == "/staff/changemaker/refer?sent=1"
    with Session(db) as session:
        referral = session.exec(select(Referral)).one()
        person = session.get(Contact, referral.contact_id)
        assert (referral.centre, person.phone, person.source_id) == (
            "mrc-lahore", "+923007654321", source_id)
        assert session.exec(select(Outbox)).one().referral_id == referral.id


def test_changemaker_refer_answer_is_the_same_for_a_known_phone(app, db):
    client, csrf = changemaker(app, db)
    source_id = add_source(db, "SLK1", owner=staff_id(db, "shazia@mrc.example"))
    make_case(db, phone="+923007654321", body="agent ne passport rakh liya")
    pages = []
    for phone in ("0300 7654321", "0300 1112223"):  # known, then new
        response = client.post("/staff/changemaker/refer",
                               data=refer_form(csrf, source_id, phone=phone))
        pages.append(response.text)
    assert pages[0] == pages[1]
    assert "7654321" not in pages[0] and "passport rakh" not in pages[0]


def test_changemaker_refer_without_consent_is_refused(app, db):
    client, csrf = changemaker(app, db)
    source_id = add_source(db, "SLK1", owner=staff_id(db, "shazia@mrc.example"))
    form = refer_form(csrf, source_id)
    del form["consent"]
    response = client.post("/staff/changemaker/refer", data=form)
    assert response.status_code == 400
    with Session(db) as session:
        assert session.exec(select(Referral)).all() == []


def test_changemaker_cannot_refer_through_anothers_source(app, db):
    client, csrf = changemaker(app, db)
    make_staff(db, "bilal@mrc.example", role=Role.CHANGEMAKER)
    other = add_source(db, "NRW1", owner=staff_id(db, "bilal@mrc.example"))
    response = client.post("/staff/changemaker/refer", data=refer_form(csrf, other))
    assert response.status_code == 403


def test_changemaker_records_and_lists_sessions(app, db):
    client, csrf = changemaker(app, db)
    source_id = add_source(db, "SLK1", owner=staff_id(db, "shazia@mrc.example"))
    response = client.post("/staff/changemaker/sessions", data={
        "csrf_token": csrf, "source": str(source_id), "held_on": "2026-11-20",
        "attendees": "35", "district": ""}, follow_redirects=False)
    assert response.headers["location"] == "/staff/changemaker/sessions?recorded=1"
    page = client.get("/staff/changemaker/sessions?recorded=1").text
    assert "20-11-2026" in page and "35" in page and "SLK1" in page


def test_changemaker_cannot_record_a_session_for_anothers_source(app, db):
    client, csrf = changemaker(app, db)
    other = add_source(db, "NRW1")
    response = client.post("/staff/changemaker/sessions", data={
        "csrf_token": csrf, "source": str(other), "held_on": "2026-11-20", "attendees": "3"})
    assert response.status_code == 403
    with Session(db) as session:
        assert session.exec(select(OutreachSession)).all() == []


def test_changemaker_session_with_a_bad_date_is_a_400(app, db):
    client, csrf = changemaker(app, db)
    source_id = add_source(db, "SLK1", owner=staff_id(db, "shazia@mrc.example"))
    response = client.post("/staff/changemaker/sessions", data={
        "csrf_token": csrf, "source": str(source_id), "held_on": "20/11/2026",
        "attendees": "3"})
    assert response.status_code == 400
