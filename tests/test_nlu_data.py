"""The NLU training data, its build step and the evaluation report stay consistent."""

import re
from collections import Counter

import yaml

from bot.conversation.intents import INTENTS
from bot.conversation.language import LANGUAGES
from bot.conversation.nlu_build import build
from bot.conversation.nlu_eval import REPORT, TEST_FILE, TEST_FILES, fingerprint
from bot.settings import PROJECT_ROOT

DATA = PROJECT_ROOT / "nlu_data" / "data"
ANNOTATION = re.compile(r"\[([^\]]+)\]\((\w+)\)")


def examples(path):
    for item in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
        if "intent" in item:
            for line in item["examples"].splitlines():
                if line.strip().startswith("- "):
                    yield item["intent"], ANNOTATION.sub(r"\1", line.strip()[2:])


def test_nlu_data_has_every_intent_in_every_language_form():
    for language in LANGUAGES:
        counts = Counter(intent for intent, _ in examples(DATA / f"{language}.yml"))
        assert set(counts) == set(INTENTS), language
        assert min(counts.values()) >= 10, (language, counts.most_common()[-1])


def test_nlu_data_has_at_least_60_examples_per_intent():
    counts = Counter(intent for language in LANGUAGES
                     for intent, _ in examples(DATA / f"{language}.yml"))
    assert min(counts[intent] for intent in INTENTS) >= 60


def test_nlu_data_never_contains_a_test_message():
    tests = {m["text"].strip().lower() for path in TEST_FILES if path.exists()
             for m in yaml.safe_load(path.read_text())}
    training = {text.strip().lower() for language in LANGUAGES
                for _, text in examples(DATA / f"{language}.yml")}
    assert not tests & training


def test_nlu_test_set_has_15_per_intent_in_all_five_forms():
    messages = yaml.safe_load(TEST_FILE.read_text())
    per_intent = Counter(m["intent"] for m in messages)
    assert set(per_intent) == set(INTENTS) and min(per_intent.values()) >= 15
    assert {m["language"] for m in messages} == {str(lang) for lang in LANGUAGES}


def test_nlu_build_normalizes_examples_but_keeps_annotations(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    (source / "ur.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: ask_fees\n  examples: |\n'
        "    - ايجنٹ [۳ لاکھ](amount) مانگ رہا ہے\n", encoding="utf-8")
    built, countries = build(source, tmp_path / "out")
    text = yaml.safe_load(built.read_text(encoding="utf-8"))["nlu"][0]["examples"]
    assert text == "- ایجنٹ [3 لاکھ](amount) مانگ رہا ہے\n"
    lookup = yaml.safe_load(countries.read_text(encoding="utf-8"))["nlu"][0]
    assert lookup["lookup"] == "country" and "- سعودیہ\n" in lookup["examples"]


def test_nlu_report_is_regenerated_for_the_current_data():
    report = REPORT.read_text(encoding="utf-8")
    assert f"`{fingerprint()}`" in report, "data changed: run `make nlu-eval` and commit"
