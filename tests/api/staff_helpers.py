"""Building staff, cases and signed-in clients for the dashboard tests."""

import re

import pyotp
from fastapi.testclient import TestClient
from sqlmodel import col, update

from bot.casework.referrals import Category, create_referral
from bot.casework.staff import SECOND_FACTOR_REQUIRED, Role, Staff, add_staff
from bot.conversation.contacts import Contact, Direction, Message
from bot.db import session_scope

PASSWORD = "correct horse battery"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # every enrolled test account shares it


def make_staff(db, email, *, centre="mrc-lahore", role=Role.CASEWORKER, totp=None) -> int:
    """An account; admins and supervisors (who must have one) get TOTP_SECRET unless
    totp=False, anyone with totp=True."""
    enrolled = role in SECOND_FACTOR_REQUIRED if totp is None else totp
    with session_scope(db) as session:
        staff = add_staff(session, email=email, name=email.split("@")[0], centre=centre,
                          role=role, password=PASSWORD)
        staff.totp_secret = TOTP_SECRET if enrolled else None
        return staff.id


def fresh_code(db, email) -> str:
    """The current code, made acceptable again: tests sign the same person in several times
    within one 30-second step, which production rightly refuses as a replay."""
    with session_scope(db) as session:
        session.exec(update(Staff).where(col(Staff.email) == email)
                     .values(totp_last_step=None))
    return pyotp.TOTP(TOTP_SECRET).now()


def make_case(db, *, centre="mrc-lahore", phone="+923001112222", channel="whatsapp",
              language="ur-Latn", body="agent ne paise le liye", **extra):
    """The new Referral (detached, loaded): `.id` for the database, `.reference` for links."""
    with session_scope(db) as session:
        contact = session.query(Contact).filter_by(phone=phone).first() or Contact(phone=phone)
        session.add(contact)
        session.flush()
        session.add(Message(contact_id=contact.id, channel=channel, direction=Direction.IN,
                            body=body, language=language))
        return create_referral(session, contact_id=contact.id, category=Category.MONEY_NO_JOB,
                               description=body, centre=centre,
                               language=language, channel=channel,
                               **{"location_district": "Gujrat", **extra})


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(client: TestClient, email: str, password: str = PASSWORD):
    """Password, then (for an enrolled account) the authenticator code: the last answer."""
    page = client.get("/staff/login")
    response = client.post("/staff/login", data={"email": email, "password": password,
                                                 "csrf_token": csrf_of(page.text)},
                           follow_redirects=False)
    if response.headers.get("location") != "/staff/login/code":
        return response
    step = client.get("/staff/login/code")
    return client.post("/staff/login/code", data={
        "code": fresh_code(client.app.state.db, email), "csrf_token": csrf_of(step.text)},
        follow_redirects=False)


def browser(app) -> TestClient:
    """Over https, as behind the TLS proxy: the session cookie is Secure."""
    return TestClient(app, base_url="https://testserver")


def signed_in(app, email) -> tuple[TestClient, str]:
    client = browser(app)
    assert login(client, email).status_code == 303
    return client, csrf_of(client.get("/staff/queue").text)
