"""Alerts to many: supervisors and admins write a warning in five languages, choose who gets it,
see how many that is, and send it now or at a time; a large audience needs a second person's
approval. The alert's page shows what came of it (bot/outreach/broadcast_figures.py)."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, col, select

from api.staff import validation
from api.staff.validation import PathId
from api.staff.web import CheckedForm, DbSession, Signed, SignedIn, render, require_role
from bot.casework.staff import Role, Staff
from bot.content.store import Content
from bot.content.templates import Template, get_templates
from bot.conversation.channels import Channel, sms_segments
from bot.conversation.contacts import stored_id, utcnow
from bot.conversation.language import LANGUAGES, Lang
from bot.messaging.outbox import wake_worker
from bot.outreach import broadcast_audience, broadcasts
from bot.outreach.broadcast_audience import AudienceError, Stage
from bot.outreach.broadcast_figures import Figures, figures
from bot.outreach.broadcasts import EDITABLE, Alert, AlertChanged, AlertError, AlertStatus
from bot.outreach.quiet_hours import PAKISTAN
from bot.outreach.sources import Source

router = APIRouter()
MAX_TITLE = 200
MAX_TEXT = 1600
# Staff give a scheduled time in Pakistan's time, as they read the clock.
LOCAL = ZoneInfo(PAKISTAN)
SHOWN = frozenset({AlertStatus.SENDING, AlertStatus.SENT, AlertStatus.CANCELLED})


@dataclass(frozen=True)
class Draft:
    """What the form holds: an alert's, or what was just typed and refused."""

    title: str
    texts: dict[str, str]
    audience: dict[str, list[str]]


def _require(signed: Signed) -> int:
    require_role(signed, Role.ADMIN, Role.SUPERVISOR)
    return stored_id(signed.staff)


def _content(request: Request, session: Session) -> Content:
    return request.app.state.bot.live.current(session)


def _template(request: Request) -> Template:
    return get_templates(request.app.state.settings.content_dir)[broadcasts.TEMPLATE]


def _threshold(request: Request) -> int:
    return int(request.app.state.settings.alert_approval_threshold)


def _choices(request: Request, session: Session) -> dict[str, Any]:
    """Every value the audience filters offer."""
    content = _content(request, session)
    sources = session.exec(select(Source).where(col(Source.active).is_(True))
                           .order_by(col(Source.code))).all()
    return {"districts": sorted(content.places.districts.names()),
            "languages": [str(lang) for lang in LANGUAGES], "sources": sources,
            "stages": [str(stage) for stage in Stage]}


async def _draft(request: Request, form: dict[str, str], session: Session) -> Draft:
    """The form as an alert's fields; an unknown audience value is refused (400)."""
    title = validation.text(form.get("title"), "title", max_length=MAX_TITLE)
    texts = {str(lang): validation.text(form.get(f"text_{lang}"), f"text_{lang}",
                                        max_length=MAX_TEXT) for lang in LANGUAGES}
    multi = await request.form()  # Starlette keeps the parsed form: the lists are here
    raw = {name: [str(v) for v in multi.getlist(name)] for name in broadcast_audience.FILTERS}
    choices = _choices(request, session)
    try:
        audience = broadcast_audience.clean(
            raw, districts=choices["districts"],
            sources={source.code for source in choices["sources"]})
    except AudienceError as refused:
        raise validation.FormError("audience", str(refused)) from refused
    return Draft(title, texts, audience)


def _page(request: Request, signed: Signed, session: Session, alert: Alert | None,
          draft: Draft | None = None, error: str = "", message: str = "",
          status_code: int = 200, refused: AlertError | None = None) -> HTMLResponse:
    shown = draft or (Draft(alert.title, dict(alert.texts), dict(alert.audience))
                      if alert else Draft("", {}, {}))
    found: Figures | None = figures(session, stored_id(alert)) \
        if alert is not None and (alert.status in SHOWN or alert.queued) else None
    live = broadcast_audience.count(session, alert.audience, today=utcnow().date()) \
        if alert is not None else None
    names = dict(session.exec(select(Staff.id, Staff.name)).all())
    response = render(request, "alert.html", signed, alert=alert, draft=shown, error=error,
                      message=message, figures=found, live_count=live, names=names,
                      events=broadcasts.events(session, stored_id(alert)) if alert else [],
                      editable=alert is None or alert.status in EDITABLE,
                      threshold=_threshold(request), me=signed.staff.id,
                      error_key=refused.key if refused else "",
                      error_params=refused.params if refused else {},
                      fingerprint=broadcasts.fingerprint(alert) if alert else "",
                      choices=_choices(request, session),
                      previews=_previews(_content(request, session), alert))
    response.status_code = status_code
    return response


def _previews(content: Content, alert: Alert | None) -> list[tuple[str, str, int]]:
    """Each language's message as a person reads it on WhatsApp, and its SMS segments."""
    if alert is None:
        return []
    return [(lang, broadcasts.framed(content, Lang(lang), text, Channel.WHATSAPP),
             sms_segments(broadcasts.framed(content, Lang(lang), text, Channel.SMS)))
            for lang, text in alert.texts.items()]


def _alert(session: Session, alert_id: int) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise HTTPException(404, "no such alert")
    return alert


@router.get("/alerts")
def alerts(request: Request, signed: SignedIn, session: DbSession):
    _require(signed)
    rows = session.exec(select(Alert).order_by(col(Alert.id).desc()).limit(200)).all()
    return render(request, "alerts.html", signed, alerts=rows)


@router.get("/alerts/new")
def new_alert(request: Request, signed: SignedIn, session: DbSession):
    _require(signed)
    return _page(request, signed, session, None)


@router.post("/alerts")
async def create(request: Request, signed: SignedIn, session: DbSession,
                 form: CheckedForm) -> Response:
    staff_id = _require(signed)
    draft = await _draft(request, form, session)
    try:
        alert = broadcasts.create(session, _content(request, session), _template(request),
                                  title=draft.title, texts=draft.texts,
                                  audience=draft.audience, staff_id=staff_id)
    except AlertError as refused:
        session.rollback()
        return _page(request, signed, session, None, draft, str(refused), status_code=400)
    session.commit()
    return RedirectResponse(f"/staff/alerts/{alert.id}?message=saved", 303)


@router.get("/alerts/{alert_id}")
def alert_page(request: Request, signed: SignedIn, session: DbSession, alert_id: PathId,
               message: str = ""):
    _require(signed)
    return _page(request, signed, session, _alert(session, alert_id),
                 message=validation.text(message, "message", max_length=40))


@router.post("/alerts/{alert_id}/edit")
async def edit(request: Request, signed: SignedIn, session: DbSession, alert_id: PathId,
               form: CheckedForm) -> Response:
    staff_id = _require(signed)
    draft = await _draft(request, form, session)
    try:
        broadcasts.edit(session, _content(request, session), _template(request),
                        alert_id=alert_id, title=draft.title, texts=draft.texts,
                        audience=draft.audience, staff_id=staff_id)
    except AlertError as refused:
        session.rollback()
        return _page(request, signed, session, _alert(session, alert_id), draft,
                     str(refused), status_code=400)
    session.commit()
    return RedirectResponse(f"/staff/alerts/{alert_id}?message=saved", 303)


def _act(request: Request, signed: Signed, session: Session, alert_id: int, action: str,
         **kwargs: Any) -> Response:
    """One step of the flow (submit, approve, send, schedule, cancel); a refusal is shown on
    the alert's page."""
    staff_id = _require(signed)
    try:
        getattr(broadcasts, action)(session, alert_id=alert_id, staff_id=staff_id, **kwargs)
    except AlertError as refused:
        session.rollback()
        return _page(request, signed, session, _alert(session, alert_id), error=str(refused),
                     refused=refused,
                     status_code=409 if isinstance(refused, AlertChanged) else 400)
    session.commit()
    if action == "send_now":
        wake_worker()  # the worker in this process queues it at once
    return RedirectResponse(f"/staff/alerts/{alert_id}?message={action}", 303)


@router.post("/alerts/{alert_id}/submit")
def submit(request: Request, signed: SignedIn, session: DbSession, alert_id: PathId,
           form: CheckedForm) -> Response:
    return _act(request, signed, session, alert_id, "submit", threshold=_threshold(request),
                now=utcnow())


@router.post("/alerts/{alert_id}/approve")
def approve(request: Request, signed: SignedIn, session: DbSession, alert_id: PathId,
            form: CheckedForm) -> Response:
    # What the approver read: the page's fingerprint of the alert (broadcasts.fingerprint).
    seen = validation.text(form.get("fingerprint"), "fingerprint", max_length=64,
                           required=True)
    return _act(request, signed, session, alert_id, "approve", fingerprint_seen=seen,
                now=utcnow())


@router.post("/alerts/{alert_id}/send")
def send(request: Request, signed: SignedIn, session: DbSession, alert_id: PathId,
         form: CheckedForm) -> Response:
    return _act(request, signed, session, alert_id, "send_now",
                threshold=_threshold(request), now=utcnow())


@router.post("/alerts/{alert_id}/schedule")
def schedule(request: Request, signed: SignedIn, session: DbSession, alert_id: PathId,
             form: CheckedForm) -> Response:
    raw = validation.text(form.get("when"), "when", max_length=20, required=True)
    now = utcnow()
    try:
        when = _when(raw, now)
    except AlertError as refused:  # on the page, with the form to choose again
        _require(signed)
        return _page(request, signed, session, _alert(session, alert_id), error=str(refused),
                     refused=refused, status_code=400)
    return _act(request, signed, session, alert_id, "schedule",
                threshold=_threshold(request), when=when, now=now)


def _when(raw: str, now: datetime) -> datetime:
    """The form's Pakistan time in UTC, after `now` and at most MAX_AHEAD away: a refusal
    names the field. Year 1 overflows in the conversion (it was a 500), and a time far off
    is a typo, not a plan."""
    try:
        local = datetime.fromisoformat(raw).replace(tzinfo=LOCAL)
    except ValueError as wrong:
        raise validation.FormError("when", "not a date and time") from wrong
    try:
        when = local.astimezone(UTC)
    except OverflowError:
        when = None
    days = broadcasts.MAX_AHEAD.days
    if when is None or not now < when <= now + broadcasts.MAX_AHEAD:
        raise AlertError(f"when: choose a time after now and at most {days} days ahead",
                         key="alerts_when_range", params={"days": days})
    return when


@router.post("/alerts/{alert_id}/cancel")
def cancel(request: Request, signed: SignedIn, session: DbSession, alert_id: PathId,
           form: CheckedForm) -> Response:
    note = validation.text(form.get("note"), "note", max_length=500)
    return _act(request, signed, session, alert_id, "cancel", note=note)
