"""'What happened to my complaint?': answered from this contact's own records only."""

from bot.conversations import latest_handoff
from bot.turn import Turn


def answer(turn: Turn) -> None:
    handoff = latest_handoff(turn.session, turn.contact.id) if turn.session is not None else None
    if handoff:
        turn.say("status_handoff", date=handoff.created_at.strftime("%d-%m-%Y"))
    else:
        turn.say("status_none")
