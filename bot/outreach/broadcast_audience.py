"""Who an alert goes to: one SQL query over contacts, so 100,000 people are counted and read in
one statement on PostgreSQL and SQLite alike.

Only people who said yes to alerts are ever in an audience: their latest answer on
Topic.ALERTS is yes, they have not sent STOP, and they are not the simulator's test contacts.
Every filter is optional, and a list means "any of these":

- districts: Contact.district, the home district they told (content/districts.yml);
- languages: the language they chose, else the one they last wrote in (Urdu when neither);
- sources: codes of sources; a contact counts for the source they first came through
  (Contact.source_id), not for later touches;
- stages: none (no departure), planned (departs today or later), abroad (departed), from
  their latest departure journey they have not stopped.

A contact who has no inbound message left (erased) has no channel to reach them on and is
left out, so the count shown is the number of messages that would be queued.
"""

from collections.abc import Collection, Iterable, Mapping
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, true
from sqlmodel import Session

from bot.conversation.contacts import Contact, Direction, Message
from bot.conversation.language import LANGUAGES, Lang
from bot.outreach.consent import Consent, Topic
from bot.outreach.journeys import Journey, JourneyStatus
from bot.outreach.sources import Source


class Stage(StrEnum):
    NONE = "none"  # no departure told (or only stopped ones)
    PLANNED = "planned"  # departs today or later
    ABROAD = "abroad"  # departed


FILTERS = ("districts", "languages", "sources", "stages")
ECHOED = 40  # characters of an unknown value a refusal repeats


class AudienceError(ValueError):
    """A filter names something that does not exist; the message says which."""


def clean(raw: Mapping[str, Iterable[str]], *, districts: Collection[str],
          sources: Collection[str]) -> dict[str, list[str]]:
    """The audience as stored on an Alert: every filter a sorted list of known values."""
    allowed: dict[str, Collection[str]] = {
        "districts": districts, "languages": [str(lang) for lang in LANGUAGES],
        "sources": sources, "stages": [str(stage) for stage in Stage]}
    audience: dict[str, list[str]] = {}
    for name in FILTERS:
        values = sorted({str(value).strip() for value in raw.get(name, ()) if str(value).strip()})
        if name == "sources":
            values = sorted({value.upper() for value in values})
        unknown = [value for value in values if value not in allowed[name]]
        if unknown:
            # Cut: the value comes from a form, and a page must not echo a forged megabyte.
            shown = ", ".join(value[:ECHOED] for value in unknown[:5])
            raise AudienceError(f"{name}: unknown {shown}")
        audience[name] = values
    return audience


_CONTACT = Contact.__table__  # type: ignore[attr-defined]
_CONSENT = Consent.__table__  # type: ignore[attr-defined]
_MESSAGE = Message.__table__  # type: ignore[attr-defined]
_JOURNEY = Journey.__table__  # type: ignore[attr-defined]
_SOURCE = Source.__table__  # type: ignore[attr-defined]


def _language() -> ColumnElement[Any]:
    return func.coalesce(_CONTACT.c.language, _CONTACT.c.last_language, str(Lang.UR))


def _conditions(audience: Mapping[str, Any], today: date) -> list[ColumnElement[Any]]:
    said_yes = (select(_CONSENT.c.given)
                .where(_CONSENT.c.contact_id == _CONTACT.c.id,
                       _CONSENT.c.topic == str(Topic.ALERTS), _CONSENT.c.subject == "")
                .order_by(_CONSENT.c.id.desc()).limit(1).scalar_subquery())
    conditions = [_CONTACT.c.opted_out.is_(False), _CONTACT.c.is_test.is_(False),
                  said_yes == true()]
    if audience.get("districts"):
        conditions.append(_CONTACT.c.district.in_(audience["districts"]))
    if audience.get("languages"):
        conditions.append(_language().in_(audience["languages"]))
    if audience.get("sources"):
        conditions.append(_CONTACT.c.source_id.in_(
            select(_SOURCE.c.id).where(_SOURCE.c.code.in_(audience["sources"]))))
    if audience.get("stages"):
        conditions.append(_stage_condition(audience["stages"], today))
    return conditions


def _stage_condition(stages: Iterable[str], today: date) -> ColumnElement[bool]:
    departs = (select(_JOURNEY.c.departs_on)
               .where(_JOURNEY.c.contact_id == _CONTACT.c.id,
                      _JOURNEY.c.status != str(JourneyStatus.STOPPED))
               .order_by(_JOURNEY.c.id.desc()).limit(1).scalar_subquery())
    either = {Stage.NONE: departs.is_(None), Stage.PLANNED: departs >= today,
              Stage.ABROAD: departs < today}
    return or_(*(either[Stage(stage)] for stage in stages))


def recipients(audience: Mapping[str, Any], *, today: date, after_id: int = 0,
               limit: int | None = None) -> Select[Any]:
    """id, language, timezone and channel (where they last wrote from) of each person in the
    audience with an id above `after_id`, by id: the queueing's resumable order."""
    channel = (select(_MESSAGE.c.channel)
               .where(_MESSAGE.c.contact_id == _CONTACT.c.id,
                      _MESSAGE.c.direction == str(Direction.IN))
               .order_by(_MESSAGE.c.id.desc()).limit(1).scalar_subquery())
    inner = (select(_CONTACT.c.id, _language().label("language"), _CONTACT.c.timezone,
                    channel.label("channel"))
             .where(and_(*_conditions(audience, today)), _CONTACT.c.id > after_id)
             .subquery())
    query = select(inner).where(inner.c.channel.is_not(None)).order_by(inner.c.id)
    return query.limit(limit) if limit is not None else query


def count(session: Session, audience: Mapping[str, Any], *, today: date) -> int:
    inner = recipients(audience, today=today).order_by(None).subquery()
    return int(session.connection().execute(
        select(func.count()).select_from(inner)).scalar_one())
