"""Building staff, cases and signed-in clients for the dashboard tests."""

import re

from fastapi.testclient import TestClient

from bot.casework.referrals import Category, create_referral
from bot.casework.staff import Role, add_staff
from bot.conversation.contacts import Contact, Direction, Message
from bot.db import session_scope

PASSWORD = "correct horse battery"


def make_staff(db, email, *, centre="mrc-lahore", role=Role.CASEWORKER) -> int:
    with session_scope(db) as session:
        return add_staff(session, email=email, name=email.split("@")[0], centre=centre,
                         role=role, password=PASSWORD).id


def make_case(db, *, centre="mrc-lahore", phone="+923001112222", channel="whatsapp",
              language="ur-Latn", body="agent ne paise le liye", **extra) -> int:
    with session_scope(db) as session:
        contact = session.query(Contact).filter_by(phone=phone).first() or Contact(phone=phone)
        session.add(contact)
        session.flush()
        session.add(Message(contact_id=contact.id, channel=channel, direction=Direction.IN,
                            body=body, language=language))
        return create_referral(session, contact_id=contact.id, category=Category.MONEY_NO_JOB,
                               description=body, centre=centre,
                               language=language, channel=channel,
                               location_district="Gujrat", **extra).id


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(client: TestClient, email: str, password: str = PASSWORD):
    page = client.get("/staff/login")
    return client.post("/staff/login", data={"email": email, "password": password,
                                             "csrf_token": csrf_of(page.text)},
                       follow_redirects=False)


def browser(app) -> TestClient:
    """Over https, as behind the TLS proxy: the session cookie is Secure."""
    return TestClient(app, base_url="https://testserver")


def signed_in(app, email) -> tuple[TestClient, str]:
    client = browser(app)
    assert login(client, email).status_code == 303
    return client, csrf_of(client.get("/staff/queue").text)
