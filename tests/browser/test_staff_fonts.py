"""Urdu, Punjabi and Pashto drawn with real fonts, and a staff member's pages in Urdu.

Chromium reports, through the DevTools protocol, which installed font drew a node's glyphs and
how many: a missing font shows up here as a fallback family (or as empty boxes in the
screenshot), not as a passing test."""

import pytest
from sqlmodel import col, update

from bot.casework.staff import Staff
from bot.db import session_scope
from tests.api.staff_helpers import make_case, make_staff
from tests.browser.test_dashboard import log_in

WORKER_TEXTS = {
    "ur": ("ایجنٹ نے پیسے لے لیے، ویزا نہیں ملا۔ ہمیں کیا کرنا چاہیے؟", "Noto Nastaliq Urdu"),
    "pa": ("ایجنٹ نے پیسے لے لئے نیں، ویزا نئیں ملیا۔ ہُن کی کرئیے؟", "Noto Nastaliq Urdu"),
    "ps": ("ایجنټ پیسې واخیستې، ویزه یې رانکړه. اوس څه وکړو؟", "Noto Naskh Arabic"),
}


def fonts_drawing(page, selector: str) -> dict[str, int]:
    """{font family: glyphs drawn} for the first element matching selector's text."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    return {f["familyName"]: f["glyphCount"] for f in fonts}


@pytest.mark.parametrize("language", sorted(WORKER_TEXTS))
def test_browser_draws_the_workers_words_in_their_scripts_font(page, site, db, language):
    text, family = WORKER_TEXTS[language]
    make_staff(db, "ayesha@mrc.example")
    case = make_case(db, language=language, body=text)
    log_in(page, site, "ayesha@mrc.example")
    page.goto(f"{site.url}/staff/cases/{case.reference}")
    drawn = fonts_drawing(page, ".msg.in")
    # Every letter comes from the script's font; at most the digits and stops from another.
    assert max(drawn, key=drawn.get) == family, drawn
    letters = sum(not c.isspace() for c in text)
    assert drawn[family] >= letters - 3, drawn


def test_browser_staff_member_reads_the_dashboard_in_urdu(page, site, db):
    make_staff(db, "ayesha@mrc.example")
    case = make_case(db, language="ur-Latn")
    with session_scope(db) as session:
        session.exec(update(Staff).where(col(Staff.email) == "ayesha@mrc.example")
                     .values(ui_language="ur"))
    log_in(page, site, "ayesha@mrc.example")
    assert page.get_attribute("html", "dir") == "rtl"
    heading = page.inner_text("h1")
    assert heading and all(not c.isascii() or not c.isalpha() for c in heading)
    assert "Nastaliq" in " ".join(fonts_drawing(page, "h1"))
    # The worker's Roman Urdu stays left to right, in a Latin font, inside the Urdu page.
    page.goto(f"{site.url}/staff/cases/{case.reference}")
    assert page.eval_on_selector(".msg.in", "e => getComputedStyle(e).direction") == "ltr"
    assert page.eval_on_selector(".worker-text", "e => getComputedStyle(e).direction") == "ltr"
    assert not any("Nastaliq" in family for family in fonts_drawing(page, ".worker-text"))
