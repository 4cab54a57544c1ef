"""Making a source and what it hands out: the WhatsApp click-to-chat link, the SMS keyword and
the QR code on its printed card.

Every one of them carries the same first message, the keyword and the code: "RAHNUMA <CODE>"
to type (sources.KEYWORD), "رہنما <CODE>" typed in by the link and QR code. The conversation
side finds the code in either with sources.code_in and attributes the new contact to the
source. The link is built here and nowhere else, so the two cannot drift apart.
"""

import io
import re
from urllib.parse import quote

import segno
from anyascii import anyascii
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.casework.staff import Role, Staff
from bot.content.store import Content
from bot.outreach.sources import CODE_PATTERN, KEYWORD, URDU_KEYWORD, Source, SourceKind

NAME_MAX = 200
# Letters a suggested code starts with: three, as the office codes people already know
# (LHR, SKT); the number after them keeps it apart from another source of the same place.
_PREFIX_LETTERS = 3
_VOWELS = frozenset("AEIOU")
_LAST_NUMBER = 9999


class SourceError(Exception):
    """A source could not be made as asked; `field` names the form field at fault."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


class NotAllowed(SourceError):
    """The staff member's role does not let them make this source."""


def prefilled_text(code: str) -> str:
    """The first message the card and the SMS keyword ask people to type: Latin letters, which
    every phone's keyboard has."""
    return f"{KEYWORD} {code}"


def link_text(code: str) -> str:
    """The text a WhatsApp link or QR code types in for the person: the keyword in Urdu script
    (رہنما SLK1), so someone who reads Urdu is welcomed in it (the welcome offers the other
    languages); the bot reads either keyword."""
    return f"{URDU_KEYWORD} {code}"


def whatsapp_link(whatsapp_from: str | None, code: str) -> str | None:
    """https://wa.me/<number>?text=<link_text>: opens a chat with the helpline with the text
    typed in. None while no WhatsApp sender (TWILIO_WHATSAPP_FROM) is configured."""
    digits = re.sub(r"\D", "", whatsapp_from or "")
    if not digits:
        return None
    return f"https://wa.me/{digits}?text={quote(link_text(code))}"


def display_number(number: str | None) -> str:
    """A sender number as people dial it: "+14155238886" (no "whatsapp:" prefix)."""
    digits = re.sub(r"\D", "", number or "")
    return f"+{digits}" if digits else ""


def qr_png(link: str, *, scale: int = 8) -> bytes:
    """The QR code of `link` as a PNG, sized for print (a wide quiet zone: a phone camera
    finds the code on a crowded noticeboard)."""
    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def qr_svg(link: str, *, scale: int = 6, title: str = "") -> str:
    """The QR code of `link` as an SVG file."""
    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="svg", scale=scale, light="#fff", border=4,
                                     title=title or None)
    return buffer.getvalue().decode("utf-8")


def qr_svg_inline(link: str, *, title: str, scale: int = 5) -> str:
    """The QR code as markup to place in a page: the pages' CSP allows inline SVG (no script,
    no style attribute in it)."""
    # No width or height, a viewBox instead: the stylesheet sizes it for the card.
    return segno.make(link, error="m").svg_inline(scale=scale, light="#fff", title=title,
                                                  omitsize=True)


def suggest_code(session: Session, *, name: str = "", district: str = "") -> str:
    """A free code from the district (or the name): its first letter and next consonants, as
    the office codes people know ("sialkot" -> SLK), then the lowest free number: SLK1."""
    letters = _letters(district) or _letters(name) or "SRC"
    taken = set(session.exec(select(Source.code).where(
        col(Source.code).startswith(letters))))
    for number in range(1, _LAST_NUMBER + 1):
        if f"{letters}{number}" not in taken:
            return f"{letters}{number}"
    raise SourceError("code", "no free code for these letters: give one")


def _letters(text: str) -> str:
    latin = re.sub(r"[^A-Z]", "", anyascii(text or "").upper())
    if not latin:
        return ""
    consonants = latin[0] + "".join(c for c in latin[1:] if c not in _VOWELS)
    picked = (consonants if len(consonants) >= 2 else latin)[:_PREFIX_LETTERS]
    return picked if len(picked) >= 2 else ""


def make_source(session: Session, *, content: Content, name: str, kind: str, centre: str,
                created_by: Staff, district: str = "", code: str = "",
                owner: Staff | None = None) -> Source:
    """A new source. `code` is checked (CODE_PATTERN, not taken), or suggested when empty;
    `district` is any spelling of a district in content/districts.yml, stored as its key."""
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise SourceError("name", f"give a name of at most {NAME_MAX} characters")
    if kind not in {str(k) for k in SourceKind}:
        raise SourceError("kind", f"unknown kind {kind[:20]!r}")
    if centre not in content.centres:
        raise SourceError("centre", f"unknown centre {centre[:40]!r}")
    district_key = _district(content, district)
    _check_allowed(created_by, centre=centre, owner=owner)
    code = code.strip().upper() or suggest_code(session, name=name, district=district_key)
    if not CODE_PATTERN.fullmatch(code):
        raise SourceError("code", "2 to 5 letters then 1 to 4 digits, like SLK12")
    source = Source(code=code, kind=kind, name=name, district=district_key, centre=centre,
                    owner_staff_id=owner.id if owner else None, created_by_staff_id=created_by.id)
    try:
        with session.begin_nested():  # a code taken meanwhile (or inactive) is refused
            session.add(source)
            session.flush()
    except IntegrityError:
        raise SourceError("code", f"{code} is already taken") from None
    return source


def _check_allowed(staff: Staff, *, centre: str, owner: Staff | None) -> None:
    """Caseworkers make sources for their own centre; supervisors too, and they (and admins,
    for any centre) may give one to a changemaker's account."""
    if staff.role == Role.CHANGEMAKER:
        raise NotAllowed("kind", "a changemaker's account makes no sources")
    if staff.role != Role.ADMIN and centre != staff.centre:
        raise NotAllowed("centre", "only an admin makes sources for another centre")
    if owner is None:
        return
    if staff.role not in (Role.SUPERVISOR, Role.ADMIN):
        raise NotAllowed("owner", "only supervisors and admins assign a changemaker")
    if owner.role != Role.CHANGEMAKER or not owner.active:
        raise SourceError("owner", "not an active changemaker's account")


def _district(content: Content, district: str) -> str:
    if not district.strip():
        return ""
    key = content.district_in(district)
    if key is None:
        raise SourceError("district", f"{district[:40]!r} is not a district we know")
    return key


def may_use(staff: Staff, source: Source) -> bool:
    """A changemaker uses only the sources they own; an admin any; other staff their
    centre's."""
    if staff.role == Role.CHANGEMAKER:
        return source.owner_staff_id is not None and source.owner_staff_id == staff.id
    return staff.role == Role.ADMIN or source.centre == staff.centre


def usable_sources(session: Session, staff: Staff) -> list[Source]:
    """The active sources `staff` may record sessions and referrals for, by code."""
    query = select(Source).where(col(Source.active).is_(True))
    if staff.role == Role.CHANGEMAKER:
        query = query.where(Source.owner_staff_id == staff.id)
    elif staff.role != Role.ADMIN:
        query = query.where(Source.centre == staff.centre)
    return list(session.exec(query.order_by(col(Source.code))))
