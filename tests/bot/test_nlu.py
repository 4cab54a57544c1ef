import httpx
import pytest

from bot.conversation.nlu import FALLBACK, KeywordClassifier, RasaClient, ResilientNlu
from bot.settings import PROJECT_ROOT
from tests.factories import nlu_result


@pytest.fixture(scope="module")
def keywords() -> KeywordClassifier:
    return KeywordClassifier.from_file(PROJECT_ROOT / "nlu_data" / "keywords.yml")


def test_keywords_longer_phrase_wins_over_the_word_inside_it():
    classifier = KeywordClassifier({"file_complaint": ["shikayat"],
                                    "complaint_channels": ["shikayat kahan"]})
    assert classifier.parse("shikayat kahan karun").intent == "complaint_channels"
    assert classifier.parse("mujhe shikayat karni hai").intent == "file_complaint"


def test_keywords_match_whole_words_only():
    classifier = KeywordClassifier({"ask_fees": ["fee"]})
    assert classifier.parse("coffee please").intent is None


def test_keywords_match_either_keyboard_for_heh_and_yeh():
    classifier = KeywordClassifier({"ask_visa": ["ویزہ"]})
    assert classifier.parse("آزاد ویزه څه دی").intent == "ask_visa"


def test_keywords_no_match_is_no_intent(keywords):
    result = keywords.parse("qwerty zxcv")
    assert (result.intent, result.source) == (None, FALLBACK)


@pytest.mark.parametrize("text,intent", [
    ("mera passport agent ne rakh liya", "passport_held"),
    ("تنخواہ نہیں ملی", "unpaid_wages"),
])
def test_keywords_file_covers_common_phrasings(keywords, text, intent):
    assert keywords.parse(text).intent == intent


class Failing:
    def __init__(self) -> None:
        self.calls = 0

    def parse(self, text):
        self.calls += 1
        raise httpx.ConnectError("refused")


def test_resilient_nlu_falls_back_and_rests_the_server():
    primary = Failing()
    nlu = ResilientNlu(primary, KeywordClassifier({"ask_fees": ["fees"]}), retry_after=60)
    assert nlu.parse("fees").source == FALLBACK
    assert nlu.parse("fees").intent == "ask_fees"
    assert primary.calls == 1  # the second message did not wait on a dead server


def test_resilient_nlu_uses_the_server_when_it_answers():
    class Up:
        def parse(self, text):
            return nlu_result("greet")

    nlu = ResilientNlu(Up(), KeywordClassifier({}), retry_after=60)
    assert nlu.parse("salam").source == "rasa"


def test_rasa_client_reports_unreachable_server_quickly():
    client = RasaClient("http://127.0.0.1:9", timeout=0.5)
    with pytest.raises(httpx.HTTPError):
        client.parse("salam")
    assert not client.is_up()
