"""The departure journey: when and where a worker is going, reminders offered, the answers to
the check-ins abroad.

Started from menu 10, or by a message that tells a departure ("15 March, Riyadh", "agle mahine
Dubai", "۱۵ مارچ کو ریاض"): what is missing is asked for, a date in the past or over a year
ahead is asked again. The offer lists what will come; its text, as shown, is the consent's
wording. With reminders on, a new date moves them, and "stop reminders" (a global command)
ends them. A check-in job (bot/outreach/journey_jobs.py) puts the person at the `checkin` step,
so "1/2/3" is read here: 2 or 3 answers with the wages or substitution advice and offers a
complaint already filled with the country and what went wrong, linked to the check-in.
"""

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.casework.referrals import Category
from bot.conversation import registry
from bot.conversation.contacts import utcnow
from bot.conversation.flows import complaint, complaint_filing, menu
from bot.conversation.registry import Flow
from bot.conversation.turn import Turn
from bot.outreach import journey as journeys
from bot.outreach.departure_dates import Reading, read_departure
from bot.outreach.journey import CHECKIN_STEP, FLOW
from bot.outreach.journey_jobs import day, place_name
from bot.outreach.journeys import Journey, JourneyStatus
from bot.outreach.quiet_hours import PAKISTAN

# With a travel word ("ja raha", "flight", "ځم") a departure may say a little more ("meri
# flight ... ke liye"); without one, only the date, the place and words like "on", "my".
MAX_OTHER_WORDS = 3
# A check-in's answers: what CheckIn.answer records, and the advice and complaint that follow.
ANSWERS = {"1": "paid", "2": "underpaid", "3": "different_job"}
PROBLEMS = {"underpaid": ("unpaid_wages", Category.WAGES_UNPAID),
            "different_job": ("contract_substitution", Category.CONTRACT_CHANGED)}


def today() -> date:
    """Today where the person is when they tell a departure: in Pakistan."""
    return utcnow().astimezone(ZoneInfo(PAKISTAN)).date()


def _read(turn: Turn, *, place_alone: bool = True) -> Reading:
    return read_departure(turn.inbound.body, today=today(),
                          places=turn.content.places.countries.by_spelling,
                          place_alone=place_alone)


def tells_departure(turn: Turn) -> bool:
    """A message no flow took that tells a departure: a date and a place (or a date, with a
    journey already told), nothing much else, and not "since" a date, a question, or a trip
    already made ("kal saudi gaya")."""
    if turn.session is None or turn.text.rstrip().endswith("?"):
        return False
    reading = _read(turn, place_alone=False)
    if not reading.has_date or reading.since or (reading.went and not reading.travel):
        return False
    if len(reading.leftover) > (MAX_OTHER_WORDS if reading.travel else 0):
        return False
    return bool(reading.country) or (reading.travel and _current(turn) is not None)


def start(turn: Turn) -> None:
    if turn.session is None:  # `rahnuma ask`: nothing can be kept
        turn.say("journey_ask")
        return
    reading = _read(turn)
    journey = _current(turn)
    if reading.has_date or reading.country:
        if turn.state.story == turn.inbound.body.strip():  # kept by the engine, but a
            turn.state.story = ""  # departure is no complaint's story
        _take(turn, reading, _known(journey) if journey else {})
    elif journey is None:
        turn.state.enter(FLOW, step="ask")
        turn.say("journey_ask")
    elif journey.status == JourneyStatus.ACTIVE:  # menu 10 again: say what is on
        turn.say("journey_current", date=day(journey.departs_on),
                 place=_place(turn, journey.country, journey.city))
        turn.state.enter(FLOW, step="ask", **_known(journey))
    else:  # told before, reminders declined: offered again
        _go_on(turn, _known(journey))


def step(turn: Turn) -> bool:
    handler = {"ask": _ask_step, "offer": _offer_step, CHECKIN_STEP: _checkin_step,
               "complaint_offer": _complaint_offer_step}.get(turn.state.step or "")
    if handler is None:
        turn.state.leave()
        return False
    return handler(turn)


def stop_reminders(turn: Turn) -> None:
    """The global command: every journey's reminders and check-ins end, and the person's
    words are kept as their answer."""
    if turn.state.flow == FLOW:
        turn.state.leave()
    if journeys.stop(turn.db, contact_id=turn.contact_id, wording=turn.inbound.body.strip(),
                     channel=turn.channel):
        turn.say("journey_stopped")
    else:
        turn.say("journey_none")


# ---- telling the departure ----

def _ask_step(turn: Turn) -> bool:
    reading = _read(turn)
    if reading.has_date or reading.country:
        _take(turn, reading, turn.state.data)
        return True
    if turn.text.isdigit() or turn.text.rstrip().endswith("?") or \
            len(turn.text.split()) > MAX_OTHER_WORDS:
        turn.state.leave()  # a menu number, a question...: answered as a new message
        return False
    data = turn.state.data
    if data.get("date") and not data.get("country"):
        data["city"] = turn.inbound.body.strip()  # a place we do not know: kept as written
        _go_on(turn, data)
        return True
    turn.say("journey_not_understood")
    return True


def _take(turn: Turn, reading: Reading, known: dict[str, Any]) -> None:
    """What this message said, over what was known before."""
    data = dict(known)
    if reading.country:
        data["country"], data["city"] = reading.country, ""
    if reading.problem:
        said = day(reading.said) if reading.said else ""
        turn.say(f"journey_date_{reading.problem}", date=said)
        data.pop("date", None)
        turn.state.enter(FLOW, step="ask", **data)
        return
    if reading.on:
        data["date"] = reading.on.isoformat()
    _go_on(turn, data)


def _go_on(turn: Turn, data: dict[str, Any]) -> None:
    place = data.get("country") or data.get("city")
    if not data.get("date"):
        turn.state.enter(FLOW, step="ask", **data)
        if place:
            turn.say("journey_ask_date", place=_place(turn, data.get("country", ""),
                                                      data.get("city", "")))
        else:
            turn.say("journey_ask")
    elif not place:
        turn.state.enter(FLOW, step="ask", **data)
        turn.say("journey_ask_place", date=day(date.fromisoformat(data["date"])))
    else:
        _settle(turn, date.fromisoformat(data["date"]), data.get("country", ""),
                data.get("city", ""))


def _settle(turn: Turn, departs_on: date, country: str, city: str) -> None:
    """Date and place known: a journey with reminders on moves; any other is offered them."""
    journey = _current(turn)
    shown = {"date": day(departs_on), "place": _place(turn, country, city)}
    if journey is not None and journey.status == JourneyStatus.ACTIVE:
        journeys.move(turn.db, journey, departs_on=departs_on, country=country, city=city,
                      abroad_zone=_zone(turn, country))
        turn.state.leave()
        turn.say("journey_moved", **shown)
        return
    journey = journeys.tell(turn.db, contact_id=turn.contact_id, departs_on=departs_on,
                            country=country, city=city)
    turn.say("journey_offer", **shown)
    turn.state.enter(FLOW, step="offer", journey_id=journey.id, wording=turn.parts[-1],
                     **_known(journey))


def _offer_step(turn: Turn) -> bool:
    data = turn.state.data
    journey = turn.db.get(Journey, data.get("journey_id"))
    answer = turn.content.answer(turn.text)
    if journey is None or answer not in {"yes", "no"}:
        reading = _read(turn)
        if journey is not None and (reading.has_date or reading.country):
            _take(turn, reading, data)  # a correction: "no, the 20th"
            return True
        turn.state.leave()
        return False
    turn.state.leave()
    if answer == "no":
        journeys.decline(turn.db, journey, wording=data["wording"], channel=turn.channel)
        turn.say("journey_declined")
        return True
    jobs = journeys.accept(turn.db, journey, wording=data["wording"], channel=turn.channel,
                           abroad_zone=_zone(turn, journey.country))
    first = min(job.due_at for job in jobs)
    turn.say("journey_scheduled", first=day(first.astimezone(ZoneInfo(PAKISTAN)).date()))
    return True


# ---- the check-ins abroad ----

def _checkin_step(turn: Turn) -> bool:
    choice = turn.text.strip(" .")
    choice = {"yes": "1", "no": "2"}.get(turn.content.answer(turn.text) or "", choice)
    if choice not in ANSWERS:
        if choice.isdigit():
            turn.say("choice_invalid")
            return True
        turn.state.leave()
        return False
    data = turn.state.data
    answer = ANSWERS[choice]
    journeys.answer_checkin(turn.db, checkin_id=data["checkin_id"], answer=answer)
    if answer not in PROBLEMS:
        turn.state.leave()
        turn.say("journey_checkin_paid")
        return True
    topic, category = PROBLEMS[answer]
    journey = turn.db.get(Journey, data.get("journey_id"))
    menu.answer_topic(turn, turn.content.topics[topic])
    turn.say("journey_checkin_offer")
    turn.state.enter(FLOW, step="complaint_offer", checkin_id=data["checkin_id"],
                     category=category, country=journey.country if journey else "")
    return True


def _complaint_offer_step(turn: Turn) -> bool:
    answer = turn.content.answer(turn.text)
    data = turn.state.data
    if answer == "yes":
        # The country is known: where they are is not asked again (as with an urgent
        # complaint); the form asks what happened, the agent, money and a call-back.
        complaint.start_prefilled(
            turn, {"category": data["category"], "location_country": data.get("country", "")},
            skip=["category", "location"] if data.get("country") else ["category"],
            origin={"kind": "checkin", "id": data["checkin_id"]})
        return True
    turn.state.leave()
    if answer == "no":
        turn.say("journey_checkin_later")
        return True
    return False


def _link_checkin(session: Session, checkin_id: int, referral_id: int) -> None:
    journeys.link_referral(session, checkin_id=checkin_id, referral_id=referral_id)


# ---- helpers ----

def _current(turn: Turn) -> Journey | None:
    return journeys.current(turn.db, contact_id=turn.contact_id)


def _known(journey: Journey) -> dict[str, Any]:
    return {"date": journey.departs_on.isoformat(), "country": journey.country,
            "city": journey.city}


def _place(turn: Turn, country: str, city: str) -> str:
    return place_name(turn.content, country, city, turn.language)


def _zone(turn: Turn, country: str) -> str | None:
    info = turn.content.places.country_info.get(country)
    return info.timezone if info and info.timezone else None


def _needs_nlu(state: object, text: str) -> bool:
    return not text.strip(" .").isdigit()


complaint_filing.FILED["checkin"] = _link_checkin
registry.register(Flow(FLOW, start=start, step=step, needs_nlu=_needs_nlu))
