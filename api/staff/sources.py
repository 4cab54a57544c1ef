"""Sources on the dashboard (their links, keyword, QR code and printable card) and the
changemaker's two forms: refer a person met in a session, record a session.

Who sees what: an admin every source; other staff their centre's; a changemaker only the
changemaker pages (api/staff/web.py CHANGEMAKER_PAGES), and there only the sources they own.
"""

from datetime import date

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup, escape
from sqlmodel import Session, col, select

from api.staff import validation
from api.staff.web import CheckedForm, DbSession, Signed, SignedIn, render
from bot.casework.referrals import Category
from bot.casework.staff import Role, Staff
from bot.content.staff_texts import staff_texts
from bot.content.store import Content
from bot.conversation.language import LANGUAGES, Lang
from bot.outreach import changemaker_referrals as referrals
from bot.outreach import source_cards as cards
from bot.outreach.sources import Source, SourceKind, by_code
from bot.settings import Settings

router = APIRouter()
CODE_MAX = 12
DISTRICT_MAX = 100
PHONE_MAX = 40
# The card is printed in Urdu and English (content/ui/source_card.yml has all five).
CARD_LANGUAGES = (Lang.UR, Lang.EN)


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _visible(signed: Signed, source: Source | None) -> Source:
    """The source, if this staff member may see it; otherwise 404, as for one that does not
    exist (a code of another centre is not confirmed)."""
    if source is None or not cards.may_use(signed.staff, source):
        raise HTTPException(404, "no such source")
    return source


def _source(session: Session, signed: Signed, code: str) -> Source:
    return _visible(signed, by_code(session, code[:CODE_MAX]))


def _changemakers(session: Session, signed: Signed) -> list[Staff]:
    """The accounts a source may be given to: changemakers (of the centre, for a
    supervisor); nobody for anyone else."""
    if signed.staff.role not in (Role.SUPERVISOR, Role.ADMIN):
        return []
    query = select(Staff).where(Staff.role == Role.CHANGEMAKER, col(Staff.active).is_(True))
    if signed.staff.role != Role.ADMIN:
        query = query.where(Staff.centre == signed.staff.centre)
    return list(session.exec(query.order_by(col(Staff.name))))


def _sources_page(request: Request, signed: Signed, session: Session, *, error: str = "",
                  made: str = "", status_code: int = 200) -> HTMLResponse:
    sources = cards.usable_sources(session, signed.staff)
    owners = {s.id: s for s in session.exec(select(Staff).where(
        col(Staff.id).in_([src.owner_staff_id for src in sources if src.owner_staff_id])))}
    centres = request.app.state.bot.content.centres
    page = render(request, "sources.html", signed, sources=sources, owners=owners,
                  kinds=list(SourceKind), changemakers=_changemakers(session, signed),
                  centres=centres if signed.staff.role == Role.ADMIN else
                  {signed.staff.centre: centres.get(signed.staff.centre)},
                  error=error, made=made)
    page.status_code = status_code
    return page


@router.get("/sources")
def sources_list(request: Request, signed: SignedIn, session: DbSession, made: str = ""):
    return _sources_page(request, signed, session, made=made[:CODE_MAX])


@router.post("/sources")
def sources_make(request: Request, signed: SignedIn, session: DbSession, form: CheckedForm):
    owner = None
    if form.get("owner"):
        owner = session.get(Staff, validation.identifier(form.get("owner"), "owner"))
        allowed = {staff.id for staff in _changemakers(session, signed)}
        if owner is None or owner.id not in allowed:
            raise HTTPException(403, "you may not give a source to this account")
    try:
        source = cards.make_source(
            session, content=request.app.state.bot.content, created_by=signed.staff,
            owner=owner,
            name=validation.text(form.get("name"), "name", max_length=cards.NAME_MAX),
            kind=validation.choice(form.get("kind"), "kind", SourceKind),
            centre=validation.text(form.get("centre") or signed.staff.centre, "centre",
                                   max_length=64),
            district=validation.text(form.get("district"), "district",
                                     max_length=DISTRICT_MAX),
            code=validation.text(form.get("code"), "code", max_length=CODE_MAX))
    except cards.NotAllowed as refused:
        raise HTTPException(403, str(refused)) from None
    except cards.SourceError as error:
        session.rollback()
        return _sources_page(request, signed, session, error=str(error), status_code=400)
    session.commit()
    return RedirectResponse(f"/staff/sources?made={source.code}", status_code=303)


@router.get("/sources/{code}")
def source_page(request: Request, signed: SignedIn, session: DbSession, code: str):
    source = _source(session, signed, code)
    settings = _settings(request)
    owner = session.get(Staff, source.owner_staff_id) if source.owner_staff_id else None
    return render(request, "source.html", signed, source=source, owner=owner,
                  keyword=cards.prefilled_text(source.code),
                  link=cards.whatsapp_link(settings.twilio_whatsapp_from, source.code),
                  sms=cards.display_number(settings.twilio_sms_from), ltr=_ltr)


def _ltr(text: str) -> str:
    """`text` in a left-to-right isolate: a number or keyword inside an Urdu sentence."""
    return f"\u2066{text}\u2069"


def _link_or_404(request: Request, source: Source) -> str:
    link = cards.whatsapp_link(_settings(request).twilio_whatsapp_from, source.code)
    if link is None:
        raise HTTPException(404, "no WhatsApp number is set (TWILIO_WHATSAPP_FROM)")
    return link


def _download(body: bytes | str, media_type: str, name: str) -> Response:
    return Response(body, media_type=media_type,
                    headers={"Content-Disposition": f'inline; filename="{name}"'})


@router.get("/sources/{code}/qr.png")
def source_qr_png(request: Request, signed: SignedIn, session: DbSession, code: str):
    source = _source(session, signed, code)
    return _download(cards.qr_png(_link_or_404(request, source)), "image/png",
                     f"rahnuma-{source.code}.png")


@router.get("/sources/{code}/qr.svg")
def source_qr_svg(request: Request, signed: SignedIn, session: DbSession, code: str):
    source = _source(session, signed, code)
    svg = cards.qr_svg(_link_or_404(request, source), title=cards.prefilled_text(source.code))
    return _download(svg, "image/svg+xml", f"rahnuma-{source.code}.svg")


@router.get("/sources/{code}/card")
def source_card(request: Request, signed: SignedIn, session: DbSession, code: str):
    """The printable A6 card: Urdu above English, the QR between them."""
    source = _source(session, signed, code)
    settings = _settings(request)
    content = request.app.state.bot.live.current(session)
    keyword = cards.prefilled_text(source.code)
    link = cards.whatsapp_link(settings.twilio_whatsapp_from, source.code)
    numbers = {"keyword": keyword, "whatsapp": cards.display_number(
        settings.twilio_whatsapp_from), "sms": cards.display_number(settings.twilio_sms_from)}
    sides = {language: {key: _card_text(content, f"source_card_{key}", language, numbers)
                        for key in ("title", "what", "scan", "sms")}
             for language in CARD_LANGUAGES}
    return render(request, "source_card.html", signed, source=source, keyword=keyword,
                  sides=sides, numbers=numbers,
                  qr=cards.qr_svg_inline(link, title=keyword) if link else "")


def _card_text(content: Content, key: str, language: Lang, values: dict[str, str]) -> Markup:
    """The text with each value in a left-to-right isolate: inside Urdu, "+14155238886" and
    "RAHNUMA SLK1" must read (and be typed) exactly as they are, Latin digits and all."""
    marked = content.fill(content.ui[key][language],
                          **{name: f"\ue000{name}\ue001" for name in values})
    html = str(escape(marked))
    for name, value in values.items():
        html = html.replace(f"\ue000{name}\ue001",
                            f'<bdi dir="ltr" lang="en">{escape(value)}</bdi>')
    return Markup(html)


# --- the changemaker's forms -------------------------------------------------------------------

def _own_source(session: Session, signed: Signed, form: dict[str, str],
                sources: list[Source]) -> Source:
    """The source the form names, which must be one of `sources` (a forged id is 403)."""
    wanted = validation.identifier(form.get("source"), "source")
    found = next((s for s in sources if s.id == wanted), None)
    if found is None:
        raise HTTPException(403, "not one of your sources")
    return found


def _refer_page(request: Request, signed: Signed, session: Session, *, error: str = "",
                sent: bool = False, values: dict[str, str] | None = None,
                status_code: int = 200) -> HTMLResponse:
    page = render(request, "changemaker_refer.html", signed,
                  sources=cards.usable_sources(session, signed.staff),
                  categories=list(Category), languages=[str(lang) for lang in LANGUAGES],
                  error=error, sent=sent, values=values or {})
    page.status_code = status_code
    return page


@router.get("/changemaker/refer")
def refer_form(request: Request, signed: SignedIn, session: DbSession, sent: bool = False):
    return _refer_page(request, signed, session, sent=sent)


def _person(form: dict[str, str]) -> referrals.PersonMet:
    def field(name: str, limit: int) -> str:
        return validation.text(form.get(name), name, max_length=limit)

    return referrals.PersonMet(
        phone=field("phone", PHONE_MAX), district=field("district", DISTRICT_MAX),
        category=field("category", 32), description=field("description",
                                                          referrals.DESCRIPTION_MAX),
        language=field("language", 8), name=field("name", referrals.NAME_MAX),
        channel=field("channel", 16) or "whatsapp")


@router.post("/changemaker/refer")
def refer_submit(request: Request, signed: SignedIn, session: DbSession, form: CheckedForm):
    source = _own_source(session, signed, form, cards.usable_sources(session, signed.staff))
    # The wording stored is the one this page showed, in the staff member's page language.
    wording = staff_texts(_settings(request).content_dir)["refer_consent"][
        signed.staff.ui_language if signed.staff.ui_language in ("en", "ur") else "en"]
    try:
        referrals.refer(session, content=request.app.state.bot.content,
                        settings=_settings(request), staff=signed.staff, source=source,
                        person=_person(form), consent_wording=wording,
                        consent_given=form.get("consent") == "yes")
    except referrals.NotYourSource:
        raise HTTPException(403, "not one of your sources") from None
    except referrals.ReferralError as error:
        session.rollback()
        return _refer_page(request, signed, session, error=str(error), values=form,
                           status_code=400)
    session.commit()
    return RedirectResponse("/staff/changemaker/refer?sent=1", status_code=303)


def _sessions_page(request: Request, signed: Signed, session: Session, *, error: str = "",
                   recorded: bool = False, status_code: int = 200) -> HTMLResponse:
    sources = cards.usable_sources(session, signed.staff)
    held = referrals.sessions_of(session, [s.id for s in sources if s.id is not None])
    page = render(request, "changemaker_sessions.html", signed, sources=sources,
                  codes={s.id: s.code for s in sources}, held=held, error=error,
                  recorded=recorded, today=date.today().isoformat())
    page.status_code = status_code
    return page


@router.get("/changemaker/sessions")
def sessions_list(request: Request, signed: SignedIn, session: DbSession,
                  recorded: bool = False):
    return _sessions_page(request, signed, session, recorded=recorded)


def _held_on(value: str | None) -> date:
    try:
        return date.fromisoformat(validation.text(value, "held_on", max_length=10,
                                                  required=True))
    except ValueError:
        raise validation.FormError("held_on", "not a date (YYYY-MM-DD)") from None


def _attendees(value: str | None) -> int:
    cleaned = validation.text(value, "attendees", max_length=6) or "0"
    if not cleaned.isascii() or not cleaned.isdigit():
        raise validation.FormError("attendees", "not a number")
    return int(cleaned)


@router.post("/changemaker/sessions")
def sessions_record(request: Request, signed: SignedIn, session: DbSession,
                    form: CheckedForm):
    source = _own_source(session, signed, form, cards.usable_sources(session, signed.staff))
    try:
        referrals.record_session(
            session, content=request.app.state.bot.content, staff=signed.staff,
            source=source, held_on=_held_on(form.get("held_on")),
            attendees=_attendees(form.get("attendees")),
            district=validation.text(form.get("district"), "district",
                                     max_length=DISTRICT_MAX))
    except referrals.NotYourSource:
        raise HTTPException(403, "not one of your sources") from None
    except referrals.ReferralError as error:
        session.rollback()
        return _sessions_page(request, signed, session, error=str(error), status_code=400)
    session.commit()
    return RedirectResponse("/staff/changemaker/sessions?recorded=1", status_code=303)
