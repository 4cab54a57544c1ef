"""'Talk to a person': a referral of category "callback" in the resource centres' queue."""

from bot.casework.referrals import Category, create_referral, open_referral_about
from bot.conversation import registry
from bot.conversation.registry import Flow
from bot.conversation.turn import Turn


def request(turn: Turn) -> None:
    turn.state.leave()
    if turn.session is None:  # `rahnuma ask` is stateless: it records nothing
        turn.say("handoff_received")
        turn.say("handoff_when", hours=turn.first_response_hours)
        return
    referral = open_referral_about(turn.db, contact_id=turn.contact_id, licence_id=None,
                                   agent_name="", category=Category.CALLBACK)
    if referral is None:
        referral = create_referral(
            turn.db, contact_id=turn.contact_id, category=Category.CALLBACK,
            description=turn.inbound.body, callback_phone=turn.contact.phone,
            centre=turn.content.centre_for(None), language=str(turn.language),
            channel=turn.channel)
    turn.say("callback_received", reference=referral.reference)
    turn.say("handoff_when", hours=turn.first_response_hours)


registry.register(Flow("handoff", start=request))
