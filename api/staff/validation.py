"""Checking what a dashboard form or query string sends, before it reaches the database.

Every refusal is a 400 that says which field is wrong and why: a typo or a forged form must
never become a 500 (a NUL character or an over-long value is an error on PostgreSQL only, an
"abc" where an id belongs is a ValueError anywhere).
"""

from collections.abc import Iterable
from typing import Annotated

from fastapi import HTTPException, Path

# Twilio refuses a message body longer than this.
MAX_MESSAGE = 1600
MAX_NOTE = 4000
MAX_REASON = 1000
MAX_SEARCH = 64
# The largest id an INTEGER column holds; a bigger number is a driver error (SQLite raises
# OverflowError past 2**63), not a miss.
MAX_ID = 2**31 - 1
# A database id in a URL path: anything else is answered 422 by FastAPI, before any query.
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]


class FormError(HTTPException):
    """A field of a form or query string is not acceptable: answered with 400 and the reason."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(400, f"{field}: {reason}")
        self.field, self.reason = field, reason


def text(value: str | None, field: str, *, max_length: int, required: bool = False) -> str:
    """The value stripped; refused when missing (if required), too long or holding NUL (which
    PostgreSQL cannot store and no person types)."""
    cleaned = (value or "").strip()
    if "\x00" in cleaned:
        raise FormError(field, "contains a NUL character")
    if len(cleaned) > max_length:
        raise FormError(field, f"longer than {max_length} characters")
    if required and not cleaned:
        raise FormError(field, "is empty")
    return cleaned


def choice(value: str | None, field: str, allowed: Iterable[str], *,
           optional: bool = False) -> str:
    """One of `allowed` ("" when optional and not given)."""
    cleaned = (value or "").strip()
    if optional and not cleaned:
        return ""
    if cleaned not in {str(option) for option in allowed}:
        raise FormError(field, f"unknown value {cleaned[:40]!r}")
    return cleaned


def identifier(value: str | None, field: str) -> int:
    """A positive database id given as decimal digits."""
    cleaned = (value or "").strip()
    if not cleaned.isascii() or not cleaned.isdigit() or len(cleaned) > len(str(MAX_ID)):
        raise FormError(field, "is not an id")
    number = int(cleaned)
    if not 1 <= number <= MAX_ID:
        raise FormError(field, "is not an id")
    return number
