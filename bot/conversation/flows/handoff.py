"""'Talk to a person': a referral of category "callback" in the resource centres' queue."""

from bot.casework.referrals import Category, create_referral, open_referral_about
from bot.conversation.turn import Turn


def request(turn: Turn) -> None:
    turn.clear_flow()
    if turn.session is None:  # `rahnuma ask` is stateless: it records nothing
        turn.say("handoff_received")
        return
    referral = open_referral_about(turn.session, contact_id=turn.contact.id, licence_id=None,
                                   agent_name="", category=Category.CALLBACK)
    if referral is None:
        referral = create_referral(
            turn.session, contact_id=turn.contact.id, category=Category.CALLBACK,
            description=turn.inbound.body, callback_phone=turn.contact.phone,
            centre=turn.content.centre_for(None), language=str(turn.language),
            channel=turn.channel)
    turn.say("callback_received", reference=referral.reference)
