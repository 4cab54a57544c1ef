import json
import logging

from bot.conversation.inbox import redact_phone
from bot.logs import JsonFormatter, redact


def test_redact_hides_phone_numbers_in_every_form():
    for number in ("+923001234567", "03001234567", "whatsapp:+923001234567", "+92 300 1234567"):
        out = redact(f"message from {number} received")
        assert "1234567" not in out and "…67" in out


def test_json_log_line_is_structured_and_redacted():
    record = logging.LogRecord("bot.conversation.inbox", logging.INFO, __file__, 1,
                               "duplicate delivery from %s", ("+923001234567",), None)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["level"] == "INFO" and entry["logger"] == "bot.conversation.inbox"
    assert "1234567" not in entry["message"]


def test_redact_phone_keeps_only_a_hint():
    assert redact_phone("+923001234567") == "+923…67"
