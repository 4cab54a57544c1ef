"""Danger first: a message with danger signs gets, before any form or menu, what to do now.

Checked on every message (first, mid-flow, or a reply to a prompt). The reply names Pakistan's
mission and the local emergency number of the country when a country or a city is named
(content/countries.yml, FACTS.md s.8), speaks to the family when a relative is writing, and
offers a one-reply start of an urgent complaint. Inside the complaint form the form goes on,
marked urgent, with the person's words kept.
"""

from bot.casework.referrals import Category
from bot.conversation import registry
from bot.conversation.flows import complaint
from bot.conversation.registry import Flow
from bot.conversation.turn import Turn

FLOW = "danger"


def detected(turn: Turn) -> bool:
    return bool(turn.text) and turn.content.is_urgent(turn.text)


def respond(turn: Turn) -> None:
    body = turn.inbound.body.strip()
    country = turn.content.country_in(body)
    district = turn.content.district_in(body)
    family = turn.content.signal("relatives", body)
    _help(turn, country=country, district=district, family=family)
    if turn.state.flow == complaint.FLOW and turn.state.intake:
        complaint.mark_urgent(turn, body)
        turn.say("danger_marked_urgent", hours=turn.urgent_response_hours)
        if turn.state.intake.get("step") == "describe":
            complaint.step(turn)  # the danger message is the story asked for
        else:
            complaint.reprompt(turn)
        return
    passport_only = not turn.content.signal("urgent", body) and \
        turn.content.signal("passport_held", body)
    story = " ".join(v for v in (turn.state.data.get("story") if turn.state.flow == FLOW
                                 else "", body) if v)
    turn.state.enter(FLOW, story=story, country=country or "", district=district or "",
                     category=Category.PASSPORT_HELD if passport_only
                     else Category.THREATS_VIOLENCE)
    turn.state.story = story
    turn.say("danger_offer", hours=turn.urgent_response_hours)


def _help(turn: Turn, *, country: str | None, district: str | None, family: bool) -> None:
    if country is None and district is not None and not family:
        # A worker naming a place at home and none abroad is in danger in Pakistan; a family
        # naming their own district is usually writing about a relative abroad.
        turn.say("danger_help_home")
        return
    info = turn.content.places.country_info.get(country or "")
    mission = info.mission.get(turn.language) if info else None
    emergency = info.emergency if info and info.emergency else None
    turn.say("danger_help_family" if family else "danger_help",
             mission=mission or turn.content.text("danger_mission_unknown", turn.language),
             emergency=emergency or turn.content.text("danger_emergency_unknown",
                                                      turn.language))


def step(turn: Turn) -> bool:
    """"1" starts the urgent complaint; anything else is a new message."""
    data = turn.state.data
    if turn.text.strip(" .") != "1":
        turn.state.leave()
        return False
    complaint.start_urgent(turn, story=data.get("story", ""),
                           category=data.get("category") or Category.THREATS_VIOLENCE,
                           country=data.get("country") or None,
                           district=data.get("district") or None)
    return True


def _not_one(state: object, text: str) -> bool:
    return text.strip(" .") != "1"  # anything but "1" is a new message for the NLU


registry.register(Flow(FLOW, start=respond, step=step, needs_nlu=_not_one))
