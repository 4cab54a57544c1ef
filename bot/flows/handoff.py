"""'Talk to a person': recorded as a handoff request that the referral queue picks up."""

from bot.conversations import HandoffRequest
from bot.turn import Turn


def request(turn: Turn) -> None:
    if turn.session is not None:  # `rahnuma ask` is stateless: it records nothing
        turn.session.add(HandoffRequest(contact_id=turn.contact.id, channel=turn.channel,
                                        language=str(turn.language)))
    turn.clear_flow()
    turn.say("handoff_received")
