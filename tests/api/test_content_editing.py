"""/staff/content over HTTP: who may propose and publish, checks at once, workbooks, instances."""

import pytest
from sqlmodel import Session, col, select, update

from api.main import create_app
from bot.casework.staff import Role, Staff
from bot.content.review import ContentVersion, VersionStatus
from bot.conversation.engine import Engine
from bot.conversation.inbox import receive
from bot.conversation.language import Lang
from bot.db import session_scope
from tests.api.staff_helpers import csrf_of, make_staff, signed_in
from tests.factories import inbound

KEY = "ui:no_more"
NEW_EN = "Nothing more on this. Send 0 for the menu."
NEW_UR_LATN = "Is baat par aur kuch nahi. Menu ke liye 0 bhejein."


@pytest.fixture
def app(settings, bot, db, tmp_path):
    settings.evidence_dir = tmp_path / "evidence"
    return create_app(settings, bot)


def person(db, email, content_role="", role=Role.CASEWORKER):
    make_staff(db, email, role=role)
    with session_scope(db) as session:
        session.exec(update(Staff).where(col(Staff.email) == email)
                     .values(content_role=content_role))
    return email


def propose(client, csrf, text=NEW_EN, language="en"):
    return client.post("/staff/content/propose", data={
        "csrf_token": csrf, "key": KEY, "language": language, "text": text, "note": "clearer"},
        follow_redirects=False)


def only_proposal(db) -> ContentVersion:
    with Session(db) as session:
        return session.exec(select(ContentVersion)).one()


def test_content_pages_are_closed_to_staff_without_a_content_role(app, db):
    client, _ = signed_in(app, person(db, "case@centre.org"))
    assert client.get("/staff/content").status_code == 403


def test_editor_proposes_and_cannot_publish(app, db):
    client, csrf = signed_in(app, person(db, "ed@centre.org", "editor"))
    assert propose(client, csrf).status_code == 303
    version = only_proposal(db)
    response = client.post(f"/staff/content/proposals/{version.id}/approve",
                           data={"csrf_token": csrf})
    assert response.status_code == 403
    assert only_proposal(db).status == VersionStatus.PROPOSED


def test_proposal_that_fails_a_check_is_shown_at_once_and_not_saved(app, db):
    client, csrf = signed_in(app, person(db, "ed@centre.org", "editor"))
    response = propose(client, csrf, text="Call {nowhere} now", language="en")
    assert response.status_code == 200 and "unknown reference {nowhere}" in response.text
    assert "Call {nowhere} now" in response.text  # the attempt is kept for correcting
    with Session(db) as session:
        assert session.exec(select(ContentVersion)).first() is None


def test_reviewer_publishes_and_every_instance_answers_with_it(app, db, settings, content,
                                                               fake_nlu):
    editor, _ = signed_in(app, person(db, "ed@centre.org", "editor"))
    propose(editor, csrf_of(editor.get("/staff/content/text?key=" + KEY).text),
            text=NEW_UR_LATN, language="ur-Latn")  # a one-word message is read as Roman Urdu
    reviewer, csrf = signed_in(app, person(db, "rev@centre.org", "reviewer"))
    page = reviewer.get("/staff/content/proposals")
    assert NEW_UR_LATN in page.text
    response = reviewer.post(f"/staff/content/proposals/{only_proposal(db).id}/approve",
                             data={"csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303
    # Another instance: its own engine and cache, the same database.
    other = Engine(content, fake_nlu, confidence_threshold=0.55, sms_max_segments=3)
    create_app(settings, other)
    reply = receive(db, other, inbound("more", phone="+923001239999")).replies
    assert reply[0].body == NEW_UR_LATN


def test_reviewer_cannot_approve_their_own_proposal(app, db):
    client, csrf = signed_in(app, person(db, "rev@centre.org", "reviewer"))
    propose(client, csrf)
    response = client.post(f"/staff/content/proposals/{only_proposal(db).id}/approve",
                           data={"csrf_token": csrf})
    assert "another person" in response.text
    assert only_proposal(db).status == VersionStatus.PROPOSED


def test_text_page_shows_five_languages_limits_and_verify_flags(app, db, content):
    client, _ = signed_in(app, person(db, "ed@centre.org", "editor"))
    page = client.get("/staff/content/text?key=topic:visas:whatsapp").text
    for language in Lang:
        assert f'id="lang-{language}"' in page
    assert "1000 characters" in page and "{fia_helpline}" in page and "to verify" in page


def test_workbook_download_is_an_xlsx_of_the_language(app, db):
    client, _ = signed_in(app, person(db, "ed@centre.org", "editor"))
    response = client.get("/staff/content/workbook?language=ps")
    assert response.status_code == 200 and response.content[:2] == b"PK"
    assert "rahnuma-texts-ps.xlsx" in response.headers["content-disposition"]


def test_workbook_upload_that_is_not_a_workbook_is_refused_with_a_reason(app, db):
    client, csrf = signed_in(app, person(db, "ed@centre.org", "editor"))
    response = client.post("/staff/content/workbook", data={"csrf_token": csrf},
                           files={"file": ("texts.xlsx", b"not a workbook", "application/zip")})
    assert response.status_code == 200 and "not an XLSX workbook" in response.text


def test_a_published_canned_reply_is_what_a_caseworker_sends(app, db):
    """The case page's canned replies come from the published texts, not the repository's."""
    from bot.messaging.outbox import Outbox
    from tests.api.staff_helpers import make_case

    new = "Aap ka case {reference} hamare paas hai. Kal 10 baje call karenge."
    editor, csrf = signed_in(app, person(db, "ed@centre.org", "editor"))
    editor.post("/staff/content/propose", data={
        "csrf_token": csrf, "key": "ui:canned_call_time", "language": "ur-Latn", "text": new,
        "note": ""})
    reviewer, csrf = signed_in(app, person(db, "rev@centre.org", "reviewer"))
    reviewer.post(f"/staff/content/proposals/{only_proposal(db).id}/approve",
                  data={"csrf_token": csrf})
    case = make_case(db, language="ur-Latn", channel="sms")
    caseworker, csrf = signed_in(app, person(db, "case@centre.org"))
    page = caseworker.get(f"/staff/cases/{case.reference}").text
    assert new.format(reference=case.reference)[:70] in page
    caseworker.post(f"/staff/cases/{case.reference}/reply",
                    data={"csrf_token": csrf, "canned": "canned_call_time"})
    with Session(db) as session:
        sent = session.exec(select(Outbox)).one()
    assert sent.body == new.format(reference=case.reference)


def test_admin_names_editors_and_reviewers_on_the_accounts_page(app, db):
    admin, csrf = signed_in(app, person(db, "admin@centre.org", role=Role.ADMIN))
    person(db, "sana@centre.org")
    with Session(db) as session:
        sana = session.exec(select(Staff).where(Staff.email == "sana@centre.org")).one().id
    assert "Reviewer (approves)" in admin.get("/staff/accounts").text
    answer = admin.post(f"/staff/accounts/{sana}/content-role",
                        data={"csrf_token": csrf, "content_role": "editor"},
                        follow_redirects=False)
    assert answer.status_code == 303
    editor, editor_csrf = signed_in(app, "sana@centre.org")
    assert editor.get("/staff/content").status_code == 200
    refused = admin.post(f"/staff/accounts/{sana}/content-role",
                         data={"csrf_token": csrf, "content_role": "owner"})
    assert refused.status_code == 400
    admin.post(f"/staff/accounts/{sana}/content-role",
               data={"csrf_token": csrf, "content_role": ""})
    assert editor.get("/staff/content").status_code == 403
    not_admin = editor.post(f"/staff/accounts/{sana}/content-role",
                            data={"csrf_token": editor_csrf, "content_role": "reviewer"})
    assert not_admin.status_code == 403
