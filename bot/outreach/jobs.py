"""Every kind of timed job and the function that runs it (bot/messaging/scheduler.py).

Each feature adds its own entries: journey reminders and check-ins (bot/outreach/journey_jobs.py),
case updates held through quiet hours (bot/outreach/case_updates.py)."""

from bot.messaging.scheduler import Handler
from bot.outreach import broadcast_sending, journey_jobs
from bot.settings import Settings


def job_handlers(settings: Settings | None = None) -> dict[str, Handler]:
    """`settings`: the worker's (tests pass their own); the process's settings otherwise."""
    return {**journey_jobs.handlers(settings), **broadcast_sending.handlers(settings)}
