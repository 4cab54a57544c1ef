"""The WhatsApp templates page, and staff replies outside WhatsApp's window going out as the
staff_reply template."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from api.main import create_app
from bot.casework.staff import Role
from bot.conversation.contacts import Message, utcnow
from bot.db import session_scope
from bot.messaging.outbox import STAFF_REPLY, Outbox
from bot.messaging.templates import WhatsAppTemplate
from tests.api.staff_helpers import make_case, make_staff, signed_in

SID = "HX" + "3" * 32


@pytest.fixture
def app(settings, bot, db, tmp_path):
    settings.evidence_dir = tmp_path / "evidence"
    return create_app(settings, bot)


def synced(db, *, language="ur-Latn", status="approved", reason="") -> None:
    with session_scope(db) as session:
        session.add(WhatsAppTemplate(key=STAFF_REPLY, language=language, content_sid=SID,
                                     in_use_sid=SID if status == "approved" else "",
                                     approval_status=status, rejection_reason=reason,
                                     body="old text"))


def test_templates_page_lists_each_template_in_each_language(app, db):
    make_staff(db, "sara@mrc.example", role=Role.SUPERVISOR)
    client, _ = signed_in(app, "sara@mrc.example")
    page = client.get("/staff/whatsapp-templates").text
    assert page.count("<code>staff_reply</code>") == 5
    assert page.count("Not sent to WhatsApp yet") >= 5


def test_templates_page_shows_approval_status_and_content_sid(app, db):
    synced(db, language="ps", status="rejected", reason="INVALID_FORMAT")
    make_staff(db, "admin@mrc.example", role=Role.ADMIN)
    client, _ = signed_in(app, "admin@mrc.example")
    page = client.get("/staff/whatsapp-templates").text
    assert SID in page and "Rejected" in page and "INVALID_FORMAT" in page
    assert "The text has changed since" in page  # "old text" is not what content/ says


def test_templates_page_is_not_for_caseworkers(app, db):
    make_staff(db, "ayesha@mrc.example")
    client, _ = signed_in(app, "ayesha@mrc.example")
    assert client.get("/staff/whatsapp-templates").status_code == 403
    assert "/staff/whatsapp-templates" not in client.get("/staff/queue").text


def test_templates_page_is_linked_for_supervisors(app, db):
    make_staff(db, "sara@mrc.example", role=Role.SUPERVISOR)
    client, _ = signed_in(app, "sara@mrc.example")
    assert 'href="/staff/whatsapp-templates"' in client.get("/staff/queue").text


def test_templates_page_reads_in_urdu(app, db):
    from tests.api.test_staff_language import set_language

    make_staff(db, "admin@mrc.example", role=Role.ADMIN)
    set_language(db, "admin@mrc.example", "ur")
    client, _ = signed_in(app, "admin@mrc.example")
    page = client.get("/staff/whatsapp-templates").text
    assert "واٹس ایپ کی منظوری" in page and "WhatsApp approval" not in page


def close_window(db) -> None:
    with session_scope(db) as session:
        for message in session.exec(select(Message)):
            message.created_at = utcnow() - timedelta(hours=30)


def test_reply_outside_the_window_queues_the_staff_reply_template(app, db):
    synced(db)
    make_staff(db, "ayesha@mrc.example")
    case = make_case(db)  # in Roman Urdu
    close_window(db)
    client, csrf = signed_in(app, "ayesha@mrc.example")
    assert "a caseworker replied" in client.get(f"/staff/cases/{case.reference}").text
    client.post(f"/staff/cases/{case.reference}/reply", data={"csrf_token": csrf,
                                                               "body": "salam"})
    with Session(db) as session:
        item = session.exec(select(Outbox)).one()
    assert (item.kind, item.template_key, item.template_sid) == (STAFF_REPLY, STAFF_REPLY, None)
    assert item.template_variables == {"1": case.reference}


def test_reply_outside_the_window_without_an_approved_template_is_refused(app, db):
    synced(db, language="ur-Latn", status="pending")
    make_staff(db, "ayesha@mrc.example")
    case = make_case(db)
    close_window(db)
    client, csrf = signed_in(app, "ayesha@mrc.example")
    response = client.post(f"/staff/cases/{case.reference}/reply",
                           data={"csrf_token": csrf, "body": "salam"})
    assert response.status_code == 409
