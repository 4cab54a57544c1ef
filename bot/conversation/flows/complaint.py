"""The complaint intake: consent, what happened, the agent, money, where the worker is, who to
call back, a summary to confirm; then a referral with a reference number.

"cancel" and "back" work at every step (and "menu" leaves it, to be resumed within 24 hours).
A reply that is not an answer is re-asked with the step's example. Danger signs mark the
referral urgent and bring the emergency contacts at once.
"""

from datetime import datetime, timedelta

import phonenumbers

from bot.casework import evidence
from bot.casework.referrals import (
    Category,
    Priority,
    add_note,
    create_referral,
    open_referral_about,
)
from bot.conversation.amounts import parse_amount
from bot.conversation.contacts import utcnow
from bot.conversation.language import normalize
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
# A first message this long already tells the story: it becomes the description.
STORY_WORDS = 8


def start(turn: Turn, *, story: str = "") -> None:
    intake = turn.state.get("intake")
    if intake and _fresh(intake) and intake.get("step") != "consent":
        turn.set_state(flow=FLOW, intake=intake)
        turn.say("complaint_resume")
        _ask(turn, intake)
        return
    values = {"description": story} if len(story.split()) >= STORY_WORDS else {}
    intake = {"step": "consent", "values": values, "touched_at": utcnow().isoformat(),
              "evidence": []}
    turn.set_state(flow=FLOW, intake=intake)
    _ask(turn, intake)


def step(turn: Turn) -> bool:
    intake = dict(turn.state.get("intake") or {})
    if not intake or not _fresh(intake):
        turn.set_state()
        return False
    for media in turn.inbound.media:
        record = evidence.record(turn.session, contact_id=turn.contact.id, url=media.url,
                                 content_type=media.content_type)
        intake["evidence"] = [*intake.get("evidence", []), record.id]
    answer = turn.content.answer(turn.text)
    if answer == "cancel":
        turn.set_state()
        turn.say("complaint_cancelled")
        return True
    if answer == "back":
        intake["step"] = _previous(intake)
    elif not turn.text and turn.inbound.media:
        turn.say("complaint_evidence_saved")
    else:
        _advance(turn, intake, answer)
        if turn.state.get("flow") != FLOW:
            return True  # finished or declined
    intake["touched_at"] = utcnow().isoformat()
    turn.set_state(flow=FLOW, intake=intake)
    _ask(turn, intake)
    return True


def _advance(turn: Turn, intake: dict, answer: str | None) -> None:
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


def _consent(turn: Turn, intake: dict, answer: str | None) -> str | None:
    if answer == "yes":
        return "category"
    if answer == "no":
        turn.set_state()
        turn.say("complaint_declined")
        return "done"
    return None


def _category(turn: Turn, intake: dict, answer: str | None) -> str | None:
    choice = turn.text.strip(" .")
    if not (choice.isdigit() and 1 <= int(choice) <= len(CATEGORIES)):
        return None
    category = CATEGORIES[int(choice) - 1]
    intake["values"]["category"] = category
    if category == Category.THREATS_VIOLENCE:
        _mark_urgent(turn, intake)
    return "agent" if intake["values"].get("description") else "describe"


def _describe(turn: Turn, intake: dict, answer: str | None) -> str | None:
    if len(turn.text.split()) < 2:
        return None
    intake["values"]["description"] = turn.inbound.body.strip()
    return "agent"


def _agent(turn: Turn, intake: dict, answer: str | None) -> str | None:
    values = intake["values"]
    if answer == "skip":
        values.update(agent_name="", licence_no="", licence_id=None)
        return "money"
    refs = parse_licence_numbers(turn.text, known_offices(turn.session))
    values["agent_name"] = turn.inbound.body.strip()[:200]
    values["licence_no"], values["licence_id"] = "", None
    if refs:
        records = find_by_ref(turn.session, refs[0])
        values["licence_id"] = records[0].id if records else None
        values["licence_no"] = records[0].licence_no if records else ""
    return "money"


def _money(turn: Turn, intake: dict, answer: str | None) -> str | None:
    if answer == "skip":
        intake["values"]["amount"] = None
        return "location"
    amount = parse_amount(turn.text)
    if amount is None:
        return None
    intake["values"]["amount"] = amount
    return "location"


def _location(turn: Turn, intake: dict, answer: str | None) -> str | None:
    if not turn.text or answer in {"skip", "yes", "no"} or turn.text.isdigit():
        return None
    country = turn.content.country_in(turn.text)
    intake["values"]["location_country"] = country or ""
    intake["values"]["location_district"] = "" if country else turn.inbound.body.strip()[:100]
    if country and intake["values"].get("category") == Category.PASSPORT_HELD:
        _mark_urgent(turn, intake)  # a passport held abroad: FACTS.md s.6
    return "callback"


def _callback(turn: Turn, intake: dict, answer: str | None) -> str | None:
    if answer == "yes":
        intake["values"]["callback_phone"] = turn.contact.phone
        return "confirm"
    return "callback_number" if answer == "no" else None


def _callback_number(turn: Turn, intake: dict, answer: str | None) -> str | None:
    try:
        number = phonenumbers.parse(turn.text, "PK")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    intake["values"]["callback_phone"] = phonenumbers.format_number(
        number, phonenumbers.PhoneNumberFormat.E164)
    return "confirm"


def _confirm(turn: Turn, intake: dict, answer: str | None) -> str | None:
    if answer == "yes":
        _file(turn, intake)
        return "done"
    return "correct" if answer == "no" else None


def _correct(turn: Turn, intake: dict, answer: str | None) -> str | None:
    target = CORRECTIONS.get(turn.text.strip(" ."))
    if target:
        intake["correcting"] = True
    return target


def _file(turn: Turn, intake: dict) -> None:
    """Turn the intake into a referral (or add it to the open one about the same agent)."""
    values = intake["values"]
    if turn.content.is_urgent(normalize(_all_text(values))):
        _mark_urgent(turn, intake)
    existing = open_referral_about(turn.session, contact_id=turn.contact.id,
                                   licence_id=values.get("licence_id"),
                                   agent_name=values.get("agent_name", ""))
    if existing:
        add_note(turn.session, existing, actor="worker", note=_summary_text(turn, values))
        if intake.get("urgent"):
            existing.priority = Priority.URGENT
        referral = existing
        turn.say("complaint_joined", reference=existing.reference)
    else:
        referral = create_referral(
            turn.session, contact_id=turn.contact.id, category=values["category"],
            description=values.get("description", ""), agent_name=values.get("agent_name", ""),
            licence_no=values.get("licence_no", ""), licence_id=values.get("licence_id"),
            amount=values.get("amount"), location_country=values.get("location_country", ""),
            location_district=values.get("location_district", ""),
            callback_phone=values.get("callback_phone", turn.contact.phone),
            priority=Priority.URGENT if intake.get("urgent") else Priority.NORMAL,
            centre=turn.content.centre_for(values.get("location_district")),
            language=str(turn.language), channel=turn.channel)
        turn.say("complaint_received", reference=referral.reference,
                 hours=turn.first_response_hours)
        turn.say("complaint_also_official")
    evidence.attach_to_referral(turn.session, intake.get("evidence", []), referral.id)
    turn.set_state()


def _mark_urgent(turn: Turn, intake: dict) -> None:
    if not intake.get("urgent"):
        intake["urgent"] = True
        turn.say("complaint_urgent_help")


def _all_text(values: dict) -> str:
    return " ".join(str(values.get(k) or "") for k in ("description", "agent_name"))


def _ask(turn: Turn, intake: dict) -> None:
    current = intake["step"]
    if current == "confirm":
        turn.say("complaint_summary")
        turn.parts[-1] += "\n" + _summary_text(turn, intake["values"])
        turn.say("complaint_confirm")
    else:
        turn.say(PROMPTS[current])


def _summary_text(turn: Turn, values: dict) -> str:
    def line(label: str, value: object) -> str:
        shown = value if value not in (None, "") else turn.content.text("summary_none",
                                                                        turn.language)
        return f"{turn.content.text(label, turn.language)}: {shown}"

    category = values.get("category")
    what = turn.content.text(f"category_{category}", turn.language) if category else ""
    amount = f"Rs {values['amount']:,}" if values.get("amount") else None
    place = values.get("location_country") or values.get("location_district")
    agent = " ".join(v for v in (values.get("agent_name"), values.get("licence_no")) if v)
    description = values.get("description", "")
    return "\n".join([line("summary_category", what),
                      *([description[:300]] if description else []),
                      line("summary_agent", agent), line("summary_money", amount),
                      line("summary_location", place),
                      line("summary_callback", values.get("callback_phone"))])


def _previous(intake: dict) -> str:
    current = intake["step"]
    if current == "correct":
        return "confirm"
    index = ORDER.index(current) if current in ORDER else 1
    previous = ORDER[max(index - 1, 1)]
    return "callback" if previous == "callback_number" else previous


def _fresh(intake: dict) -> bool:
    """Touched within 24 hours: an unfinished intake older than that is forgotten."""
    touched = datetime.fromisoformat(intake.get("touched_at", "1970-01-01T00:00:00+00:00"))
    return utcnow() - touched < RESUME_WINDOW
