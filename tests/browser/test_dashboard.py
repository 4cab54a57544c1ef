"""A caseworker's day in a real browser: log in, claim, reply, change status, and the walls."""

from sqlmodel import Session, select

from bot.casework.referrals import Referral
from bot.casework.staff import Role
from bot.messaging.outbox import STAFF_REPLY, Outbox
from tests.api.staff_helpers import PASSWORD, make_case, make_staff


def log_in(page, site, email):
    """Password, then the authenticator code for accounts that have one (admins, supervisors)."""
    from tests.api.staff_helpers import fresh_code

    page.goto(f"{site.url}/staff/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(lambda url: url.endswith(("/staff/queue", "/staff/login/code")))
    if page.url.endswith("/staff/login/code"):
        page.fill("input[name=code]", fresh_code(site.db, email))
        page.click("button:has-text('Continue')")
    page.wait_for_url(f"{site.url}/staff/queue")


def test_browser_login_claim_reply_and_status(page, site, db):
    make_staff(db, "ayesha@mrc.example")
    case = make_case(db, language="ur", body="ایجنٹ نے پیسے لے لیے اور ویزا نہیں دیا")
    log_in(page, site, "ayesha@mrc.example")
    reference = case.reference
    page.click(f"text={reference}")
    page.click("button:has-text('Claim')")
    page.wait_for_selector("text=Assigned to ayesha")
    page.select_option("select[name=canned]", "canned_need_details")
    page.click("button:has-text('Send')")
    page.wait_for_selector("text=Reply queued for sending")
    page.select_option("select[name=to]", "waiting_on_worker")
    page.fill("input[name=reason]", "asked for details")
    page.click("button:has-text('Change status')")
    page.wait_for_selector("text=asked for details")
    with Session(db) as session:
        referral = session.get(Referral, case.id)
        outbox = session.exec(select(Outbox).where(Outbox.kind == STAFF_REPLY)).one()
        updates = session.exec(select(Outbox).where(Outbox.kind == "case_update")).all()
    assert referral.status == "waiting_on_worker" and referral.assignee_id is not None
    assert reference in outbox.body
    # The claim (in progress) and the change to "waiting on you" each told the worker.
    assert len(updates) == 2 and all(reference in u.body for u in updates)
    # The worker's Urdu message is shown right-to-left.
    direction = page.eval_on_selector(".msg.in", "e => getComputedStyle(e).direction")
    assert direction == "rtl"


def test_browser_other_centres_case_is_refused(page, site, db):
    make_staff(db, "ayesha@mrc.example", centre="mrc-lahore")
    other = make_case(db, centre="mrc-peshawar")
    log_in(page, site, "ayesha@mrc.example")
    response = page.goto(f"{site.url}/staff/cases/{other.reference}")
    assert response.status == 404


def test_browser_simulator_answers_like_the_bot(page, site, db, content):
    make_staff(db, "ayesha@mrc.example")
    log_in(page, site, "ayesha@mrc.example")
    page.goto(f"{site.url}/staff/simulator")
    page.fill("textarea[name=text]", "0")
    page.click("#send")
    page.wait_for_selector(".msg.out")
    assert content.text("menu", "ur-Latn").splitlines()[1] in page.inner_text(".msg.out")


def test_browser_impact_page_shows_figures_and_charts(page, site, db):
    make_staff(db, "admin@mrc.example", role=Role.ADMIN)
    make_case(db)
    log_in(page, site, "admin@mrc.example")
    page.goto(f"{site.url}/staff/impact")
    assert page.inner_text("#people-reached") == "1"
    assert page.locator("svg.chart").count() >= 3


def test_browser_pages_work_under_the_content_security_policy(page, site, db):
    """The policy is sent, and nothing on the pages breaks it: the stylesheet applies, the SVG
    charts draw, the forms post, and Chromium reports no violation."""
    make_staff(db, "admin@mrc.example", role=Role.ADMIN)
    case = make_case(db)
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    log_in(page, site, "admin@mrc.example")
    for path in ("/staff/queue", f"/staff/cases/{case.reference}", "/staff/impact",
                 "/staff/simulator", "/staff/accounts"):
        response = page.goto(f"{site.url}{path}")
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["cache-control"] == "no-store"
        background = page.eval_on_selector("header", "e => getComputedStyle(e).backgroundColor")
        assert background == "rgb(11, 79, 108)"  # style.css applied
    page.goto(f"{site.url}/staff/cases/{case.reference}")
    page.fill("textarea[name=note]", "called the worker")
    page.click("button:has-text('Add note')")
    page.wait_for_selector("text=called the worker")
    assert violations == []
