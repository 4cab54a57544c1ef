"""Telling the worker when their complaint moves: a status change, or a note staff marked "show
to the worker", becomes a short message with the reference, in the complaint's language and on
its channel, held through the night where the person is.

The referral service (bot/casework/referrals.py) calls `tell_worker` for every event it writes,
in the same transaction: whoever changes a case (the dashboard today, a rule or an import
tomorrow), the worker hears of it, and a change that is rolled back sends nothing.
"""

from sqlmodel import Session

from bot.casework.referrals import Referral, ReferralEvent, Status
from bot.conversation.contacts import Contact
from bot.conversation.language import Lang
from bot.messaging.outbox import Outbox, Priority
from bot.outreach.delivery import Notice, published, send
from bot.settings import Settings, get_settings

KIND = "case_update"
# A change the worker made through the bot (a complaint joined, a status asked for) was
# already answered in the conversation; a second message about it would only be noise.
THEIR_OWN = frozenset({"worker", "bot"})
# NEW is where a complaint starts, never a change to tell about.
TOLD = frozenset(Status) - {Status.NEW}


def tell_worker(session: Session, referral: Referral, event: ReferralEvent, *,
                settings: Settings | None = None) -> Outbox | None:
    """Queue the message `event` calls for, if any: None for an internal note, a change the
    worker made themselves, or a person who sent STOP (or was erased, or is a test)."""
    if event.actor in THEIR_OWN or not _worth_telling(event):
        return None
    contact = session.get(Contact, referral.contact_id)
    if contact is None or contact.opted_out or contact.is_test:
        return None
    settings = settings or get_settings()
    language = Lang(referral.language)
    notice = _notice(session, settings, referral, event, language)
    return send(session, settings, notice, contact=contact, channel=referral.channel,
                language=language, now=event.at, referral_id=referral.id)


def _worth_telling(event: ReferralEvent) -> bool:
    if event.to_status is not None:
        return event.to_status in TOLD and event.to_status != event.from_status
    return event.for_worker and bool(event.note.strip())


def _notice(session: Session, settings: Settings, referral: Referral, event: ReferralEvent,
            language: Lang) -> Notice:
    reference = referral.reference
    if event.to_status is None:  # a note for the worker: its words only in the free text
        return Notice(KIND, Priority.CASE_UPDATE, "case_update_note",
                      {"reference": reference, "note": event.note.strip()},
                      "case_note", {"reference": reference})
    content = published(session, settings)
    params = {"reference": reference}
    if event.to_status == Status.REFERRED:
        params["office"] = content.text(f"case_office_{referral.referred_to or 'other'}",
                                        language)
    status = content.text(f"complaint_state_{event.to_status}", language)
    return Notice(KIND, Priority.CASE_UPDATE, f"case_update_{event.to_status}", params,
                  "case_update", {"reference": reference, "status": status})
