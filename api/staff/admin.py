"""Admin pages (licence list, staff accounts), the impact page and the simulator."""

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import col, select
from starlette.datastructures import UploadFile

from api.staff.charts import bar_chart
from api.staff.web import CheckedForm, DbSession, SignedIn, render, require_role
from bot.casework.impact import impact
from bot.casework.staff import Role, Staff, StaffError, StaffSession, add_staff
from bot.conversation.channels import Channel
from bot.conversation.contacts import utcnow
from bot.conversation.inbox import receive
from bot.conversation.turn import InboundMessage
from bot.registry.licence_import import ImportRefused, decode, import_licences
from bot.registry.licences import LicenceImport

router = APIRouter()
SIMULATOR_PHONE = "+920000000000"  # the test contact; never a real number


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
        raise HTTPException(400, "choose a CSV file")
    text = decode(await upload.read())
    try:
        report = import_licences(session, text, file_name=upload.filename,
                                 skip_bad_rows=form.get("skip_bad_rows") == "on")
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
    centres = request.app.state.bot.content.centres
    people = session.exec(select(Staff).order_by(col(Staff.id))).all()
    return render(request, "accounts.html", signed, error=error, centres=centres,
                  roles=list(Role), people=people)


@router.post("/accounts")
def add_account(request: Request, signed: SignedIn, session: DbSession, form: CheckedForm):
    require_role(signed, Role.ADMIN)
    try:
        if form.get("centre") not in request.app.state.bot.content.centres:
            raise StaffError("unknown centre")
        add_staff(session, email=form.get("email", ""), name=form.get("name", ""),
                  centre=form["centre"], role=Role(form.get("role", "caseworker")),
                  password=form.get("password", ""))
    except (StaffError, ValueError) as error:
        return RedirectResponse(f"/staff/accounts?error={error}", status_code=303)
    session.commit()
    return RedirectResponse("/staff/accounts", status_code=303)


@router.post("/accounts/{staff_id}/active")
def set_active(signed: SignedIn, session: DbSession, form: CheckedForm, staff_id: int):
    """Admins switch an account off (it is kept for the case history) or back on."""
    require_role(signed, Role.ADMIN)
    person = session.get(Staff, staff_id)
    if person is None or person.id == signed.staff.id:
        raise HTTPException(400, "choose another staff member")
    person.active = form.get("active") == "on"
    if not person.active:
        for record in session.exec(select(StaffSession).where(
                StaffSession.staff_id == person.id)):
            session.delete(record)  # signed out everywhere at once
    session.commit()
    return RedirectResponse("/staff/accounts", status_code=303)


def _period(start: str, end: str) -> tuple[datetime, datetime]:
    try:
        to = datetime.fromisoformat(end).replace(tzinfo=UTC) if end else utcnow()
        since = datetime.fromisoformat(start).replace(tzinfo=UTC) if start else \
            to - timedelta(days=30)
    except ValueError as error:
        raise HTTPException(400, "dates are YYYY-MM-DD") from error
    return since, to + timedelta(days=1) if end else to


@router.get("/impact")
def impact_page(request: Request, signed: SignedIn, session: DbSession, start: str = "",
                end: str = ""):
    since, to = _period(start, end)
    centre = None if signed.staff.role == Role.ADMIN else signed.staff.centre
    figures = impact(session, start=since, end=to, centre=centre)
    charts = {name: bar_chart(getattr(figures, name)) for name in (
        "questions_by_topic", "questions_by_language", "complaints_by_category",
        "complaints_by_status", "complaints_by_district")}
    return render(request, "impact.html", signed, figures=figures, charts=charts,
                  start=since.date().isoformat(), end=(to - timedelta(seconds=1)).date()
                  .isoformat())


@router.get("/impact.csv")
def impact_csv(signed: SignedIn, session: DbSession, start: str = "", end: str = ""):
    since, to = _period(start, end)
    centre = None if signed.staff.role == Role.ADMIN else signed.staff.centre
    figures = impact(session, start=since, end=to, centre=centre)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["measure", "key", "value"])
    writer.writerow(["period_start", "", since.isoformat()])
    writer.writerow(["period_end", "", to.isoformat()])
    writer.writerow(["people_reached", "", figures.people_reached])
    writer.writerow(["messages_in", "", figures.messages_in])
    for name in ("questions_by_topic", "questions_by_language", "complaints_by_category",
                 "complaints_by_status", "complaints_by_district"):
        for key, value in getattr(figures, name):
            writer.writerow([name, key, value])
    writer.writerow(["median_hours_to_first_response", "",
                     figures.median_hours_to_first_response])
    writer.writerow(["median_hours_to_resolution", "", figures.median_hours_to_resolution])
    return Response(out.getvalue(), media_type="text/csv", headers={
        "Content-Disposition": 'attachment; filename="rahnuma-impact.csv"'})


@router.get("/simulator")
def simulator(request: Request, signed: SignedIn, channel: str = "whatsapp"):
    return render(request, "simulator.html", signed, channel=channel, exchange=[])


@router.post("/simulator")
def simulate(request: Request, signed: SignedIn, form: CheckedForm):
    channel = Channel(form.get("channel", "whatsapp"))
    text = form.get("text", "")
    phone = f"{SIMULATOR_PHONE[:-3]}{signed.staff.id:03d}"[-13:]
    inbound = InboundMessage(phone=phone, channel=channel, body=text,
                             sid=f"SIM{uuid.uuid4().hex}")
    replies = receive(request.app.state.db, request.app.state.bot, inbound).replies
    return render(request, "simulator.html", signed, channel=channel,
                  exchange=[("you", text)] + [("bot", r.body) for r in replies])
