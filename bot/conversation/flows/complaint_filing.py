"""The end of the complaint intake: the summary a person confirms, and the referral it becomes."""

from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from bot.casework import evidence
from bot.casework.referrals import (
    Category,
    Priority,
    add_note,
    create_referral,
    open_referral_about,
)
from bot.conversation.turn import Turn

# A complaint another flow began (complaint.start_prefilled) names its origin, {"kind": ...,
# "id": ...}; the flow of that kind registers here what to do with the referral it became
# (the journey links the check-in), so this module imports none of them.
FILED: dict[str, Callable[[Session, int, int], None]] = {}


def file(turn: Turn, intake: dict[str, Any]) -> None:
    """Turn the intake into a referral (or add it to the open one about the same agent)."""
    values = intake["values"]
    if turn.content.is_urgent(_all_text(values)):
        intake["urgent"] = True
    urgent = bool(intake.get("urgent"))
    existing = open_referral_about(turn.db, contact_id=turn.contact_id,
                                   licence_id=values.get("licence_id"),
                                   agent_name=values.get("agent_name", ""))
    if existing:
        add_note(turn.db, existing, actor="worker", note=summary_text(turn, values))
        if urgent:
            existing.priority = Priority.URGENT
        referral = existing
        turn.say("complaint_joined", reference=existing.reference)
    else:
        referral = create_referral(
            turn.db, contact_id=turn.contact_id,
            category=values.get("category") or Category.OTHER,
            description=values.get("description", ""), agent_name=values.get("agent_name", ""),
            licence_no=values.get("licence_no", ""), licence_id=values.get("licence_id"),
            amount=values.get("amount"), location_country=values.get("location_country", ""),
            location_district=values.get("location_district", ""),
            callback_phone=values.get("callback_phone", turn.contact.phone),
            priority=Priority.URGENT if urgent else Priority.NORMAL,
            # The home district decides the centre, even for a worker abroad.
            centre=turn.content.centre_for(values.get("location_district")),
            language=str(turn.language), channel=turn.channel)
        if urgent:
            turn.say("complaint_received_urgent", reference=referral.reference,
                     hours=turn.urgent_response_hours)
        else:
            turn.say("complaint_received", reference=referral.reference,
                     hours=turn.first_response_hours)
            turn.say("complaint_also_official")
    home = turn.content.district_in(values.get("location_district") or "")
    if home and not turn.contact.district:  # alerts to a district reach them from now on
        turn.contact.district = home
    if referral.id is not None:  # flushed by create_referral / loaded: always set
        evidence.attach_to_referral(turn.db, intake.get("evidence", []), referral.id)
        origin = intake.get("origin") or {}
        if origin.get("kind") in FILED:
            FILED[origin["kind"]](turn.db, origin["id"], referral.id)
    turn.state.end_intake()


def _all_text(values: dict[str, Any]) -> str:
    return " ".join(str(values.get(k) or "") for k in ("description", "agent_name"))


def summary_text(turn: Turn, values: dict[str, Any]) -> str:
    def line(label: str, value: object) -> str:
        shown = value if value not in (None, "") else turn.content.text("summary_none",
                                                                        turn.language)
        return f"{turn.content.text(label, turn.language)}: {shown}"

    category = values.get("category")
    what = turn.content.text(f"category_{category}", turn.language) if category else ""
    amount = f"Rs {values['amount']:,}" if values.get("amount") else None
    country = values.get("location_country") or ""
    info = turn.content.places.country_info.get(country)
    country = info.name.get(turn.language, country) if info else country  # in their language
    place = ", ".join(v for v in ((values.get("location_district") or "").title(), country) if v)
    agent = " ".join(v for v in (values.get("agent_name"), values.get("licence_no")) if v)
    description = values.get("description", "")
    # On SMS the summary precedes a numbered question; a long story would push it off the page.
    limit = 50 if turn.channel == "sms" else 300
    story = description[:limit] + ("..." if len(description) > limit else "")
    lines = [("summary_category", what), ("summary_agent", agent),
             ("summary_money", amount), ("summary_location", place),
             ("summary_callback", values.get("callback_phone"))]
    if turn.channel == "sms":  # every character counts: what was not given is not listed
        lines = [(label, value) for label, value in lines if value]
    shown = [line(label, value) for label, value in lines]
    return "\n".join([shown[0], *([story] if description else []), *shown[1:]])
