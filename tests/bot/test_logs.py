import io
import json
import logging

from bot.conversation.inbox import redact_phone
from bot.logs import JsonFormatter, configure_logging, redact


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


def test_redact_hides_numbers_in_query_strings():
    for number in ("%2B923001234567", "whatsapp%3A%2B923001234567", "%2B92+300+1234567",
                   "%2B92%20300%201234567", "+92+300+1234567", "0300-1234567",
                   "%2b923001234567"):
        out = redact(f'GET /staff/queue?view=open&q={number} HTTP/1.1" 200')
        assert "1234567" not in out and "…67" in out, (number, out)


def test_redact_leaves_dates_amounts_and_ids_alone():
    text = "referral 42 on 2024-01-31 for Rs 150000, outbox 1234567"
    assert redact(text) == text


def test_access_log_records_the_path_without_the_query_string():
    configure_logging()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    access = logging.getLogger("uvicorn.access")
    access.addHandler(handler)
    # The record uvicorn logs for every request; handle() skips the level check (a uvicorn
    # started by another test may have set this logger to WARNING) but applies its filters.
    record = access.makeRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:50000", "GET",
                                "/staff/queue?q=Gujrat+district&view=open", "1.1", 200), None)
    try:
        access.handle(record)
    finally:
        access.removeHandler(handler)
    message = json.loads(stream.getvalue())["message"]
    assert "GET /staff/queue HTTP/1.1" in message and "Gujrat" not in message
