"""The content loader and `rahnuma content check` catch what a reviewer would."""

import shutil

import pytest
import yaml

from bot.content.export import export_html
from bot.content.store import ContentError, Topic, get_content, load_content
from bot.settings import PROJECT_ROOT


@pytest.fixture
def content_dir(tmp_path):
    target = tmp_path / "content"
    shutil.copytree(PROJECT_ROOT / "content", target)
    return target


def edit(path, change):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def problems(content_dir) -> str:
    return "\n".join(load_content(content_dir).problems)


def test_content_real_base_has_no_problems():
    assert load_content(PROJECT_ROOT / "content").problems == []


def test_content_missing_language_is_a_problem(content_dir):
    edit(content_dir / "topics" / "fees.yml", lambda d: d["sms"].pop("ps"))
    assert "topics/fees.yml sms: missing language ps" in problems(content_dir)


def test_content_missing_translation_refuses_to_load(content_dir):
    edit(content_dir / "ui.yml", lambda d: d["menu"].pop("pa"))
    with pytest.raises(ContentError, match="ui.yml menu: missing language pa"):
        get_content(content_dir)


def test_content_unknown_contact_reference_is_a_problem(content_dir):
    edit(content_dir / "topics" / "fees.yml",
         lambda d: d["more"].update(en=d["more"]["en"] + " Call {police_hotline}."))
    assert "unknown reference {police_hotline}" in problems(content_dir)


def test_content_over_long_sms_is_a_problem(content_dir):
    edit(content_dir / "topics" / "fees.yml", lambda d: d["sms"].update(ur=d["sms"]["ur"] * 2))
    assert "topics/fees.yml sms [ur]" in problems(content_dir)


def test_content_over_long_whatsapp_is_a_problem(content_dir):
    edit(content_dir / "topics" / "visas.yml",
         lambda d: d["whatsapp"].update(en=d["whatsapp"]["en"] * 3))
    assert "topics/visas.yml whatsapp [en]" in problems(content_dir)


def test_content_urdu_declared_as_punjabi_is_a_problem(content_dir):
    edit(content_dir / "topics" / "fees.yml",
         lambda d: d["whatsapp"].update(pa=d["whatsapp"]["ur"]))
    assert "topics/fees.yml whatsapp [pa]: declared pa but reads as ur" in problems(content_dir)


def test_content_urdu_declared_as_pashto_is_a_problem(content_dir):
    edit(content_dir / "topics" / "passport.yml",
         lambda d: d["more"].update(ps=d["more"]["ur"]))
    assert "topics/passport.yml more [ps]: declared ps but reads as ur" in problems(content_dir)


def test_content_english_left_in_urdu_is_a_problem(content_dir):
    edit(content_dir / "topics" / "fees.yml",
         lambda d: d["whatsapp"].update(ur=d["whatsapp"]["ur"] + " Please pay in the bank."))
    assert "English words left in a ur text" in problems(content_dir)


def test_content_english_sentence_in_roman_urdu_is_a_problem(content_dir):
    edit(content_dir / "topics" / "fees.yml",
         lambda d: d["more"].update(**{"ur-Latn": d["more"]["ur-Latn"] + " What is the fee?"}))
    assert "English words left in a ur-Latn text" in problems(content_dir)


def test_content_example_numbers_that_could_be_somebodys_are_a_problem(content_dir):
    fees = content_dir / "topics" / "fees.yml"
    original = yaml.safe_load(fees.read_text(encoding="utf-8"))["whatsapp"]["en"]
    for example in ("0848/LHR", "0300 1234567", "1234/LHR, 03XX XXXXXXX"):
        edit(fees, lambda d, e=example: d["whatsapp"].update(en=f"{original} ({e})"))
        found = [line for line in problems(content_dir).splitlines()
                 if line.startswith("topics/fees.yml whatsapp [en]: an example that could")]
        if example.startswith("1234"):  # masked: nobody's
            assert found == []
        else:
            assert len(found) == 1 and f"'{example}'" in found[0]


def test_content_rule_numbers_in_a_text_for_workers_are_a_problem(content_dir):
    fees = content_dir / "topics" / "fees.yml"
    edit(fees, lambda d: d["sms"].update(en=d["sms"]["en"] + " (ER r.25(2)(xiii))"))
    assert "topics/fees.yml sms [en]: a rule number in a text for workers" in \
        problems(content_dir)


def test_content_fact_an_sms_reader_never_reaches_is_a_problem(content_dir, monkeypatch):
    # As MORE used to work on SMS: the `more` text only, never the WhatsApp answer.
    monkeypatch.setattr(Topic, "continuation", lambda self, language, channel:
                        self.more[language])
    found = [line for line in problems(content_dir).splitlines()
             if line.startswith("topics/fees.yml whatsapp [ur]")]
    assert found and "never reach an SMS reader" in found[0] and "'500'" in found[0]


def test_content_topic_that_nothing_reaches_is_a_problem(content_dir):
    shutil.copy(content_dir / "topics" / "briefing.yml", content_dir / "topics" / "orphan.yml")
    edit(content_dir / "topics" / "orphan.yml", lambda d: d.update(id="orphan"))
    assert "topics/orphan.yml: no intent or menu item reaches it" in problems(content_dir)


def test_content_intent_without_an_answer_is_a_problem(content_dir):
    edit(content_dir / "topics" / "visas.yml", lambda d: d.update(intents=[]))
    assert "intent ask_visa: no topic lists it" in problems(content_dir)


def test_content_export_shows_every_topic_in_five_languages_right_to_left(content):
    page = export_html(content)
    for topic_id in content.topics:
        assert f"id='{topic_id}'" in page
    assert page.count('dir="rtl"') == 3 * page.count('lang="en"')
    assert "111-247-786" in page and "{date}" in page


def test_content_text_no_code_asks_for_is_a_problem(content_dir):
    edit(content_dir / "ui.yml", lambda d: d.update(forgotten=dict(d["help"])))
    assert "ui.yml forgotten: no code asks for this text" in problems(content_dir)


def test_content_text_the_code_asks_for_must_exist(content_dir):
    edit(content_dir / "ui" / "danger.yml", lambda d: d.pop("danger_offer"))
    assert "ui text 'danger_offer': the code asks for it" in problems(content_dir)


def test_content_placeholder_the_code_never_fills_is_a_problem(content_dir):
    def add(data):
        data["help"]["en"] += " {reference}"
    edit(content_dir / "ui.yml", add)
    assert "ui.yml help [en]: unknown reference {reference}" in problems(content_dir)


def test_content_numbered_list_longer_than_an_sms_page_is_a_problem(content_dir):
    def lengthen(data):
        data["complaint_callback"]["ur"] += "\n3 " + "ا" * 200
    edit(content_dir / "ui" / "complaint.yml", lengthen)
    assert "ui.yml complaint_callback [ur]: a numbered list of" in problems(content_dir)


def test_turn_refuses_an_undeclared_key_or_parameter(content):
    from bot.conversation.channels import Channel
    from bot.conversation.contacts import Contact
    from bot.conversation.language import Lang
    from bot.conversation.turn import InboundMessage, Turn, Understanding

    turn = Turn(None, Contact(phone=""), InboundMessage("", Channel.SMS, "x"),  # type: ignore[arg-type]
                content, Understanding("x", Lang.EN))
    with pytest.raises(KeyError):
        turn.say("help", reference="ABC123")
    with pytest.raises(KeyError):
        turn.say("no_such_text")
