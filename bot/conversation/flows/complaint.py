"""The complaint intake: consent, what happened, the agent, money, where the worker is, who to
call back, a summary to confirm; then a referral with a reference number (complaint_filing.py).

"cancel" and "back" work at every step. Leaving for the menu, a language change, a list or a
licence check pauses the intake (ConversationState.intake), and "5" resumes it. At a free-text
step a question, a menu digit or a licence number is not an answer: the step returns False, the
engine answers the message as a new one and then asks the step's question again, and nothing of
it is stored. An urgent complaint (from the danger reply) skips consent and category and asks
only where the person is and who to call.
"""

from datetime import datetime, timedelta
from typing import Any

import phonenumbers

from bot.casework import evidence
from bot.casework.referrals import Category
from bot.content.phrases import prepare
from bot.conversation import registry
from bot.conversation.amounts import is_only_an_amount, parse_amount
from bot.conversation.contacts import utcnow
from bot.conversation.flows.complaint_filing import file, summary_text
from bot.conversation.language import content_words
from bot.conversation.registry import Flow
from bot.conversation.state import ConversationState
from bot.conversation.turn import Turn
from bot.registry.licences import find_by_ref, known_offices, parse_licence_numbers

FLOW = "complaint"
RESUME_WINDOW = timedelta(hours=24)
CATEGORIES = [Category.MONEY_NO_JOB, Category.FEES_ABOVE_LIMIT, Category.CONTRACT_CHANGED,
              Category.PASSPORT_HELD, Category.WAGES_UNPAID, Category.THREATS_VIOLENCE,
              Category.OTHER]
ORDER = ["consent", "category", "describe", "agent", "money", "location", "callback",
         "callback_number", "confirm"]
PROMPTS = {"consent": "complaint_consent", "category": "complaint_category",
           "describe": "complaint_describe", "agent": "complaint_agent",
           "money": "complaint_money", "location": "complaint_location",
           "callback": "complaint_callback", "callback_number": "complaint_callback_number",
           "correct": "complaint_correct"}
CORRECTIONS = {"1": "describe", "2": "agent", "3": "money", "4": "location", "5": "callback"}
NUMBERED_STEPS = frozenset({"consent", "category", "callback", "confirm", "correct"})
FREE_TEXT_STEPS = frozenset({"describe", "agent", "money", "location", "callback_number"})
# A message with this many words of its own (not grammar words, not "complaint"/"agent") tells
# what happened; fewer is a request to complain, never stored as the description.
STORY_CONTENT_WORDS = 3
REQUEST_WORDS = frozenset(
    """complaint complain complaints shikayat shikayt shakayat shikaayat karni karna darj file
    register against khilaf khilaaf agent agency want make lodge apne apna meri shikayat شکایت
    درج کرنی کرنا خلاف ایجنٹ ایجنټ کول غواړم وکړم کرنی اے""".split()
)
COMPLAINT_WORDS = frozenset(prepare(w).strip() for w in
                            "complaint complain shikayat shikayt shakayat شکایت".split())
# Intents whose confident reading at a free-text step means a question, not an answer.
QUESTION_INTENTS = frozenset({
    "ask_fees", "ask_contract", "ask_visa", "ask_protector", "complaint_channels", "red_flags",
    "complaint_status", "human_handoff", "menu", "change_language", "check_licence",
    "passport_held", "unpaid_wages", "contract_substitution"})


def expects_digit(state: ConversationState) -> bool:
    intake = state.intake or {}
    return state.flow == FLOW and intake.get("step") in NUMBERED_STEPS


def tells_story(text: str) -> bool:
    return len(content_words(text, also_ignore=REQUEST_WORDS)) >= STORY_CONTENT_WORDS


def is_bare_request(text: str) -> bool:
    """"I want to make a complaint against my agent": asks to complain, tells nothing."""
    words = set(prepare(text).split())
    return bool(words & COMPLAINT_WORDS) and not tells_story(text)


def start(turn: Turn) -> None:
    """The "complaint" action: resume an unfinished intake, or begin one."""
    intake = turn.state.intake
    if intake and _fresh(intake) and intake.get("step") != "consent":
        turn.state.enter(FLOW)
        turn.say("complaint_resumed")
        _ask(turn, intake)
        return
    story = turn.inbound.body.strip() if tells_story(turn.inbound.body) else turn.state.story
    intake = _new_intake({"description": story} if story else {})
    turn.state.intake = intake
    turn.state.enter(FLOW)
    _ask(turn, intake)


def start_urgent(turn: Turn, *, story: str, category: str, country: str | None,
                 district: str | None) -> None:
    """One reply to the danger message starts this: that reply is the consent."""
    values: dict[str, Any] = {"description": story, "category": category,
                              "location_country": country or "",
                              "location_district": district or ""}
    intake = _new_intake(values, urgent=True, skip=["consent", "category", "describe",
                                                    "agent", "money"])
    intake["step"] = "callback" if country or district else "location"
    turn.state.intake = intake
    turn.state.enter(FLOW)
    _ask(turn, intake)


def start_prefilled(turn: Turn, values: dict[str, Any], *, skip: list[str],
                    origin: dict[str, Any]) -> None:
    """A complaint begun by another flow with what it learned (a check-in abroad: the country
    and what went wrong); its offer was the consent. `origin` reaches complaint_filing.FILED
    with the referral, to link the two."""
    intake = _new_intake(values, skip=["consent", *skip])
    intake["origin"], intake["step"] = origin, _next(intake, "consent")
    turn.state.intake = intake
    turn.state.enter(FLOW)
    _ask(turn, intake)


def mark_urgent(turn: Turn, text: str) -> None:
    """Danger told in the middle of the form: the intake becomes urgent and keeps the words."""
    intake = turn.state.intake
    if intake is None:
        return
    intake["urgent"] = True
    values = intake["values"]
    if intake.get("step") != "describe":
        values["description"] = " ".join(v for v in (values.get("description"), text) if v)
    values["location_country"] = values.get("location_country") or \
        turn.content.country_in(text) or ""


def reprompt(turn: Turn, *, bridge: str = "answer_then_prompt") -> None:
    """Ask the waiting step's question again after answering something else (unless the answer
    already asked it: "5" at a free-text step resumes the form by itself)."""
    intake = turn.state.intake
    if intake and _prompt_key(intake) not in turn.keys:
        turn.say(bridge)
        _ask(turn, intake)


def step(turn: Turn) -> bool:
    intake = turn.state.intake
    if not intake or not _fresh(intake):
        turn.state.end_intake()
        return False
    for media in turn.inbound.media:
        record = evidence.record(turn.db, contact_id=turn.contact_id, url=media.url,
                                 content_type=media.content_type)
        intake["evidence"] = [*intake.get("evidence", []), record.id]
    answer = turn.content.answer(turn.text)
    if answer == "cancel":
        turn.state.end_intake()
        turn.say("complaint_cancelled")
        return True
    if answer == "back":
        intake["step"] = _previous(intake)
    elif not turn.text and turn.inbound.media:
        turn.say("complaint_evidence_saved")
    elif _not_an_answer(turn, intake["step"]):
        return False  # the engine answers it, then reprompt() asks the step again
    elif _learn_place(turn, intake) and answer is None:
        turn.say("answer_then_prompt")  # "we are from Multan" at the call-back question: kept
    else:
        _advance(turn, intake, answer)
        if turn.state.flow != FLOW:
            return True  # finished or declined
    intake["touched_at"] = utcnow().isoformat()
    _ask(turn, intake)
    return True


def _not_an_answer(turn: Turn, current: str) -> bool:
    """A question, a menu digit or a licence number sent at a free-text step."""
    if current not in FREE_TEXT_STEPS:
        return False
    text = turn.text.strip(" .")
    if text.isdigit():
        return len(text) == 1 or current not in {"money", "callback_number"}
    if turn.content.answer(turn.text) is not None:  # skip, yes, no: answers to any step
        return False
    if current == "money" and (parse_amount(turn.text) is not None or _paid_nothing(turn)):
        return False
    if current == "location" and (turn.content.country_in(text) or
                                  turn.content.district_in(text)):
        return False
    if current != "agent" and parse_licence_numbers(text, known_offices(turn.db)):
        return True
    if current == "describe":  # every story is a description; only a short question is not
        return text.endswith("?") and len(text.split()) < 8
    if text.endswith("?"):
        return True
    if current in {"agent", "callback_number"} and len(text.split()) < 4:
        return False  # a name or a number; the NLU would read anything into it
    result = turn.understood()
    asked = QUESTION_INTENTS - ({"check_licence"} if current == "agent" else set())
    return bool(result and result.intent in asked and result.confidence >= 0.8)


def _learn_place(turn: Turn, intake: dict[str, Any]) -> bool:
    """A place said at a numbered step ("ہم ملتان سے ہیں") is kept, so it is never asked for
    and never lost; at the agent and story steps a place is the agent's, not the worker's."""
    if intake["step"] not in NUMBERED_STEPS:
        return False
    values, learned = intake["values"], False
    district = turn.content.district_in(turn.text)
    if district and not values.get("location_district"):
        values["location_district"], learned = district, True
    country = turn.content.country_in(turn.text)
    if country and not values.get("location_country"):
        values["location_country"], learned = country, True
    return learned


def _advance(turn: Turn, intake: dict[str, Any], answer: str | None) -> None:
    current = intake["step"]
    handler = {"consent": _consent, "category": _category, "describe": _describe,
               "agent": _agent, "money": _money, "location": _location,
               "callback": _callback, "callback_number": _callback_number,
               "confirm": _confirm, "correct": _correct}[current]
    following = handler(turn, intake, answer)
    if following is None:
        turn.say("complaint_reask")
    elif following != "done":
        # A corrected answer goes straight back to the summary.
        if current != "correct" and following != "callback_number" and \
                intake.pop("correcting", False):
            following = "confirm"
        intake["step"] = following


def _next(intake: dict[str, Any], after: str) -> str:
    skip = set(intake.get("skip", []))
    for name in ORDER[ORDER.index(after) + 1:]:
        if name not in skip and name != "callback_number":
            return name
    return "confirm"


def _consent(turn: Turn, intake: dict[str, Any], answer: str | None) -> str | None:
    if answer == "yes":
        return "category"
    if answer == "no":
        turn.state.end_intake()
        turn.say("complaint_declined")
        return "done"
    return None


def _category(turn: Turn, intake: dict[str, Any], answer: str | None) -> str | None:
    choice = turn.text.strip(" .")
    if not (choice.isdigit() and 1 <= int(choice) <= len(CATEGORIES)):
        return None
    category = CATEGORIES[int(choice) - 1]
    intake["values"]["category"] = category
    if category == Category.THREATS_VIOLENCE:
        _mark_urgent(turn, intake)
    if category == Category.OTHER:
        intake["ask_what"] = True  # "something else" asks what happened, story or not
        return "describe"
    return "agent" if intake["values"].get("description") else "describe"


def _describe(turn: Turn, intake: dict[str, Any], answer: str | None) -> str | None:
    body = turn.inbound.body.strip()
    if len(turn.text.split()) < 2:
        return None
    if is_bare_request(body):  # "I want to complain about my agent": not what happened
        turn.say("complaint_story_needed")
        return "describe"
    intake["values"]["description"] = body
    intake.pop("ask_what", None)
    return "agent"


def _agent(turn: Turn, intake: dict[str, Any], answer: str | None) -> str | None:
    values = intake["values"]
    if answer == "skip":
        values.update(agent_name="", licence_no="", licence_id=None)
        return "money"
    if is_only_an_amount(turn.text):
        return None  # "2.5 lakh" answers the next question, not this one: asked again
    refs = parse_licence_numbers(turn.text, known_offices(turn.db))
    values["agent_name"] = turn.inbound.body.strip()[:200]
    values["licence_no"], values["licence_id"] = "", None
    if refs:
        records = find_by_ref(turn.db, refs[0])
        values["licence_id"] = records[0].id if records else None
        values["licence_no"] = records[0].licence_no if records else ""
    return "money"


def _paid_nothing(turn: Turn) -> bool:
    return turn.content.says_nothing_paid(turn.text)


def _money(turn: Turn, intake: dict[str, Any], answer: str | None) -> str | None:
    amount = parse_amount(turn.text)  # first: "3 lakh diye, visa nahi diya" paid 3 lakh
    if amount is not None:
        intake["values"]["amount"] = amount
        return _next(intake, "money")  # the location, unless already known (start_prefilled)
    if answer == "skip" or _paid_nothing(turn):
        intake["values"]["amount"] = None
        return _next(intake, "money")
    return None


def _location(turn: Turn, intake: dict[str, Any], answer: str | None) -> str | None:
    if not turn.text or answer in {"skip", "yes", "no"} or turn.text.isdigit():
        return None
    values = intake["values"]
    country = turn.content.country_in(turn.text)
    district = turn.content.district_in(turn.text)
    # Both are kept when both are said: the country for the urgent reply, the home district
    # for the centre. A place we do not know is kept as written, for the caseworker.
    values["location_country"] = country or ""
    values["location_district"] = district or ("" if country else
                                               turn.inbound.body.strip()[:100])
    if country and values.get("category") == Category.PASSPORT_HELD:
        _mark_urgent(turn, intake)  # a passport held abroad: FACTS.md s.6
    return _next(intake, "location")


def _mark_urgent(turn: Turn, intake: dict[str, Any]) -> None:
    """Danger chosen from the form's own list: the help comes at once, then the form goes on."""
    if not intake.get("urgent"):
        intake["urgent"] = True
        turn.say("complaint_urgent_help")


def _callback(turn: Turn, intake: dict[str, Any], answer: str | None) -> str | None:
    if answer == "yes":
        intake["values"]["callback_phone"] = turn.contact.phone
        return "confirm"
    return "callback_number" if answer == "no" else None


def _callback_number(turn: Turn, intake: dict[str, Any], answer: str | None) -> str | None:
    try:
        number = phonenumbers.parse(turn.text, "PK")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    intake["values"]["callback_phone"] = phonenumbers.format_number(
        number, phonenumbers.PhoneNumberFormat.E164)
    return "confirm"


def _confirm(turn: Turn, intake: dict[str, Any], answer: str | None) -> str | None:
    if answer == "yes":
        file(turn, intake)
        return "done"
    return "correct" if answer == "no" else None


def _correct(turn: Turn, intake: dict[str, Any], answer: str | None) -> str | None:
    target = CORRECTIONS.get(turn.text.strip(" ."))
    if target:
        intake["correcting"] = True
    return target


def _prompt_key(intake: dict[str, Any]) -> str:
    step = intake["step"]
    if step == "confirm":
        return "complaint_confirm"
    if step == "describe" and intake.get("ask_what"):
        return "complaint_something_else"
    return PROMPTS[step]


def _ask(turn: Turn, intake: dict[str, Any]) -> None:
    current = intake["step"]
    if current == "confirm":
        turn.say("complaint_summary")
        turn.parts[-1] += "\n" + summary_text(turn, intake["values"])
        turn.say("complaint_confirm")
    elif current == "describe" and intake.get("ask_what"):
        turn.say("complaint_something_else")
    else:
        turn.say(PROMPTS[current])


def _previous(intake: dict[str, Any]) -> str:
    current = intake["step"]
    if current == "correct":
        return "confirm"
    skip = set(intake.get("skip", []))
    index = ORDER.index(current) if current in ORDER else 1
    for name in reversed(ORDER[1:index]):
        if name not in skip and name != "callback_number":
            return name
    return current


def _new_intake(values: dict[str, Any], *, urgent: bool = False,
                skip: list[str] | None = None) -> dict[str, Any]:
    return {"step": "consent", "values": values, "touched_at": utcnow().isoformat(),
            "evidence": [], "urgent": urgent, "skip": skip or []}


def _fresh(intake: dict[str, Any]) -> bool:
    """Touched within 24 hours: an unfinished intake older than that is forgotten."""
    touched = datetime.fromisoformat(intake.get("touched_at", "1970-01-01T00:00:00+00:00"))
    return utcnow() - touched < RESUME_WINDOW


def _needs_nlu(state: ConversationState, text: str) -> bool:
    intake = state.intake or {}
    return intake.get("step") in FREE_TEXT_STEPS and not text.strip(" .").isdigit()


registry.register(Flow(FLOW, start=start, step=step, needs_nlu=_needs_nlu, accepts_media=True))
