"""Logging that never writes a full phone number or a message body."""

import logging
import re

# +92 300 1234567, 03001234567, whatsapp:+923001234567: keep the first 4 and last 2 digits.
_PHONE = re.compile(r"(?<!\w)(\+?\d{2,4})[\d\s-]{5,}(\d{2})(?!\w)")


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _PHONE.sub(r"\1…\2", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def configure_logging(level: int = logging.INFO) -> None:
    root = logging.getLogger()
    if not any(isinstance(f, RedactingFilter) for h in root.handlers for f in h.filters):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(RedactingFilter())
        root.addHandler(handler)
    root.setLevel(level)
