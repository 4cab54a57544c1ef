"""Alerts to many (bot/outreach/broadcasts.py): whether a person wants them, asked once.

A new person is asked after their first answer to a question, never while a form waits nor
after an answer that points to a complaint (there the next step is "reply 5"). A yes is kept
with the words they were shown; then their home district is asked, so that a warning about
their district reaches them. "stop alerts" and "start alerts" work at any time; STOP ends
alerts with everything else and START does not bring them back (only "start alerts" does).
"""

from bot.conversation import registry
from bot.conversation.contacts import utcnow
from bot.conversation.registry import Flow
from bot.conversation.state import ConversationState
from bot.conversation.turn import Turn
from bot.outreach import broadcasts, consent, licence_alerts
from bot.outreach.consent import Topic

FLOW = "alerts"
ASK_STEP = "ask"
DISTRICT_STEP = "district"
# A reply longer than this at the district step is a new message, not a district's name
# ("Toba Tek Singh", "Dera Ghazi Khan" are the longest).
MAX_DISTRICT_WORDS = 3
# A short reply the NLU reads this surely as a question is one ("visa kaise milta?").
SURE_QUESTION = 0.8
NOT_QUESTIONS = frozenset({"nlu_fallback", "out_of_scope", "greet", "goodbye"})
# Answers to these intents end with "reply 5 to make a complaint": no other question after them.
QUIET_AFTER = frozenset({"passport_held", "unpaid_wages", "contract_substitution"})


def maybe_offer(turn: Turn) -> None:
    """After a topic's answer, to someone never asked (or who never answered a command)."""
    if turn.session is None or turn.contact.alerts_asked_at is not None or \
            turn.contact.opted_out or turn.state.flow or turn.state.intake:
        return
    topics = [key.removeprefix("topic:") for key in turn.keys if key.startswith("topic:")]
    quiet = {t.id for i in QUIET_AFTER if (t := turn.content.topic_for_intent(i))}
    if not topics or quiet & set(topics):
        return
    turn.contact.alerts_asked_at = utcnow()
    if consent.latest(turn.db, contact_id=turn.contact_id, topic=Topic.ALERTS) is not None:
        return  # "start alerts" or "stop alerts" already said what they want
    turn.say("alerts_offer")
    # The words as shown, kept until the answer: the consent is recorded with them.
    turn.state.enter(FLOW, step=ASK_STEP, wording=turn.parts[-1])


def stop(turn: Turn) -> None:
    """"stop alerts": no more alerts to many, nor licence alerts, not even those already queued
    (held through the night, or behind the sending rate); the person's words kept."""
    if turn.state.flow == FLOW:
        turn.state.leave()
    broadcasts.withdraw_queued(turn.db, contact_id=turn.contact_id,
                               kinds=(broadcasts.KIND, licence_alerts.KIND))
    wording = turn.inbound.body.strip()
    for topic in (Topic.ALERTS, Topic.LICENCE_ALERTS):
        consent.record(turn.db, contact_id=turn.contact_id, topic=topic, given=False,
                       wording=wording, channel=turn.channel)
    turn.contact.alerts_asked_at = turn.contact.alerts_asked_at or utcnow()
    turn.say("alerts_stopped")


def start(turn: Turn) -> None:
    """"start alerts": yes, in the person's own words; their district is asked if unknown."""
    turn.contact.alerts_asked_at = turn.contact.alerts_asked_at or utcnow()
    _say_yes(turn, wording=turn.inbound.body.strip())


def stopped_everything(turn: Turn) -> None:
    """STOP: alerts end with everything else, and stay off after START."""
    if turn.contact.id is not None and consent.allows(turn.db, turn.contact, Topic.ALERTS):
        consent.record(turn.db, contact_id=turn.contact_id, topic=Topic.ALERTS, given=False,
                       wording=turn.inbound.body.strip(), channel=turn.channel)


def _say_yes(turn: Turn, *, wording: str) -> None:
    consent.record(turn.db, contact_id=turn.contact_id, topic=Topic.ALERTS, given=True,
                   wording=wording, channel=turn.channel)
    if turn.contact.district:
        turn.say("alerts_on")
        return
    turn.say("alerts_on_ask_district")
    turn.state.enter(FLOW, step=DISTRICT_STEP)


def step(turn: Turn) -> bool:
    if turn.state.step == DISTRICT_STEP:
        return _district_step(turn)
    answer = turn.content.answer(turn.text)
    wording = turn.state.data.get("wording", "")
    turn.state.leave()
    if answer not in {"yes", "no"}:
        return False  # a question instead: answered as one; the offer is not made again
    if answer == "yes":
        _say_yes(turn, wording=wording)
    else:
        consent.record(turn.db, contact_id=turn.contact_id, topic=Topic.ALERTS, given=False,
                       wording=wording, channel=turn.channel)
        turn.say("alerts_off")
    return True


def _district_step(turn: Turn) -> bool:
    district = turn.content.district_in(turn.text)
    retried = bool(turn.state.data.get("retried"))
    turn.state.leave()
    if district:
        turn.contact.district = district
        turn.say("alerts_district_saved")
        return True
    if turn.content.answer(turn.text) in {"skip", "no"}:
        turn.say("alerts_district_skipped")
        return True
    if retried or not _could_be_a_place(turn.text) or _is_a_question(turn):
        return False  # something else: answered as a new message
    turn.say("alerts_district_unknown")
    turn.state.enter(FLOW, step=DISTRICT_STEP, retried=True)
    return True


def _could_be_a_place(text: str) -> bool:
    words = text.split()
    return 0 < len(words) <= MAX_DISTRICT_WORDS and not text.rstrip().endswith("?") and \
        not text.strip().isdigit()


def _is_a_question(turn: Turn) -> bool:
    result = turn.understood()
    return bool(result and result.intent and result.intent not in NOT_QUESTIONS
                and result.confidence >= SURE_QUESTION)


def _needs_nlu(state: ConversationState, text: str) -> bool:
    if state.step == DISTRICT_STEP:  # a name we do not know may be a short question
        return not text.strip(" .").isdigit()
    return not text.strip(" .").isdigit()  # 1 or 2, else a new message the NLU may read


registry.register(Flow(FLOW, start=start, step=step, needs_nlu=_needs_nlu))
