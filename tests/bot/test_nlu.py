import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot.conversation.nlu import (
    FALLBACK,
    KeywordClassifier,
    NluUnavailable,
    RasaClient,
    ResilientNlu,
)
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
        raise NluUnavailable("ConnectionRefusedError")


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
    with pytest.raises(NluUnavailable):
        client.parse("salam")
    assert not client.is_up()


class _OneRequestPerConnection(BaseHTTPRequestHandler):
    """A parse server that drops every connection after one answer, without saying so (as a
    server whose keep-alive timeout ran out does), and answers 500 to the text "crash"."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        text = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["text"]
        self.server.texts.append((text, self.path))  # type: ignore[attr-defined]
        body = json.dumps({"intent": {"name": "greet", "confidence": 0.9},
                           "intent_ranking": [{"name": "greet", "confidence": 0.9}]}).encode()
        self.send_response(500 if text == "crash" else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


def test_rasa_client_reconnects_after_an_idle_close_and_reports_errors():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OneRequestPerConnection)
    server.texts = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = RasaClient(f"http://127.0.0.1:{server.server_port}", timeout=2, token="t k")
        assert [client.parse(text).intent for text in ("a", "b", "c")] == ["greet"] * 3
        assert server.texts == [(text, "/model/parse?token=t+k")  # type: ignore[attr-defined]
                                for text in ("a", "b", "c")]
        with pytest.raises(NluUnavailable):
            client.parse("crash")
    finally:
        server.shutdown()
