"""Texts fixed by staff in a real browser: editor proposes, reviewer publishes, the bot says it;
and a workbook goes out to a native speaker and comes back as proposals."""

from io import BytesIO

from openpyxl import load_workbook
from sqlmodel import Session, col, select, update

from bot.casework.staff import Staff
from bot.content.review import ContentVersion, VersionStatus
from bot.db import session_scope
from tests.api.staff_helpers import make_staff
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_dashboard import log_in

KEY = "ui:no_more"
NEW_UR_LATN = "Is baat par aur kuch nahi. Menu ke liye 0 bhejein."


def person(db, email, content_role):
    make_staff(db, email)
    with session_scope(db) as session:
        session.exec(update(Staff).where(col(Staff.email) == email)
                     .values(content_role=content_role))
    return email


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_browser_editor_proposes_reviewer_publishes_bot_answers(page, chromium, site, db):
    log_in(page, site, person(db, "sana@mrc.example", "editor"))
    page.goto(f"{site.url}/staff/content/text?key={KEY}")
    box = page.locator("#lang-ur-Latn textarea[name=text]")
    box.fill("Yeh {nowhere} hai")  # a placeholder no contact fills: refused at once
    page.click("#lang-ur-Latn button:has-text('Propose this change')")
    page.wait_for_selector("#lang-ur-Latn .error")
    assert "unknown reference" in page.inner_text("#lang-ur-Latn .error")
    page.locator("#lang-ur-Latn textarea[name=text]").fill(NEW_UR_LATN)
    page.locator("#lang-ur-Latn input[name=note]").fill("simpler words")
    page.click("#lang-ur-Latn button:has-text('Propose this change')")
    page.wait_for_selector("text=Proposed: a reviewer will look at it.")
    shot(page, "content-editor-proposed")

    reviewer = chromium.new_context(viewport={"width": 1000, "height": 900}).new_page()
    log_in(reviewer, site, person(db, "bilal@mrc.example", "reviewer"))
    reviewer.goto(f"{site.url}/staff/content/proposals")
    reviewer.wait_for_selector(f"text={NEW_UR_LATN}")
    shot(reviewer, "content-reviewer-proposals")
    reviewer.click("button:has-text('Approve and publish')")
    reviewer.wait_for_selector("text=Published: the bot says it from the next message.")
    reviewer.goto(f"{site.url}/staff/simulator")
    reviewer.fill("textarea[name=text]", "more")
    reviewer.click("#send")
    reviewer.wait_for_selector(".msg.out")
    assert NEW_UR_LATN in reviewer.inner_text(".msg.out")
    shot(reviewer, "content-published-in-simulator")
    reviewer.context.close()
    with Session(db) as session:
        version = session.exec(select(ContentVersion)).one()
    assert version.status == VersionStatus.PUBLISHED and version.note == "simpler words"


def test_browser_workbook_round_trip_becomes_proposals(page, site, db, tmp_path):
    log_in(page, site, person(db, "sana@mrc.example", "editor"))
    page.goto(f"{site.url}/staff/content?language=ur-Latn")
    with page.expect_download() as download:
        page.click("text=Download Roman Urdu")
    path = tmp_path / "texts.xlsx"
    download.value.save_as(path)
    book = load_workbook(path)
    sheet = book["ur-Latn"]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == KEY)
    row[2].value, row[4].value = NEW_UR_LATN, "native reader"
    out = BytesIO()
    book.save(out)
    path.write_bytes(out.getvalue())
    page.set_input_files("input[name=file]", str(path))
    page.click("button:has-text('Import as proposals')")
    page.wait_for_selector("text=1 changed texts are now proposals for review")
    shot(page, "content-workbook-imported")
    with Session(db) as session:
        version = session.exec(select(ContentVersion)).one()
    assert (version.key, version.text) == (KEY, NEW_UR_LATN)
    assert version.note == "from a workbook: native reader"
