"""Admin pages (licence list, staff accounts), the impact page and the simulator."""

import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select, update
from starlette.datastructures import UploadFile

from api.staff import validation
from api.staff.charts import bar_chart
from api.staff.web import CheckedForm, DbSession, Signed, SignedIn, render, require_role
from bot.casework.csv_safe import csv_text
from bot.casework.impact import FOLLOW_UP_DAYS, Impact, impact
from bot.casework.staff import ContentRole, Role, Staff, StaffError, StaffSession, add_staff
from bot.content.staff_texts import Translator, staff_texts
from bot.conversation.channels import Channel
from bot.conversation.contacts import Contact, Message, utcnow
from bot.conversation.inbox import receive
from bot.conversation.turn import InboundMessage
from bot.outreach.licence_alerts import import_with_alerts
from bot.registry.licence_import import ImportRefused, decode
from bot.registry.licences import LicenceImport

router = APIRouter()
SIMULATOR_PHONE = "+920000000000"  # the test contact; never a real number
# Staff.email / Staff.name / LicenceImport.file_name are VARCHAR(200): longer is a 500 on
# PostgreSQL, so it is refused first. A password is hashed, but hashing megabytes is work.
MAX_NAME = 200
MAX_PASSWORD = 256
# The impact period: wide enough for any real report, narrow enough that date arithmetic
# (the end's next midnight) can never overflow.
FIRST_YEAR, LAST_YEAR = 2000, 2100
ALL_CENTRES = "all"
# The impact charts, and the kind of label (content/staff/dashboard.yml) their rows carry.
CHARTS = {"questions_by_topic": "intent", "questions_by_language": "language",
          "complaints_by_category": "category", "complaints_by_status": "status",
          "complaints_by_district": ""}


@router.get("/licences")
def licences(request: Request, signed: SignedIn, session: DbSession, report: str = ""):
    require_role(signed, Role.ADMIN)
    history = session.exec(select(LicenceImport).order_by(col(LicenceImport.id).desc())).all()
    return render(request, "licences.html", signed, history=history, report=report)


@router.post("/licences")
async def upload_licences(request: Request, signed: SignedIn, session: DbSession,
                          form: CheckedForm):
    require_role(signed, Role.ADMIN)
    upload = (await request.form()).get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise HTTPException(400, "file: choose a CSV file")
    file_name = validation.text(upload.filename, "file", max_length=MAX_NAME, required=True)
    skip_bad_rows = validation.choice(form.get("skip_bad_rows"), "skip_bad_rows", {"on"},
                                      optional=True) == "on"
    text = decode(await upload.read())
    try:
        # The alerts its status changes call for are queued with it; the summary counts them.
        report = import_with_alerts(session, text, settings=request.app.state.settings,
                                    file_name=file_name, skip_bad_rows=skip_bad_rows)
        session.commit()
        summary = report.summary()
    except ImportRefused as refused:
        session.rollback()
        summary = "Refused, nothing imported:\n" + refused.report.summary()
    history = session.exec(select(LicenceImport).order_by(col(LicenceImport.id).desc())).all()
    return render(request, "licences.html", signed, history=history, report=summary)


@router.get("/accounts")
def accounts(request: Request, signed: SignedIn, session: DbSession, error: str = ""):
    require_role(signed, Role.ADMIN)
    error = validation.text(error, "error", max_length=500)
    centres = request.app.state.bot.content.centres
    people = session.exec(select(Staff).order_by(col(Staff.id))).all()
    return render(request, "accounts.html", signed, error=error, centres=centres,
                  roles=list(Role), content_roles=[r.value for r in ContentRole],
                  people=people)


@router.post("/accounts")
def add_account(request: Request, signed: SignedIn, session: DbSession, form: CheckedForm):
    require_role(signed, Role.ADMIN)
    try:
        _add_account(session, form, centres=request.app.state.bot.content.centres)
    except (StaffError, validation.FormError) as error:
        reason = error.detail if isinstance(error, validation.FormError) else str(error)
        # Encoded: the reason quotes what was typed, which may hold "&" or "#".
        return RedirectResponse(f"/staff/accounts?{urlencode({'error': reason})}",
                                status_code=303)
    session.commit()
    return RedirectResponse("/staff/accounts", status_code=303)


def _add_account(session: Session, form: dict[str, str], *, centres: Iterable[str]) -> None:
    """Adds the account with every field checked; FormError names the first wrong one."""
    email = validation.text(form.get("email"), "email", max_length=MAX_NAME, required=True)
    if "@" not in email:
        raise validation.FormError("email", "is not an email address")
    password = form.get("password") or ""
    if len(password) > MAX_PASSWORD or "\x00" in password:
        raise validation.FormError("password", f"at most {MAX_PASSWORD} ordinary characters")
    add_staff(session, email=email,
              name=validation.text(form.get("name"), "name", max_length=MAX_NAME,
                                   required=True),
              centre=validation.choice(form.get("centre"), "centre", centres),
              role=Role(validation.choice(form.get("role") or Role.CASEWORKER, "role", Role)),
              password=password)


@router.post("/accounts/{staff_id}/active")
def set_active(signed: SignedIn, session: DbSession, form: CheckedForm,
               staff_id: validation.PathId):
    """Admins switch an account off (it is kept for the case history) or back on."""
    require_role(signed, Role.ADMIN)
    person = session.get(Staff, staff_id)
    if person is None or person.id == signed.staff.id:
        raise HTTPException(400, "choose another staff member")
    person.active = validation.choice(form.get("active"), "active", {"on"},
                                      optional=True) == "on"
    if not person.active:
        for record in session.exec(select(StaffSession).where(
                StaffSession.staff_id == person.id)):
            session.delete(record)  # signed out everywhere at once
    session.commit()
    return RedirectResponse("/staff/accounts", status_code=303)


@router.post("/accounts/{staff_id}/content-role")
def set_content_role(signed: SignedIn, session: DbSession, form: CheckedForm,
                     staff_id: validation.PathId):
    """Admins name who edits texts and who reviews them (their own account included: an admin
    may be the Urdu reviewer, and still cannot approve their own proposal)."""
    require_role(signed, Role.ADMIN)
    person = session.get(Staff, staff_id)
    if person is None:
        raise HTTPException(400, "choose a staff member")
    person.content_role = validation.choice(form.get("content_role") or "", "content_role",
                                            [r.value for r in ContentRole], optional=True)
    session.commit()
    return RedirectResponse("/staff/accounts", status_code=303)


def _day(value: str, field: str) -> date | None:
    """A YYYY-MM-DD date within the years a report can cover, or None when not given."""
    cleaned = validation.text(value, field, max_length=10)
    if not cleaned:
        return None
    try:
        day = date.fromisoformat(cleaned)
    except ValueError as error:
        raise validation.FormError(field, "dates are YYYY-MM-DD") from error
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise validation.FormError(field, f"choose a year from {FIRST_YEAR} to {LAST_YEAR}")
    return day


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _period(start: str, end: str) -> tuple[datetime, datetime]:
    """[since, to): the end day is included whole; without dates, the last 30 days."""
    first, last = _day(start, "start"), _day(end, "end")
    to = _midnight(last) + timedelta(days=1) if last else utcnow()
    since = _midnight(first) if first else to - timedelta(days=30)
    if since >= to:
        raise validation.FormError("start", "the period starts after it ends")
    return since, to


def _impact_centre(request: Request, signed: Signed, chosen: str) -> str | None:
    """The centre whose complaints the figures count (None: every centre). A caseworker sees
    their own centre's; a supervisor or admin chooses one or all, by default their own centre
    (a supervisor) or all (an admin)."""
    staff = signed.staff
    if staff.role == Role.CASEWORKER:
        return staff.centre
    centres = request.app.state.bot.content.centres
    chosen = validation.choice(chosen, "centre", [ALL_CENTRES, *centres], optional=True)
    if not chosen:
        return None if staff.role == Role.ADMIN else staff.centre
    return None if chosen == ALL_CENTRES else chosen


def _translator(request: Request, signed: Signed) -> Translator:
    return Translator(staff_texts(request.app.state.settings.content_dir),
                      signed.staff.ui_language)


def _label(t: Translator, kind: str, value: str) -> str:
    """A chart row's label in the page's language; the value itself when it has none."""
    key = f"{kind}_{value}"
    return t(key) if kind and key in t.texts else value


@router.get("/impact")
def impact_page(request: Request, signed: SignedIn, session: DbSession, start: str = "",
                end: str = "", centre: str = ""):
    since, to = _period(start, end)
    figures = impact(session, start=since, end=to,
                     centre=_impact_centre(request, signed, centre))
    t = _translator(request, signed)
    charts = {name: bar_chart([(_label(t, kind, key), n) for key, n in getattr(figures, name)])
              for name, kind in CHARTS.items()}
    first_day, last_day = since.date().isoformat(), (to - timedelta(seconds=1)).date().isoformat()
    query = {"start": first_day, "end": last_day, "centre": figures.centre or ALL_CENTRES}
    return render(request, "impact.html", signed, figures=figures, charts=charts,
                  start=first_day, end=last_day, csv_query=urlencode(query),
                  follow_up_days=FOLLOW_UP_DAYS,
                  centres=({} if signed.staff.role == Role.CASEWORKER
                           else request.app.state.bot.content.centres))


@router.get("/impact.csv")
def impact_csv(request: Request, signed: SignedIn, session: DbSession, start: str = "",
               end: str = "", centre: str = ""):
    since, to = _period(start, end)
    figures = impact(session, start=since, end=to,
                     centre=_impact_centre(request, signed, centre))
    return Response(csv_text(_impact_rows(figures, since, to)), media_type="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="rahnuma-impact.csv"'})


def _impact_rows(figures: Impact, since: datetime, to: datetime) -> list[list[object]]:
    # people_reached, messages_in and questions_* always count every centre.
    rows: list[list[object]] = [
        ["measure", "key", "value"], ["period_start", "", since.isoformat()],
        ["period_end", "", to.isoformat()], ["questions_centre", "", ALL_CENTRES],
        ["complaints_centre", "", figures.centre or ALL_CENTRES],
        ["people_reached", "", figures.people_reached],
        ["messages_in", "", figures.messages_in]]
    for name in CHARTS:
        rows.extend([name, key, value] for key, value in getattr(figures, name))
    rows.append(["median_hours_to_first_response", "", figures.median_hours_to_first_response])
    rows.append(["median_hours_to_resolution", "", figures.median_hours_to_resolution])
    # Messages Rahnuma sent first count every centre; the complaints that followed them are
    # complaints_centre's, made within follow_up_days after an alert or a problem check-in.
    outreach = figures.outreach
    rows += [["outreach_centre", "", ALL_CENTRES],
             ["reminders_sent", "", outreach.reminders_sent],
             ["checkins_sent", "", outreach.checkins_sent],
             ["checkins_answered", "", outreach.checkins_answered],
             ["checkin_problems", "", outreach.checkin_problems],
             ["alerts_sent", "", outreach.alerts_sent],
             ["complaints_after_outreach", "", outreach.complaints_after],
             ["follow_up_days", "", FOLLOW_UP_DAYS]]
    return rows


@router.get("/simulator")
def simulator(request: Request, signed: SignedIn, channel: str = "whatsapp"):
    channel = validation.choice(channel, "channel", Channel)
    return render(request, "simulator.html", signed, channel=channel, exchange=[])


@router.post("/simulator")
def simulate(request: Request, signed: SignedIn, form: CheckedForm):
    channel = Channel(validation.choice(form.get("channel") or Channel.WHATSAPP, "channel",
                                        Channel))
    text = validation.text(form.get("text"), "text", max_length=validation.MAX_MESSAGE)
    phone = f"{SIMULATOR_PHONE[:-3]}{signed.staff.id:03d}"[-13:]
    db = request.app.state.db
    _mark_test_contact(db, phone)
    inbound = InboundMessage(phone=phone, channel=channel, body=text,
                             sid=f"SIM{uuid.uuid4().hex}")
    replies = receive(db, request.app.state.bot, inbound).replies
    with Session(db) as session:  # the language the engine saw in the message
        language = session.exec(select(Message.language).where(
            Message.sid == inbound.sid)).first()
    return render(request, "simulator.html", signed, channel=channel,
                  exchange=[("you", text, language)] + [
                      ("bot", r.body, str(r.language)) for r in replies])


def _mark_test_contact(db: Engine, phone: str) -> None:
    """The simulator's contact, created or marked as a test before its first message is
    stored: the impact figures leave it out, from the first message on."""
    with Session(db) as session:
        contact = session.exec(select(Contact).where(Contact.phone == phone)).first()
        if contact is not None and contact.is_test:
            return
        contact = contact or Contact(phone=phone)
        contact.is_test = True
        session.add(contact)
        try:
            session.commit()
            return
        except IntegrityError:  # another tab's first message created it just now
            session.rollback()
        session.exec(update(Contact).where(col(Contact.phone) == phone).values(is_test=True))
        session.commit()
