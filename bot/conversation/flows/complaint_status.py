"""'What happened to my complaint?': the status and the latest note staff wrote for the worker.

Only this contact's own referrals: someone else's reference sent from another number reveals
nothing, not even that it exists.
"""

import re

from sqlmodel import select

from bot.casework.referrals import (
    REFERENCE_ALPHABET,
    REFERENCE_LENGTH,
    Referral,
    latest_note_for_worker,
    referrals_of,
)
from bot.conversation import registry
from bot.conversation.contacts import stored_id
from bot.conversation.registry import Flow
from bot.conversation.turn import Turn

REFERENCE = re.compile(rf"(?<![a-z0-9])[{REFERENCE_ALPHABET.lower()}]{{{REFERENCE_LENGTH}}}"
                       r"(?![a-z0-9])")


def answer(turn: Turn) -> None:
    if turn.session is None:
        turn.say("status_none")
        return
    mentioned = [m.upper() for m in REFERENCE.findall(turn.text.lower()) if _has_digit(m)]
    if mentioned:
        referral = turn.db.exec(select(Referral).where(
            Referral.reference == mentioned[0], Referral.contact_id == turn.contact_id)).first()
        if referral is None:
            turn.say("status_unknown_reference")
            return
    else:
        mine = referrals_of(turn.db, turn.contact_id)
        if not mine:
            turn.say("status_none")
            return
        referral = mine[0]
    state = turn.content.text(f"complaint_state_{referral.status}", turn.language)
    turn.say("status_one", reference=referral.reference,
             date=referral.created_at.strftime("%d-%m-%Y"), status=state)
    note = latest_note_for_worker(turn.db, stored_id(referral))
    if note:
        turn.say("status_note", note=note.note)


def _has_digit(word: str) -> bool:
    """References mix letters and digits; an ordinary six-letter word is not one."""
    return any(c.isdigit() for c in word)


registry.register(Flow("complaint_status", start=answer))
