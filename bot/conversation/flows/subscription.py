"""STOP and START: an opted-out person gets nothing until they send START."""

from bot.conversation.contacts import utcnow
from bot.conversation.flows import alerts
from bot.conversation.turn import Turn
from bot.outreach import journey


def stop(turn: Turn) -> None:
    if turn.session is not None:  # before opting out: alerts are asked of a subscribed person
        alerts.stopped_everything(turn)
    turn.contact.opted_out = True
    turn.contact.opted_out_at = utcnow()
    if turn.session is not None:  # departure reminders end too (START does not bring them back)
        journey.stop(turn.db, contact_id=turn.contact_id)
    turn.state.reset()
    turn.say("stopped")  # the one confirmation carriers expect; nothing after it


def start(turn: Turn) -> None:
    turn.contact.opted_out = False
    turn.contact.opted_out_at = None
    turn.say("started")
