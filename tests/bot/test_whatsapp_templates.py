"""WhatsApp templates as content (content/templates/): loading, the checks Meta's rules ask
for, and `rahnuma templates sync` against a local fake of Twilio's Content API."""

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import Session, select

from bot.content.check import template_problems
from bot.content.templates import load_templates
from bot.db import session_scope
from bot.messaging.templates import WhatsAppTemplate, approval_name, sync_templates
from bot.messaging.twilio import ContentApi
from bot.settings import PROJECT_ROOT
from tests.fakes.twilio_server import FakeTwilio

ACCOUNT = "AC" + "a" * 32
TEXTS = {
    "ur": "رہنما: آپ کی شکایت {{1}} کے بارے میں نئی خبر ہے۔ اب اس کی صورتحال یہ ہے: {{2}}۔",
    "ur-Latn": "Rahnuma: aap ki shikayat {{1}} ki nayi khabar hai. Ab us ka haal yeh hai: {{2}}.",
    "pa": "رہنما: تہاڈی شکایت {{1}} دی نویں خبر اے۔ ہن اوہدا حال ایہ اے: {{2}}۔",
    "ps": "رهنما: ستاسو د شکایت {{1}} په اړه نوی خبر دی. اوس یې حال دا دی: {{2}}.",
    "en": "Rahnuma: there is news about your complaint {{1}}. It is now: {{2}}. Reply to ask.",
}


def write(directory: Path, *, key: str = "case_update", category: str = "UTILITY",
          variables: str = "[reference, status]", **texts: str) -> Path:
    """content/templates/case.yml with one template; `texts` replace languages (ur_Latn for
    ur-Latn), an empty text leaves that language out."""
    chosen = dict(TEXTS) | {k.replace("_", "-"): v for k, v in texts.items()}
    lines = [f"{key}:", f"  category: {category}", f"  variables: {variables}", "  text:"]
    lines += [f'    {language}: "{text}"' for language, text in chosen.items() if text]
    (directory / "templates").mkdir(exist_ok=True)
    (directory / "templates" / "case.yml").write_text("\n".join(lines) + "\n",
                                                      encoding="utf-8")
    return directory


def problems(directory: Path) -> list[str]:
    return template_problems(directory, contacts={"opf_helpline"})


def test_template_loader_reads_category_variables_and_five_languages(tmp_path):
    templates, found = load_templates(write(tmp_path))
    template = templates["case_update"]
    assert found == [] and template.category == "UTILITY"
    assert template.variables == ("reference", "status") and len(template.text) == 5
    assert template.variables_for({"status": "closed", "reference": "R1"}) == {"1": "R1",
                                                                               "2": "closed"}


def test_template_check_passes_the_helplines_own_templates():
    import yaml

    contacts = yaml.safe_load((PROJECT_ROOT / "content" / "contacts.yml").read_text())
    assert template_problems(PROJECT_ROOT / "content", contacts=set(contacts)) == []


def test_template_check_passes_a_good_template(tmp_path):
    assert problems(write(tmp_path)) == []


def test_template_check_catches_a_missing_language(tmp_path):
    assert problems(write(tmp_path, ps="")) == ["templates/case.yml case_update [ps]: "
                                                "missing language"]


# (what is wrong, the template's fields as written, what the check says)
BROKEN = {
    "a variable not declared": (
        {"en": "Rahnuma: complaint {{1}} is {{2}}, see {{3}} now."}, "[en]: uses ['1', '2', '3']"),
    "a declared variable left out": (
        {"en": "Rahnuma: your complaint {{1}} has news. Reply here."},
        "[en]: uses ['1'], declares ['1', '2']"),
    "a named variable": (
        {"en": "Rahnuma: complaint {{1}} is {{status}} now. Reply."}, "[en]: uses"),
    "a variable at the start": (
        {"en": "{{1}}: your complaint is now {{2}}. Reply to ask."},
        "[en]: a variable at the start or end"),
    "a variable at the end": (
        {"en": "Rahnuma: your complaint {{1}} is now {{2}}"},
        "[en]: a variable at the start or end"),
    "two variables side by side": (
        {"en": "Rahnuma: your complaint {{1}}, {{2}}. Reply to ask."},
        "[en]: two variables with no word between"),
    "a text over 1024 characters": (
        {"en": "Rahnuma: complaint {{1}} is {{2}}. " + "x" * 1024}, "(max 1024)"),
    "an unknown category": ({"category": "ALERTS"}, "category 'ALERTS' is not one of"),
    "an unknown contact": (
        {"en": "Rahnuma: complaint {{1}} is {{2}}. Call {nowhere}."},
        "[en]: unknown reference {nowhere}"),
    "Urdu declared Punjabi": ({"pa": TEXTS["ur"]}, "[pa]: declared pa but reads as ur"),
}


@pytest.mark.parametrize("fields, says", BROKEN.values(), ids=BROKEN.keys())
def test_template_check_catches_a_broken_template(tmp_path, fields, says):
    found = problems(write(tmp_path, **fields))
    assert any(says in problem for problem in found), found


def test_content_check_reports_a_bad_template(tmp_path):
    """`rahnuma content check` (load_content) includes the template rules."""
    import shutil

    from bot.content.store import load_content

    shutil.copytree(PROJECT_ROOT / "content", tmp_path / "content")
    write(tmp_path / "content", key="a_test_template", en="{{1}} {{2}}")
    assert any("a_test_template [en]" in problem
               for problem in load_content(tmp_path / "content").problems)


# --- sync against the fake Content API ------------------------------------------------------

@pytest.fixture
def twilio():
    with FakeTwilio() as fake:
        yield fake


def sync(db, twilio, directory: Path):
    api = ContentApi(ACCOUNT, "token", base_url=twilio.content_url)
    with session_scope(db) as session:
        return sync_templates(session, api, load_templates(directory)[0])


def rows(db) -> dict[str, WhatsAppTemplate]:
    with Session(db) as session:
        return {row.language: row for row in session.exec(select(WhatsAppTemplate))}


def test_sync_creates_each_language_at_twilio(db, twilio, tmp_path):
    sync(db, twilio, write(tmp_path))
    created = list(twilio.contents.values())
    # Roman Urdu is Urdu to Meta (its own name tells the two apart).
    assert sorted(c.language for c in created) == ["en", "pa", "ps_AF", "ur", "ur"]
    assert sorted(c.body for c in created) == sorted(TEXTS.values())
    assert all(c.variables == {"1": "reference", "2": "status"} for c in created)


def test_sync_requests_whatsapp_approval_under_a_name_per_text(db, twilio, tmp_path):
    sync(db, twilio, write(tmp_path))
    requests = [c.approval_requests for c in twilio.contents.values()]
    assert all(len(r) == 1 and r[0]["category"] == "UTILITY" for r in requests)
    assert len({r[0]["name"] for r in requests}) == 5
    assert approval_name("case_update", "ur-Latn", TEXTS["ur-Latn"]).startswith(
        "rahnuma_case_update_ur_latn_")


def test_sync_records_each_languages_content_sid_and_status(db, twilio, tmp_path):
    sync(db, twilio, write(tmp_path))
    recorded = rows(db)
    assert sorted(recorded) == ["en", "pa", "ps", "ur", "ur-Latn"]
    assert {row.content_sid for row in recorded.values()} == set(twilio.contents)
    assert {row.approval_status for row in recorded.values()} == {"received"}


def test_sync_refreshes_the_approval_status_later(db, twilio, tmp_path):
    sync(db, twilio, write(tmp_path))
    twilio.set_approval("approved")
    results = sync(db, twilio, write(tmp_path))
    assert {r.action for r in results} == {"refreshed"} and len(twilio.contents) == 5
    assert {row.approval_status for row in rows(db).values()} == {"approved"}


def test_sync_records_why_whatsapp_rejected_a_template(db, twilio, tmp_path):
    sync(db, twilio, write(tmp_path))
    sid = rows(db)["ps"].content_sid
    twilio.set_approval("rejected", sid=sid, reason="INVALID_FORMAT")
    sync(db, twilio, write(tmp_path))
    assert (rows(db)["ps"].approval_status, rows(db)["ps"].rejection_reason) == (
        "rejected", "INVALID_FORMAT")


def test_sync_recreates_a_template_whose_text_changed(db, twilio, tmp_path):
    sync(db, twilio, write(tmp_path))
    twilio.set_approval("approved")
    before = rows(db)
    changed = "Rahnuma: news about complaint {{1}}. It is now: {{2}}. Reply here to ask us."
    results = sync(db, twilio, write(tmp_path, en=changed))
    after = rows(db)
    assert [(r.language, r.action) for r in results if r.action == "created"] == [("en", "created")]
    assert after["en"].content_sid != before["en"].content_sid
    assert (after["en"].body, after["en"].approval_status) == (changed, "received")
    assert after["ur"].content_sid == before["ur"].content_sid


def test_sync_keeps_the_approved_text_in_use_while_a_change_awaits_approval(db, twilio,
                                                                          tmp_path):
    from bot.messaging.templates import approved_sid

    sync(db, twilio, write(tmp_path))
    twilio.set_approval("approved")
    sync(db, twilio, write(tmp_path))
    approved = rows(db)["en"].content_sid
    sync(db, twilio, write(tmp_path, en="Rahnuma: complaint {{1}} is now {{2}}. Reply here."))
    with Session(db) as session:
        assert approved_sid(session, "case_update", "en") == approved
    twilio.set_approval("approved")
    sync(db, twilio, write(tmp_path, en="Rahnuma: complaint {{1}} is now {{2}}. Reply here."))
    new = rows(db)["en"].content_sid
    with Session(db) as session:
        assert approved_sid(session, "case_update", "en") == new != approved


def test_sync_stops_using_a_template_whatsapp_paused(db, twilio, tmp_path):
    from bot.messaging.templates import approved_sid

    sync(db, twilio, write(tmp_path))
    twilio.set_approval("approved")
    sync(db, twilio, write(tmp_path))
    twilio.set_approval("paused")
    sync(db, twilio, write(tmp_path))
    with Session(db) as session:
        assert approved_sid(session, "case_update", "en") is None


def test_sync_reports_a_failure_and_goes_on(db, twilio, tmp_path):
    twilio.outages = 1  # the first create gets a 500
    results = sync(db, twilio, write(tmp_path))
    assert [r.action for r in results].count("failed") == 1
    assert len(twilio.contents) == 4


def test_templates_sync_command_prints_each_language(db, twilio, settings, monkeypatch):
    from bot import cli

    settings = settings.model_copy(update={"twilio_account_sid": ACCOUNT,
                                           "twilio_api_base_url": twilio.url})
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    result = CliRunner().invoke(cli.main, ["templates", "sync"])
    assert result.exit_code == 0, result.output
    assert "staff_reply [ps]: created, received" in result.output
