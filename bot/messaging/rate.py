"""Twilio's sending rate per sender number, shared by every worker.

Why pace at all: Twilio accepts more than a sender's messages per second but then queues them,
first in first out, per sender. Handed 100,000 reminders at once, it would hold a reply sent a
second later behind all of them, whatever our priorities say. Sent at the sender's rate, Twilio's
queue stays empty and our order (replies first) is the order people receive.

How: one row per sender number holds the time of its next free sending slot. A worker reserves
as many slots as it claimed messages in one atomic statement (an upsert that moves the row on
and returns where it now stands), then sends each message at its slot. Workers never reserve
the same slot, however many there are, and a reservation is one statement per batch, not per
message. Claims are sized to about half a second of sending per channel, at the sender's rate or
at what this worker manages, whichever is slower (a worker short of CPU sends below the rate:
sized to the rate alone, its rounds grew to seconds, and a reply waited for the round). So a
reply queued behind a bulk waits about a round, not for the bulk.
"""

import math
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, func
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, SQLModel

# Seconds of sending one worker claims per channel at once: short, so that a reply queued
# meanwhile is claimed in the next round, and long enough that a round is not all overhead.
HORIZON = 0.5


class SendingRate(SQLModel, table=True):
    sender: str = Field(primary_key=True, max_length=64)  # "+1555...", "whatsapp:+1555..."
    # Unix time (seconds) of the sender's next free slot: a float so that both databases can
    # do the arithmetic in the statement that reserves (no interval types in SQLite).
    next_free: float = 0.0


class Pacer:
    """Reserves sending slots for sender numbers at `per_second` each."""

    def __init__(self, db: Engine, per_second: float, *,
                 clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.db, self.per_second = db, per_second
        self.clock, self.sleep = clock, sleep
        self.achieved: float | None = None  # messages a second this worker sent, lately

    def claim_size(self, limit: int) -> int:
        """How many messages one worker takes for one sender in a round."""
        pace = min(self.per_second, self.achieved or self.per_second)
        return max(1, min(limit, math.ceil(pace * HORIZON)))

    def observe(self, claimed: int, seconds: float, *, full: bool) -> None:
        """A round's pace. Only full rounds (a backlog) say what the worker can do; smoothed,
        as one round may meet a slow moment."""
        if full and claimed and seconds > 0:
            pace = claimed / seconds
            self.achieved = pace if self.achieved is None else (self.achieved + pace) / 2

    def reserve(self, sender: str, count: int) -> list[float]:
        """`count` consecutive slots of `sender`, after every slot reserved before (by any
        worker), and not before now; their times."""
        if count <= 0:
            return []
        now, span = self.clock(), count / self.per_second
        statement = _reserving(self.db.dialect.name, sender, now, span)
        with self.db.begin() as connection:
            end = float(connection.execute(statement).scalar_one())
        start = end - span
        return [start + index / self.per_second for index in range(count)]

    def wait_until(self, slot: float) -> None:
        delay = slot - self.clock()
        if delay > 0:
            self.sleep(delay)


def _reserving(dialect: str, sender: str, now: float, span: float) -> Any:
    """INSERT ... ON CONFLICT (sender) DO UPDATE SET next_free = later(next_free, now) + span
    RETURNING next_free: the row moves on and says where to, in one atomic statement."""
    table = SendingRate.__table__  # type: ignore[attr-defined]
    if dialect == "postgresql":
        insert = postgresql_insert(table).values(sender=sender, next_free=now + span)
        return insert.on_conflict_do_update(
            index_elements=[table.c.sender],
            set_={"next_free": func.greatest(table.c.next_free, now) + span},
        ).returning(table.c.next_free)
    upsert = sqlite_insert(table).values(sender=sender, next_free=now + span)
    return upsert.on_conflict_do_update(  # SQLite: max() of two values is the scalar max
        index_elements=[table.c.sender],
        set_={"next_free": func.max(table.c.next_free, now) + span},
    ).returning(table.c.next_free)


class Unpaced:
    """No rate limit (a sender of our own, or tests that are not about the rate)."""

    def claim_size(self, limit: int) -> int:
        return limit

    def observe(self, claimed: int, seconds: float, *, full: bool) -> None:
        pass

    def reserve(self, sender: str, count: int) -> list[float]:
        return [0.0] * count

    def wait_until(self, slot: float) -> None:
        pass
