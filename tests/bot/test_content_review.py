"""Texts edited in the dashboard: propose, review, publish, roll back; workbooks; YAML export."""

from io import BytesIO

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlmodel import Session

from bot.casework.staff import Role
from bot.cli import main
from bot.content import review
from bot.content.export import export_yaml
from bot.content.review import LiveContent, ReviewError, VersionStatus
from bot.content.texts import text_of
from bot.content.workbook import WorkbookError, export_workbook, import_workbook
from bot.conversation.engine import Engine
from bot.conversation.inbox import receive
from bot.conversation.language import Lang
from bot.settings import PROJECT_ROOT, get_settings
from tests.api.staff_helpers import make_staff
from tests.factories import inbound

KEY = "ui:no_more"
NEW_UR_LATN = "Is mauzoo par aur kuch nahi. Menu ke liye 0 bhejein."


@pytest.fixture
def people(db):
    return (make_staff(db, "editor@centre.org", role=Role.CASEWORKER),
            make_staff(db, "reviewer@centre.org", role=Role.CASEWORKER))


def _publish(db, content, people, key=KEY, language=Lang.UR_LATN, text=NEW_UR_LATN):
    editor, reviewer = people
    with Session(db) as session:
        version = review.propose(session, content, key=key, language=language, text=text,
                                 author_id=editor)
        review.approve(session, content, version_id=version.id, reviewer_id=reviewer)
        session.commit()
        return version.id


def test_propose_refuses_a_text_that_fails_the_content_checks(db, content, people):
    too_long = "Bahut lamba jawab. " * 80
    with Session(db) as session, pytest.raises(ReviewError, match="characters"):
        review.propose(session, content, key="topic:fees:sms", language=Lang.UR_LATN,
                       text=too_long, author_id=people[0])


def test_propose_refuses_an_unknown_placeholder(db, content, people):
    with Session(db) as session, pytest.raises(ReviewError, match="unknown reference"):
        review.propose(session, content, key=KEY, language=Lang.EN,
                       text="Call {nowhere} for more.", author_id=people[0])


def test_approve_by_the_author_is_refused(db, content, people):
    editor, _ = people
    with Session(db) as session:
        version = review.propose(session, content, key=KEY, language=Lang.UR_LATN,
                                 text=NEW_UR_LATN, author_id=editor)
        with pytest.raises(ReviewError, match="another person"):
            review.approve(session, content, version_id=version.id, reviewer_id=editor)


def test_send_back_needs_a_comment_and_publishes_nothing(db, content, people):
    editor, reviewer = people
    with Session(db) as session:
        version = review.propose(session, content, key=KEY, language=Lang.UR_LATN,
                                 text=NEW_UR_LATN, author_id=editor)
        with pytest.raises(ReviewError):
            review.send_back(session, version_id=version.id, reviewer_id=reviewer, comment=" ")
        review.send_back(session, version_id=version.id, reviewer_id=reviewer,
                         comment="say 'bhejein'")
        session.commit()
        assert version.status == VersionStatus.SENT_BACK
        assert review.published_changes(session) == {}


def test_a_published_text_is_what_the_bot_says_on_the_next_message(db, content, fake_nlu,
                                                                      people):
    bot = Engine(content, fake_nlu, confidence_threshold=0.55, sms_max_segments=3,
                 live=LiveContent(content))
    before = receive(db, bot, inbound("more", phone="+923001230001")).replies
    assert before[0].body == content.text("no_more", Lang.UR_LATN)  # the default form
    _publish(db, content, people)
    after = receive(db, bot, inbound("more", phone="+923001230001")).replies
    assert after[0].body == NEW_UR_LATN


def test_rollback_publishes_the_repository_text_again(db, content, people):
    _publish(db, content, people)
    live = LiveContent(content)
    with Session(db) as session:
        assert text_of(live.current(session), KEY, Lang.UR_LATN) == NEW_UR_LATN
        review.rollback(session, live.current(session), content, key=KEY,
                        language=Lang.UR_LATN, to_version=None, reviewer_id=people[1])
        session.commit()
        assert text_of(live.current(session), KEY, Lang.UR_LATN) == \
            text_of(content, KEY, Lang.UR_LATN)
        assert len(review.history(session, KEY, Lang.UR_LATN)) == 2  # both kept


def test_changed_since_review_lists_a_translation_whose_english_changed(db, content, people):
    _publish(db, content, people, language=Lang.PA, text=text_of(content, KEY, Lang.PA) + " ۔")
    live = LiveContent(content)
    with Session(db) as session:
        assert review.changed_since_review(session, live.current(session), Lang.PA, [KEY]) == []
    _publish(db, content, people, language=Lang.EN, text="Nothing more on this. Send 0.")
    with Session(db) as session:
        stale = review.changed_since_review(session, live.current(session), Lang.PA, [KEY])
    assert [(s.key, s.why) for s in stale] == [(KEY, "english")]


def _edited_workbook(content, rows: dict[str, str], language=Lang.UR_LATN) -> bytes:
    book = load_workbook(BytesIO(export_workbook(content, [language])))
    sheet = book[str(language)]
    for row in sheet.iter_rows(min_row=2):
        if row[0].value in rows:
            row[2].value = rows[row[0].value]
            row[4].value = "native reviewer"
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def test_workbook_round_trip_makes_proposals_of_changed_rows_only(db, content, people):
    data = _edited_workbook(content, {KEY: NEW_UR_LATN})
    with Session(db) as session:
        report = import_workbook(session, content, data, author_id=people[0])
        session.commit()
        assert [(v.key, v.text) for v in report.proposed] == [(KEY, NEW_UR_LATN)]
        assert report.unchanged > 100
        assert [v.key for v in review.proposals(session)] == [KEY]


def test_workbook_with_a_bad_row_imports_nothing_and_names_the_row(db, content, people):
    data = _edited_workbook(content, {KEY: NEW_UR_LATN, "ui:menu": "sirf ek line"})
    with Session(db) as session:
        with pytest.raises(WorkbookError) as refused:
            import_workbook(session, content, data, author_id=people[0])
        session.rollback()
        assert review.proposals(session) == []
    assert any(p.startswith("sheet ur-Latn row ") and "menu" in p
               for p in refused.value.problems)


def test_workbook_that_is_not_xlsx_is_refused(db, content, people):
    with Session(db) as session, pytest.raises(WorkbookError, match="not an XLSX"):
        import_workbook(session, content, b"key,text\n", author_id=people[0])


def test_export_yaml_writes_the_published_text_and_keeps_the_comments(tmp_path, content):
    changes = {("topic:fees:title", Lang.EN): "Fees: what the law allows",
               (KEY, Lang.UR_LATN): NEW_UR_LATN}
    written = export_yaml(PROJECT_ROOT / "content", changes, tmp_path)
    fees = (tmp_path / "topics" / "fees.yml").read_text(encoding="utf-8")
    assert 'en: "Fees: what the law allows"' in fees
    assert "sms:\n  ur: |-\n" in fees  # block texts stay blocks
    ui = next(p for p in written if p.name != "fees.yml").read_text(encoding="utf-8")
    assert NEW_UR_LATN in ui and ui.lstrip().startswith("#")


def test_cli_content_export_yaml_writes_what_was_published(db, database_url, content, people,
                                                           tmp_path, monkeypatch):
    _publish(db, content, people)
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, ["content", "export", "--yaml",
                                           "--yaml-dir", str(tmp_path)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert f'ur-Latn: "{NEW_UR_LATN}"' in (tmp_path / "ui.yml").read_text(encoding="utf-8")
