"""Checking a recruiter: a licence number however it is typed, or an agency's name.

Entered from the check_licence intent, menu 3, or any message that carries a licence number.
The answer gives the status in plain words, the registered name, office and phone, the date of
the list it comes from, and advice that fits the status.
"""

from sqlmodel import select

from bot.conversation.flows.menu import numbered_choice
from bot.conversation.turn import Turn
from bot.registry.licences import (
    Licence,
    LicenceRef,
    LicenceStatus,
    find_by_ref,
    format_licence_no,
    known_offices,
    latest_import,
    parse_licence_numbers,
    parse_number_alone,
    search_by_name,
)

FLOW = "licence_check"
# A name match this good, and clearly ahead of the next, is answered without asking.
SURE_NAME_SCORE = 92
MIN_NUMBER_DIGITS = 3
MAX_NAME_WORDS = 7


def mentions_licence(turn: Turn) -> bool:
    """A message that is (or contains) a licence number: checked before asking the NLU."""
    if turn.session is None or not _has_registry(turn):
        return False
    if parse_licence_numbers(turn.text, known_offices(turn.session)):
        return True
    number = parse_number_alone(turn.text)
    return turn.text.strip().isdigit() and number is not None and \
        len(turn.text.strip()) >= MIN_NUMBER_DIGITS


def start(turn: Turn) -> None:
    if turn.session is None or not _has_registry(turn):
        turn.say("licence_no_list")
        _offer_topic(turn)
        return
    if not _answer_number(turn):
        turn.set_state(flow=FLOW, step="ask")
        turn.say("licence_ask")


def step(turn: Turn) -> bool:
    if turn.state.get("step") == "choose":
        return _choose(turn)
    if _answer_number(turn):
        return True
    if len(turn.text.split()) > MAX_NAME_WORDS:  # a new question, not an agency's name
        turn.clear_flow()
        return False
    _answer_name(turn, turn.inbound.body.strip())
    return True


def _has_registry(turn: Turn) -> bool:
    return turn.session.exec(select(Licence.id).limit(1)).first() is not None


def _answer_number(turn: Turn) -> bool:
    refs = parse_licence_numbers(turn.text, known_offices(turn.session))
    if refs:
        _answer_records(turn, find_by_ref(turn.session, refs[0]),
                        query=format_licence_no(refs[0].number, refs[0].office or ""))
        return True
    number = parse_number_alone(turn.text)
    if number is not None:
        _answer_records(turn, find_by_ref(turn.session, LicenceRef(number, None)),
                        query=str(number))
        return True
    return False


def _answer_name(turn: Turn, name: str) -> None:
    matches = search_by_name(turn.session, name)
    sure = matches and matches[0][1] >= SURE_NAME_SCORE and (
        len(matches) == 1 or matches[0][1] - matches[1][1] >= 5)
    _answer_records(turn, [matches[0][0]] if sure else [m for m, _ in matches], query=name)


def _answer_records(turn: Turn, records: list[Licence], *, query: str) -> None:
    if len(records) == 1:
        answer(turn, records[0])
    elif records:
        turn.set_state(flow=FLOW, step="choose", candidates=[r.id for r in records])
        lines = [f"{n} {r.name} ({r.licence_no}, {r.city})" for n, r in enumerate(records, 1)]
        turn.say("licence_choose")
        turn.parts[-1] += "\n" + "\n".join(lines)
    else:
        turn.clear_flow()
        imported = latest_import(turn.session)
        turn.say("licence_not_found", query=query, date=_day(imported.imported_at)
                 if imported else "-")
        _offer_topic(turn)


def _choose(turn: Turn) -> bool:
    return numbered_choice(turn, turn.state.get("candidates") or [],
                           lambda id_: answer(turn, turn.session.get(Licence, id_)))


def answer(turn: Turn, licence: Licence) -> None:
    turn.clear_flow()
    status = LicenceStatus(licence.status)
    key = f"licence_status_{status}"
    if status == LicenceStatus.VALID and not licence.valid_until:
        key = "licence_status_valid_no_date"
    turn.say(key, name=licence.name, licence_no=licence.licence_no,
             valid_until=_day(licence.valid_until))
    turn.say("licence_details", city=licence.city or "-", phone=licence.phone or "-",
             date=_day(licence.imported_at))
    turn.say("licence_advice_valid" if status == LicenceStatus.VALID else "licence_advice_stop")


def _offer_topic(turn: Turn) -> None:
    """How to check an agent yourself: kept for MORE."""
    topic = turn.content.topics.get("licence_check")
    if topic:
        turn.more = turn.content.fill(topic.whatsapp[turn.language])


def _day(value) -> str:  # type: ignore[no-untyped-def]
    return value.strftime("%d-%m-%Y") if value else "-"
