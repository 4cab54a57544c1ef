"""An alert in a real browser: a supervisor writes it for one district, a second supervisor
approves it (the audience is over a lowered threshold) and sends it, the worker sends it, a
delivery callback comes in, and the page shows the figures."""

import httpx
import pytest
from sqlmodel import Session, select

from bot.casework.staff import Role
from bot.messaging.outbox import Outbox
from bot.messaging.scheduler import run_due
from bot.messaging.sending import send_due
from bot.outreach.jobs import job_handlers
from bot.settings import Settings
from tests.api.staff_helpers import make_staff
from tests.bot.test_broadcasts import TEXTS, person
from tests.browser.conftest import Site
from tests.browser.test_dashboard import log_in
from tests.factories import new_sid, signed


@pytest.fixture
def site(database_url, db, bot, tmp_path, monkeypatch):
    # Two people are "many": the second person's approval is needed at once.
    monkeypatch.setenv("ALERT_APPROVAL_THRESHOLD", "1")
    server = Site(database_url, bot, tmp_path / "evidence")
    yield server
    server.stop()


def write_alert(page, site) -> None:
    page.goto(f"{site.url}/staff/alerts")
    page.click("text=Write a new alert")
    page.fill("input[name=title]", "Fake Italy visas, Sialkot")
    for language, text in TEXTS.items():
        page.fill(f"#text_{language}", text)
    page.select_option("select[name=districts]", ["sialkot"])
    page.click("button:has-text('Save')")
    page.wait_for_selector("text=Saved. Check the count")


def test_browser_alert_written_approved_sent_and_delivered(page, site, db, database_url):
    wanted = [person(db, district="sialkot") for _ in range(2)]
    person(db, district="sialkot", said_yes=False)
    person(db, district="lahore")
    make_staff(db, "sara@mrc.example", role=Role.SUPERVISOR)
    make_staff(db, "imran@mrc.example", role=Role.SUPERVISOR)
    log_in(page, site, "sara@mrc.example")
    write_alert(page, site)
    assert page.inner_text("#audience-count") == "2"
    page.click("button:has-text('Count and submit')")
    page.wait_for_selector("#alert-status:has-text('Waiting for approval')")
    alert_url = page.url.split("?")[0]
    page.click("button:has-text('Log out')")
    log_in(page, site, "imran@mrc.example")
    page.goto(alert_url)
    page.click("button:has-text('Approve')")
    page.wait_for_selector("#alert-status:has-text('Approved')")
    page.click("button:has-text('Send now')")
    page.wait_for_selector("#alert-status:has-text('Sending')")

    settings = Settings(database_url=database_url, _env_file=None)
    run_due(db, job_handlers(settings))
    run_due(db, job_handlers(settings))  # run again: nobody gets it twice
    sids = [new_sid(), new_sid()]
    handed = iter(sids)
    assert send_due(db, lambda to, channel, body, **kw: next(handed)) == 2
    with Session(db) as session:
        reached = sorted(i.contact_id for i in session.exec(select(Outbox)))
    assert reached == wanted
    body, headers = signed({"MessageSid": sids[0], "MessageStatus": "delivered"},
                           path="/webhooks/twilio/status", token="t", base_url=site.url)
    httpx.post(f"{site.url}/webhooks/twilio/status", content=body, headers=headers)

    page.goto(alert_url)
    assert page.inner_text("#alert-status") == "Sent"
    assert page.inner_text("#figure-sent") == "2"
    assert page.inner_text("#figure-delivered") == "1"


def test_browser_alert_missing_a_language_is_refused_with_the_reason(page, site, db):
    make_staff(db, "sara@mrc.example", role=Role.SUPERVISOR)
    log_in(page, site, "sara@mrc.example")
    page.goto(f"{site.url}/staff/alerts/new")
    page.fill("input[name=title]", "Italy")
    for language, text in TEXTS.items():
        if language != "ps":
            page.fill(f"#text_{language}", text)
    page.click("button:has-text('Save')")
    assert "missing ps" in page.inner_text(".error")
    assert page.input_value("#text_en") == TEXTS["en"]
