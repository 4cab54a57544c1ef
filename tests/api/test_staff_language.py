"""The staff pages in English or Urdu (each account's own setting), labels instead of stored
codes, and lang/dir on every text written in one of the helpline's languages."""

import re
from html.parser import HTMLParser

import pytest
from sqlmodel import col, update

from api.main import create_app
from bot.casework.referrals import Category, Priority, ReferredTo, Status
from bot.casework.staff import Role, Staff
from bot.content.staff_texts import staff_texts
from bot.conversation.channels import Channel
from bot.conversation.language import Lang
from bot.db import session_scope
from bot.settings import PROJECT_ROOT
from tests.api.staff_helpers import make_case, make_staff, signed_in

RIGHT_TO_LEFT = {"ur", "pa", "ps"}


@pytest.fixture
def app(settings, bot, db, tmp_path):
    settings.evidence_dir = tmp_path / "evidence"
    return create_app(settings, bot)


def set_language(db, email: str, language: str) -> None:
    with session_scope(db) as session:
        session.exec(update(Staff).where(col(Staff.email) == email)
                     .values(ui_language=language))


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class _Text(HTMLParser):
    """What a person reads on a page in the page's own language: text outside tags, scripts
    and styles, and outside elements marked as another language (the worker's words, canned
    replies in the worker's language)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._page_language = ""
        self._hidden: list[bool] = []  # one per open element: is its text left out?

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        language = dict(attrs).get("lang")
        if tag == "html":
            self._page_language = language or ""
        foreign = language is not None and language != self._page_language
        self._hidden.append(tag in ("script", "style", "svg") or foreign)

    def handle_endtag(self, tag):
        if tag not in VOID and self._hidden:
            self._hidden.pop()

    def handle_data(self, data):
        if not any(self._hidden):
            self.parts.append(data)


def visible_text(page: str) -> str:
    parser = _Text()
    parser.feed(page)
    return " ".join(" ".join(parser.parts).split())


def opening_tag(page: str) -> str:
    return re.search(r"<html[^>]*>", page).group(0)


# --- labels, not codes -----------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "values"), [
    ("status", Status), ("category", Category), ("language", Lang), ("priority", Priority),
    ("channel", Channel), ("role", Role), ("referred_to", ReferredTo)])
def test_labels_cover_every_stored_value(kind, values):
    texts = staff_texts(PROJECT_ROOT / "content")
    missing = [v.value for v in values if f"{kind}_{v.value}" not in texts]
    assert missing == []


def test_queue_shows_labels_not_codes(app, db):
    make_staff(db, "ayesha@mrc.example")
    make_case(db, language="ur-Latn")
    client, _ = signed_in(app, "ayesha@mrc.example")
    text = visible_text(client.get("/staff/queue").text)
    assert "Money taken, no visa or job" in text and "Roman Urdu" in text and "New" in text
    for code in ("money_no_job", "ur-Latn", "waiting_on_worker", "in_progress"):
        assert code not in text


def test_case_page_shows_labels_not_codes(app, db):
    make_staff(db, "ayesha@mrc.example")
    case = make_case(db, language="pa", priority="urgent")
    client, _ = signed_in(app, "ayesha@mrc.example")
    text = visible_text(client.get(f"/staff/cases/{case.reference}").text)
    for label in ("Money taken, no visa or job", "Punjabi", "WhatsApp", "Urgent",
                  "In progress", "Protector of Emigrants", "Migrant Resource Centre, Lahore"):
        assert label in text
    for code in ("money_no_job", "whatsapp", "in_progress", "embassy_cwa", "mrc-lahore"):
        assert code not in text


def test_impact_charts_show_labels_not_codes(app, db):
    make_staff(db, "ayesha@mrc.example")
    make_case(db, language="ps")
    client, _ = signed_in(app, "ayesha@mrc.example")
    page = client.get("/staff/impact").text
    assert ">Money taken, no visa or job<" in page and ">Pashto<" in page and ">New<" in page
    assert ">money_no_job<" not in page and ">ps<" not in page


def test_accounts_page_shows_role_labels(app, db):
    make_staff(db, "admin@mrc.example", role=Role.ADMIN)
    make_staff(db, "sara@mrc.example", role=Role.SUPERVISOR)
    client, _ = signed_in(app, "admin@mrc.example")
    text = visible_text(client.get("/staff/accounts").text)
    assert "Supervisor" in text and "Caseworker" in text
    assert "supervisor" not in text and "caseworker" not in text


# --- the page's language -----------------------------------------------------------------------

def test_staff_pages_are_english_by_default(app, db):
    make_staff(db, "ayesha@mrc.example")
    client, _ = signed_in(app, "ayesha@mrc.example")
    page = client.get("/staff/queue").text
    assert opening_tag(page) == '<html lang="en" dir="ltr">' and "Referral queue" in page


def test_staff_page_is_urdu_when_the_account_chose_urdu(app, db):
    make_staff(db, "ayesha@mrc.example")
    make_case(db)
    set_language(db, "ayesha@mrc.example", "ur")
    client, _ = signed_in(app, "ayesha@mrc.example")
    page = client.get("/staff/queue").text
    assert opening_tag(page) == '<html lang="ur" dir="rtl">'
    assert "ریفرل کیسز" in page and "پیسے لے لیے، نہ ویزا ملا نہ نوکری" in page
    assert "Referral queue" not in page


def test_language_form_sets_the_staff_members_own_language(app, db):
    make_staff(db, "ayesha@mrc.example")
    make_staff(db, "bilal@mrc.example")
    client, csrf = signed_in(app, "ayesha@mrc.example")
    answer = client.post("/staff/language", data={"csrf_token": csrf, "ui_language": "ur"})
    assert answer.status_code == 200 and opening_tag(answer.text) == '<html lang="ur" dir="rtl">'
    assert "محفوظ ہو گیا" in answer.text
    colleague, _ = signed_in(app, "bilal@mrc.example")
    assert opening_tag(colleague.get("/staff/queue").text) == '<html lang="en" dir="ltr">'
    client.post("/staff/language", data={"csrf_token": csrf, "ui_language": "en"})
    assert opening_tag(client.get("/staff/queue").text) == '<html lang="en" dir="ltr">'


def test_language_form_needs_the_csrf_token(app, db):
    make_staff(db, "ayesha@mrc.example")
    client, _ = signed_in(app, "ayesha@mrc.example")
    answer = client.post("/staff/language", data={"ui_language": "ur"})
    assert answer.status_code == 403
    assert opening_tag(client.get("/staff/queue").text) == '<html lang="en" dir="ltr">'


def test_language_form_refuses_an_unknown_language(app, db):
    make_staff(db, "ayesha@mrc.example")
    client, csrf = signed_in(app, "ayesha@mrc.example")
    answer = client.post("/staff/language", data={"csrf_token": csrf, "ui_language": "fr"})
    assert answer.status_code == 400 and answer.json()["detail"].startswith("ui_language")


def test_language_form_is_on_the_account_page(app, db):
    make_staff(db, "ayesha@mrc.example")
    client, _ = signed_in(app, "ayesha@mrc.example")
    page = client.get("/staff/password").text
    assert 'action="/staff/language"' in page and 'name="ui_language"' in page


# Latin words an Urdu page may still show: data (names, emails, references, stored text),
# names of things (apps, institutions, a setting) and file formats.
ALLOWED_LATIN = {
    "ayesha", "admin", "mrc", "example", "agent", "paise", "liye", "gujrat", "migrant",
    "resource", "centre", "lahore", "csv", "beoe", "opf", "twilio_whatsapp_template_sid",
    "google", "microsoft", "authenticator", "aegis", "freeotp", "kitni", "fees", "sakta",
    "hai", "licence_no", "name", "proprietor", "address", "city", "phone", "status",
    "valid_until", "key", "peshawar", "islamabad",
    "english"}  # the language chooser names each language in its own words


@pytest.mark.parametrize("path", ["/staff/queue", "/staff/cases/{reference}", "/staff/impact",
                                  "/staff/simulator", "/staff/accounts", "/staff/licences",
                                  "/staff/password"])
def test_urdu_pages_have_no_english_words_left(app, db, path):
    make_staff(db, "admin@mrc.example", role=Role.ADMIN)
    case = make_case(db)
    set_language(db, "admin@mrc.example", "ur")
    client, _ = signed_in(app, "admin@mrc.example")
    page = client.get(path.format(reference=case.reference)).text
    text = visible_text(page).replace(case.reference, " ")  # a reference's random letters
    words = {w.lower() for w in re.findall(r"[A-Za-z_][A-Za-z_]{2,}", text)}
    assert words - ALLOWED_LATIN == set()


def test_nav_shows_texts_link_only_to_content_staff_and_admins(app, db):
    make_staff(db, "ayesha@mrc.example")
    make_staff(db, "bilal@mrc.example")
    with session_scope(db) as session:
        session.exec(update(Staff).where(col(Staff.email) == "bilal@mrc.example")
                     .values(content_role="reviewer"))
    plain, _ = signed_in(app, "ayesha@mrc.example")
    reviewer, _ = signed_in(app, "bilal@mrc.example")
    assert 'href="/staff/content"' not in plain.get("/staff/queue").text
    assert '<a href="/staff/content">Texts</a>' in reviewer.get("/staff/queue").text


# --- lang and dir on texts in the helpline's languages -----------------------------------------

@pytest.mark.parametrize("language", ["ur", "ur-Latn", "pa", "ps", "en"])
def test_case_page_marks_the_workers_texts_with_lang_and_dir(app, db, language):
    make_staff(db, "ayesha@mrc.example")
    case = make_case(db, language=language, body="the workers words")
    client, _ = signed_in(app, "ayesha@mrc.example")
    page = client.get(f"/staff/cases/{case.reference}").text
    direction = "rtl" if language in RIGHT_TO_LEFT else "ltr"
    marks = f'lang="{language}" dir="{direction}"'
    assert re.search(rf'<div class="msg in" {marks}>the workers words', page)
    assert re.search(rf'<p class="worker-text" {marks}>the workers words', page)
    assert f'<textarea name="body" {marks}' in page
