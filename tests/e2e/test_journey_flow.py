"""A whole departure journey through the signed webhook and the worker's rounds, against a
local fake of Twilio: tell the date -> reminders -> arrival -> "2" at the check-in -> a
complaint, filed and linked to the check-in. The fake NLU stands in for Rasa (no message here
needs it); time is moved by making each job due, never by sleeping."""

import xml.etree.ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from api.main import create_app
from bot.casework.referrals import Referral
from bot.conversation.contacts import utcnow
from bot.db import session_scope
from bot.messaging.outbox import Outbox
from bot.messaging.scheduler import Job, JobStatus
from bot.messaging.worker import run_once
from bot.outreach.journey import PLAN, Kind
from bot.outreach.journeys import CheckIn
from tests.bot.journey_helpers import ahead, spoken
from tests.factories import signed, twilio_form

PHONE = "+923001239901"


@pytest.fixture
def world(twilio_settings, bot, db):
    return TestClient(create_app(twilio_settings, bot)), twilio_settings


def send(client: TestClient, body: str) -> str:
    payload, headers = signed(twilio_form(body, sender=f"whatsapp:{PHONE}"))
    response = client.post("/webhooks/twilio", content=payload, headers=headers)
    assert response.status_code == 200, response.text
    return "\n".join(m.text or "" for m in ET.fromstring(response.text).iter("Message"))


def next_job_comes(db) -> str:
    """Time moves to the next pending job, and past the night if it fell in one."""
    with session_scope(db) as session:
        job = session.exec(select(Job).where(Job.status == JobStatus.PENDING)
                           .order_by(col(Job.due_at))).first()
        job.due_at = utcnow()
        return job.kind


def morning_comes(db) -> None:
    with session_scope(db) as session:
        for item in session.exec(select(Outbox).where(Outbox.status == "queued")):
            item.next_attempt_at = utcnow()


def test_e2e_journey_tell_remind_arrive_check_in_complain(world, db, twilio):
    client, settings = world
    offer = send(client, f"{spoken(ahead(45))}, Riyadh")
    assert "Riyadh" in offer or "Saudi" in offer
    assert send(client, "1")  # yes: reminders on

    sent_kinds = []
    for _ in range(len(PLAN) - 1):  # every reminder, then the first check-in
        sent_kinds.append(next_job_comes(db))
        run_once(settings)
        morning_comes(db)
        run_once(settings)
    assert sent_kinds == [kind for kind, _ in PLAN[:-1]] and sent_kinds[-1] == Kind.CHECKIN
    bodies = [m.body or "" for m in twilio.sent_to(PHONE)]
    assert len(bodies) == len(PLAN) - 1
    assert "Protector" in bodies[0] and "911" in bodies[3] and "1" in bodies[-1]

    advice = send(client, "2")  # not paid what the contract says
    assert "1" in advice and "2" in advice
    send(client, "1")  # yes, a complaint
    send(client, "Do mahine se poori tankhwah nahi mili, company sirf aadhi deti hai")
    send(client, "skip")
    send(client, "skip")
    send(client, "1")  # call me on this number
    filed = send(client, "1")  # confirmed
    with Session(db) as session:
        referral = session.exec(select(Referral)).one()
        check = session.exec(select(CheckIn)).one()
    assert referral.reference in filed
    assert (referral.category, referral.location_country) == ("wages_unpaid", "Saudi Arabia")
    assert (check.answer, check.referral_id) == ("underpaid", referral.id)
