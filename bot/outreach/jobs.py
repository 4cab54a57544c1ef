"""Every kind of timed job and the function that runs it (bot/messaging/scheduler.py).

Each feature adds its own entries: journey reminders and check-ins (bot/outreach/journey.py),
case updates held through quiet hours (bot/outreach/case_updates.py)."""

from bot.messaging.scheduler import Handler


def job_handlers() -> dict[str, Handler]:
    return {}
