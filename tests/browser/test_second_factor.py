"""Two-step sign-in in a real browser: a supervisor is made to enrol by QR code, keeps the
recovery codes, and later signs in with one of them instead of the phone."""

import pyotp

from bot.casework.staff import Role
from tests.api.staff_helpers import PASSWORD, make_staff

EMAIL = "sara@mrc.example"


def password_step(page, site):
    page.goto(f"{site.url}/staff/login")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Sign in')")


def test_supervisor_enrols_by_qr_code_then_signs_in_with_a_recovery_code(page, site, db):
    make_staff(db, EMAIL, role=Role.SUPERVISOR, totp=False)
    password_step(page, site)
    page.wait_for_url(f"{site.url}/staff/enrol")
    assert page.locator("svg.segno").is_visible()  # the QR code, drawn inline
    assert page.locator("script").count() == 0  # nothing a strict CSP would block
    assert page.locator("header a:has-text('Queue')").count() == 0
    page.goto(f"{site.url}/staff/queue")  # nothing else opens before enrolment
    page.wait_for_url(f"{site.url}/staff/enrol")

    secret = page.inner_text("code.totp-key")
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.click("button:has-text('Turn on two-step sign-in')")
    page.wait_for_selector("text=Your recovery codes")
    codes = page.locator("ul.recovery-codes code").all_inner_texts()
    assert len(codes) == 10 and len(set(codes)) == 10
    page.click("text=I have kept them: continue")
    page.wait_for_url(f"{site.url}/staff/queue")
    assert "signed out after 30 minutes without activity" in page.inner_text("footer")

    page.click("button:has-text('Log out')")
    page.wait_for_url(f"{site.url}/staff/login")
    password_step(page, site)
    page.wait_for_url(f"{site.url}/staff/login/code")
    page.fill("input[name=code]", codes[0])  # the phone is "lost"
    page.click("button:has-text('Continue')")
    page.wait_for_url(f"{site.url}/staff/queue")
    page.goto(f"{site.url}/staff/password")
    assert "9 unused recovery codes left" in page.inner_text("#two-step")


def test_a_wrong_code_keeps_the_door_shut(page, site, db):
    make_staff(db, EMAIL, role=Role.SUPERVISOR)
    password_step(page, site)
    page.wait_for_url(f"{site.url}/staff/login/code")
    page.fill("input[name=code]", "000000")
    page.click("button:has-text('Continue')")
    page.wait_for_selector("text=That code is wrong")
    page.goto(f"{site.url}/staff/queue")
    page.wait_for_url(f"{site.url}/staff/login/code")
