"""Quiet hours in the person's own time zone."""

from datetime import UTC, datetime, time

import pytest

from bot.outreach.quiet_hours import next_send_time

NIGHT = {"start": time(21, 0), "end": time(8, 0)}


@pytest.mark.parametrize(("utc", "zone", "expected"), [
    # Karachi is UTC+5: 12:00 UTC is 17:00 there, outside the quiet hours.
    (datetime(2026, 3, 1, 12, 0, tzinfo=UTC), "Asia/Karachi", datetime(2026, 3, 1, 12, 0)),
    # 17:00 UTC is 22:00 in Karachi: held to 08:00 next day there, 03:00 UTC.
    (datetime(2026, 3, 1, 17, 0, tzinfo=UTC), "Asia/Karachi", datetime(2026, 3, 2, 3, 0)),
    # 01:00 UTC is 06:00 in Karachi: held to 08:00 the same day.
    (datetime(2026, 3, 1, 1, 0, tzinfo=UTC), None, datetime(2026, 3, 1, 3, 0)),
    # 17:00 UTC is 20:00 in Riyadh (UTC+3): not yet quiet there, though it is in Pakistan.
    (datetime(2026, 3, 1, 17, 0, tzinfo=UTC), "Asia/Riyadh", datetime(2026, 3, 1, 17, 0)),
    # An unknown zone is treated as Pakistan, never as "send now".
    (datetime(2026, 3, 1, 17, 0, tzinfo=UTC), "Mars/Olympus", datetime(2026, 3, 2, 3, 0)),
])
def test_quiet_hours_hold_until_morning_where_the_person_is(utc, zone, expected):
    assert next_send_time(utc, timezone=zone, **NIGHT) == expected.replace(tzinfo=UTC)


def test_quiet_hours_within_one_day():
    lunch = {"start": time(13, 0), "end": time(14, 0)}
    at = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)  # 13:30 in Karachi
    assert next_send_time(at, timezone="Asia/Karachi", **lunch) == datetime(
        2026, 3, 1, 9, 0, tzinfo=UTC)
