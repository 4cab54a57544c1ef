"""A supervisor makes a source in Chromium, opens its card and sees the QR code load; then the
link's prefilled text, sent as a first message through the signed webhook, attributes the new
contact to that source (the conversation side's attribution)."""

from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from sqlmodel import Session, select

from bot.casework.staff import Role
from bot.conversation.contacts import Contact
from bot.outreach.sources import Source
from tests.api.staff_helpers import make_staff
from tests.browser.test_dashboard import log_in
from tests.factories import signed, twilio_form

NEW_PERSON = "+923009998877"


@pytest.fixture(autouse=True)
def whatsapp_number(monkeypatch):
    # Read by the site's Settings when it starts (autouse: before the `site` fixture).
    monkeypatch.setenv("TWILIO_WHATSAPP_FROM", "whatsapp:+14155238886")
    monkeypatch.setenv("TWILIO_SMS_FROM", "+14155550100")


def make_source_in_the_browser(page, site) -> str:
    page.goto(f"{site.url}/staff/sources")
    page.fill("input[name=name]", "Sialkot union forum")
    page.select_option("select[name=kind]", "forum")
    page.fill("input[name=district]", "Sialkot")
    page.click("button:has-text('Make the source')")
    page.wait_for_selector("text=Source SLK1 made.")
    page.click("a[href='/staff/sources/SLK1']")
    page.wait_for_url(f"{site.url}/staff/sources/SLK1")
    return page.get_attribute("a[href^='https://wa.me/']", "href")


def test_browser_source_card_qr_loads_and_its_link_attributes(page, site, db):
    make_staff(db, "sana@mrc.example", role=Role.SUPERVISOR)
    log_in(page, site, "sana@mrc.example")
    link = make_source_in_the_browser(page, site)
    assert link == "https://wa.me/14155238886?text=" + quote("رہنما SLK1")
    page.wait_for_load_state("load")
    assert page.eval_on_selector("img.qr", "img => img.complete && img.naturalWidth > 0")
    page.click("text=Printable card")
    page.wait_for_url(f"{site.url}/staff/sources/SLK1/card")
    assert page.locator(".card svg").count() == 1
    assert page.locator(".side[lang=ur] h1").inner_text().startswith("رہنما")
    assert page.locator(".side[lang=en] h1").inner_text().startswith("Rahnuma")

    # The person scans the card: WhatsApp sends the prefilled text as their first message.
    [text] = parse_qs(urlsplit(link).query)["text"]
    body, headers = signed(twilio_form(text, sender=f"whatsapp:{NEW_PERSON}"), token="t",
                           base_url=site.url)
    response = httpx.post(f"{site.url}/webhooks/twilio", content=body, headers=headers)
    assert response.status_code == 200 and "SLK1" not in response.text
    with Session(db) as session:
        source = session.exec(select(Source).where(Source.code == "SLK1")).one()
        contact = session.exec(select(Contact).where(Contact.phone == NEW_PERSON)).one()
        assert contact.source_id == source.id
