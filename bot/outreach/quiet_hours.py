"""Quiet hours: a message that can wait is not sent at night where the person is."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PAKISTAN = "Asia/Karachi"


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or PAKISTAN)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(PAKISTAN)


def next_send_time(now: datetime, *, timezone: str | None, start: time, end: time) -> datetime:
    """`now` (aware, UTC) if it is outside the quiet hours [start, end) in `timezone`
    (Pakistan when unknown); else the end of those quiet hours, in UTC. Quiet hours may run
    over midnight (21:00-08:00) or not (13:00-14:00)."""
    local = now.astimezone(_zone(timezone))
    clock = local.time()
    if start > end:  # over midnight
        quiet = clock >= start or clock < end
        day = local.date() + timedelta(days=1) if clock >= start else local.date()
    else:
        quiet = start <= clock < end
        day = local.date()
    if not quiet:
        return now
    wake = datetime.combine(day, end, tzinfo=local.tzinfo)
    return wake.astimezone(now.tzinfo)
