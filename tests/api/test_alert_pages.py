"""The alerts pages: who may open them, writing with the content checks, the count before
sending, a second person's approval, send, schedule, cancel, and the delivery figures."""

import re
from datetime import datetime, timedelta

import pytest
from sqlmodel import Session, select

from api.main import create_app
from bot.casework.staff import Role
from bot.conversation.contacts import utcnow
from bot.messaging.outbox import Outbox, Status
from bot.messaging.scheduler import run_due
from bot.messaging.sending import send_due
from bot.outreach.broadcasts import Alert, AlertStatus
from bot.outreach.jobs import job_handlers
from tests.api.staff_helpers import make_staff, signed_in
from tests.bot.test_broadcasts import TEXTS, person
from tests.factories import new_sid, signed


@pytest.fixture
def app(settings, bot, db, tmp_path):
    settings.evidence_dir = tmp_path / "evidence"
    settings.alert_approval_threshold = 2
    return create_app(settings, bot)


@pytest.fixture
def sara(app, db):
    make_staff(db, "sara@mrc.example", role=Role.SUPERVISOR)
    return signed_in(app, "sara@mrc.example")


@pytest.fixture
def imran(app, db):
    make_staff(db, "imran@mrc.example", role=Role.ADMIN)
    return signed_in(app, "imran@mrc.example")


def form(csrf, **extra) -> dict:
    return {"csrf_token": csrf, "title": "Fake Italy visas, Sialkot",
            **{f"text_{lang}": text for lang, text in TEXTS.items()}, **extra}


def write(client, csrf, **extra) -> int:
    response = client.post("/staff/alerts", data=form(csrf, **extra), follow_redirects=False)
    assert response.status_code == 303, response.text
    return int(re.search(r"/staff/alerts/(\d+)", response.headers["location"]).group(1))


def post(client, csrf, alert_id, action, **data):
    return client.post(f"/staff/alerts/{alert_id}/{action}",
                       data={"csrf_token": csrf, **data}, follow_redirects=False)


def approve(client, csrf, alert_id, fingerprint=None):
    """Approve as the page's form does: with the fingerprint of the alert the page shows."""
    page = client.get(f"/staff/alerts/{alert_id}").text
    shown = re.search(r'name="fingerprint" value="([0-9a-f]{64})"', page).group(1)
    return post(client, csrf, alert_id, "approve", fingerprint=fingerprint or shown)


def status_of(db, alert_id) -> str:
    with Session(db) as session:
        return session.get(Alert, alert_id).status


def alert_items(db) -> list[Outbox]:
    with Session(db) as session:
        return list(session.exec(select(Outbox).where(Outbox.alert_id.is_not(None))))


def test_alert_pages_are_not_for_caseworkers(app, db):
    make_staff(db, "ayesha@mrc.example")
    client, _ = signed_in(app, "ayesha@mrc.example")
    assert client.get("/staff/alerts").status_code == 403
    assert "/staff/alerts" not in client.get("/staff/queue").text


def test_alert_pages_are_linked_for_supervisors(sara):
    client, _ = sara
    assert 'href="/staff/alerts"' in client.get("/staff/queue").text


def test_alert_write_keeps_the_texts_and_the_audience(db, sara):
    client, csrf = sara
    alert_id = write(client, csrf, districts=["sialkot", "gujrat"], languages=["pa"])
    with Session(db) as session:
        alert = session.get(Alert, alert_id)
    assert alert.texts == TEXTS and alert.status == AlertStatus.DRAFT
    assert alert.audience["districts"] == ["gujrat", "sialkot"]
    assert alert.audience["languages"] == ["pa"]


def test_alert_write_refuses_a_missing_language_and_says_which(db, sara):
    client, csrf = sara
    response = client.post("/staff/alerts", data=form(csrf, text_ps=""))
    assert response.status_code == 400 and "missing ps" in response.text
    assert TEXTS["en"] in response.text  # what was typed is kept
    with Session(db) as session:
        assert session.exec(select(Alert)).all() == []


def test_alert_write_refuses_an_unknown_district(sara):
    client, csrf = sara
    response = client.post("/staff/alerts", data=form(csrf, districts=["atlantis"]))
    assert response.status_code == 400 and "atlantis" in response.text


def test_alert_write_repeats_at_most_40_characters_of_an_unknown_value(sara):
    client, csrf = sara
    response = client.post("/staff/alerts", data=form(csrf, districts=["x" * 5000]))
    assert response.status_code == 400
    assert "x" * 40 in response.text and "x" * 41 not in response.text


def test_alert_page_shows_the_count_before_sending(db, sara):
    person(db, district="sialkot"), person(db, district="sialkot"), person(db, district="lahore")
    client, csrf = sara
    alert_id = write(client, csrf, districts=["sialkot"])
    page = client.get(f"/staff/alerts/{alert_id}").text
    assert re.search(r'id="audience-count">2<', page)


def test_alert_page_shows_what_a_person_reads_in_each_language(db, sara):
    client, csrf = sara
    page = client.get(f"/staff/alerts/{write(client, csrf)}").text
    assert f"Rahnuma warning: {TEXTS['en']}" in page
    assert "SMS parts" in page


def test_alert_over_the_threshold_is_not_approved_by_its_author(db, sara):
    for _ in range(3):
        person(db)
    client, csrf = sara
    alert_id = write(client, csrf)
    post(client, csrf, alert_id, "submit")
    assert status_of(db, alert_id) == AlertStatus.AWAITING_APPROVAL
    response = approve(client, csrf, alert_id)
    assert response.status_code == 400 and "another person" in response.text
    assert status_of(db, alert_id) == AlertStatus.AWAITING_APPROVAL


def test_alert_approved_to_a_district_reaches_its_opted_in_people_once(
        db, sara, imran, settings):
    wanted = [person(db, district="sialkot") for _ in range(3)]
    person(db, district="sialkot", said_yes=False)
    person(db, district="sialkot", said_yes=None)
    person(db, district="lahore")
    client, csrf = sara
    alert_id = write(client, csrf, districts=["sialkot"])
    post(client, csrf, alert_id, "submit")
    second, second_csrf = imran
    assert approve(second, second_csrf, alert_id).status_code == 303
    assert post(client, csrf, alert_id, "send").status_code == 303
    handlers = job_handlers(settings)
    for _ in range(3):  # the job, and any worker running it again
        run_due(db, handlers)
    assert sorted(item.contact_id for item in alert_items(db)) == wanted
    assert status_of(db, alert_id) == AlertStatus.SENT


def test_alert_approve_refuses_an_alert_changed_since_the_page_was_opened(db, sara, imran):
    for _ in range(3):
        person(db)
    client, csrf = sara
    alert_id = write(client, csrf)
    post(client, csrf, alert_id, "submit")
    second, second_csrf = imran
    page = second.get(f"/staff/alerts/{alert_id}").text  # Imran reads it...
    read = re.search(r'name="fingerprint" value="([0-9a-f]{64})"', page).group(1)
    changed = form(csrf, text_en=TEXTS["en"].replace("Do not pay", "Pay"))
    client.post(f"/staff/alerts/{alert_id}/edit", data=changed)  # ...Sara rewrites it
    post(client, csrf, alert_id, "submit")
    response = approve(second, second_csrf, alert_id, fingerprint=read)
    assert response.status_code == 409
    assert "The alert changed since you opened it: read it again" in response.text
    with Session(db) as session:
        alert = session.get(Alert, alert_id)
    assert (alert.status, alert.approved_by_staff_id) == (AlertStatus.AWAITING_APPROVAL, None)
    missing = post(second, second_csrf, alert_id, "approve")  # no fingerprint: nothing read
    assert missing.status_code == 400 and status_of(db, alert_id) == "awaiting_approval"
    assert approve(second, second_csrf, alert_id).status_code == 303  # read again


def test_alert_edit_after_approval_goes_back_to_draft(db, sara):
    person(db)
    client, csrf = sara
    alert_id = write(client, csrf)
    post(client, csrf, alert_id, "submit")
    assert status_of(db, alert_id) == AlertStatus.APPROVED
    client.post(f"/staff/alerts/{alert_id}/edit", data=form(csrf, title="Italy"))
    assert status_of(db, alert_id) == AlertStatus.DRAFT


def test_alert_schedule_takes_pakistan_time(db, sara):
    person(db)
    client, csrf = sara
    alert_id = write(client, csrf)
    post(client, csrf, alert_id, "submit")
    local = (utcnow() + timedelta(days=1, hours=5)).strftime("%Y-%m-%dT%H:%M")
    assert post(client, csrf, alert_id, "schedule", when=local).status_code == 303
    with Session(db) as session:
        alert = session.get(Alert, alert_id)
    assert alert.status == AlertStatus.SCHEDULED
    assert alert.scheduled_for.strftime("%Y-%m-%dT%H:%M") == (
        datetime.fromisoformat(local) - timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.parametrize("when", ["0001-01-01T00:00", "9999-12-31T23:59", "past", "31 days"])
def test_alert_schedule_refuses_a_time_past_or_beyond_30_days_naming_the_field(db, sara, when):
    person(db)
    client, csrf = sara
    alert_id = write(client, csrf)
    post(client, csrf, alert_id, "submit")
    pakistan = utcnow() + timedelta(hours=5)
    when = {"past": (pakistan - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"),
            "31 days": (pakistan + timedelta(days=31)).strftime("%Y-%m-%dT%H:%M")}.get(when, when)
    response = post(client, csrf, alert_id, "schedule", when=when)
    assert response.status_code == 400
    assert "(when): choose a time after now and at most 30 days ahead" in response.text
    assert status_of(db, alert_id) == AlertStatus.APPROVED


def queued_to_two(db, client, csrf, settings) -> int:
    """An alert to two opted-in people, written, sent and queued by its job: its id."""
    person(db), person(db)
    alert_id = write(client, csrf)
    post(client, csrf, alert_id, "submit")
    post(client, csrf, alert_id, "send")
    run_due(db, job_handlers(settings))
    return alert_id


def test_alert_cancel_midway_withdraws_what_is_still_queued(db, sara, settings):
    client, csrf = sara
    alert_id = queued_to_two(db, client, csrf, settings)
    assert post(client, csrf, alert_id, "cancel", note="wrong district").status_code == 303
    assert {item.status for item in alert_items(db)} == {Status.CANCELLED}
    assert re.search(r'id="figure-cancelled">2<', client.get(f"/staff/alerts/{alert_id}").text)


def test_alert_page_shows_delivery_figures_from_status_callbacks(db, sara, settings):
    client, csrf = sara
    alert_id = queued_to_two(db, client, csrf, settings)
    sids = [new_sid(), new_sid()]
    handed = iter(sids)
    assert send_due(db, lambda to, channel, body, **kw: next(handed)) == 2
    body, headers = signed({"MessageSid": sids[0], "MessageStatus": "delivered"},
                           path="/webhooks/twilio/status")
    assert client.post("/webhooks/twilio/status", content=body, headers=headers).status_code \
        in (200, 202, 204)
    page = client.get(f"/staff/alerts/{alert_id}").text
    assert re.search(r'id="figure-sent">2<', page)
    assert re.search(r'id="figure-delivered">1<', page)
