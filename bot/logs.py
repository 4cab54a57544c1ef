"""Structured logs (one JSON object a line) that never hold a full phone number."""

import json
import logging
import re

# Between the digits of a number: spaces, dashes, dots, and their URL-encoded forms in a query
# string ("+" and %20 for a space, %2B for "+"): "q=%2B92+300+1234567" is a number too.
_GAP = r"(?:[\s.\-+]|%20|%2[Bb])"
_NUMBER = re.compile(rf"(?<![0-9])(?:\+|%2[Bb])?[0-9](?:{_GAP}*[0-9])+(?![0-9])")
_ENCODED_GAP = re.compile(r"%20|%2[Bb]|\D")
# Shorter runs are amounts, ids, times and dates ("2024-01-31" has 8): left alone. Pakistani
# numbers have 10 digits without the leading 0, 12 with the country code.
MIN_PHONE_DIGITS = 9
# The access log's arguments: (client, method, path with query string, HTTP version, status).
ACCESS_LOGGER = "uvicorn.access"
PATH_ARG = 2


def _mask(match: re.Match[str]) -> str:
    """+923001234567 -> +9230…67: enough to tell numbers apart, not enough to call one."""
    found = match.group()
    digits = _ENCODED_GAP.sub("", found)
    if len(digits) < MIN_PHONE_DIGITS:
        return found
    plus = "+" if found.startswith(("+", "%2B", "%2b")) else ""
    return f"{plus}{digits[:4]}…{digits[-2:]}"


def redact(text: str) -> str:
    return _NUMBER.sub(_mask, text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": record.levelname,
                 "logger": record.name, "message": redact(record.getMessage())}
        if record.exc_info:
            entry["error"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class DropQueryString(logging.Filter):
    """The access log records the path only: a queue search (`?q=+92...`) or a district filter
    is what a caseworker typed about a person, and has no place in a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) > PATH_ARG:
            full = args[PATH_ARG]
            if isinstance(full, str):
                record.args = (*args[:PATH_ARG], full.split("?", 1)[0], *args[PATH_ARG + 1:])
        return True


def configure_logging(level: int = logging.INFO) -> None:
    """Message bodies are never logged at all (the code passes none); numbers are redacted."""
    root = logging.getLogger()
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request at INFO: one line per NLU parse and per Twilio call is noise
    # at a cost (JSON formatting on the hot path); failures still surface as warnings.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    access = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, DropQueryString) for f in access.filters):
        access.addFilter(DropQueryString())
