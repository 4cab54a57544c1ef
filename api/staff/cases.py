"""The queue and the case page: claim, assign, status, notes, replies, evidence."""

from datetime import timedelta
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from api.staff.web import CheckedForm, DbSession, Signed, SignedIn, render
from bot.casework.evidence import Evidence
from bot.casework.referrals import (
    OPEN,
    Category,
    Referral,
    ReferralEvent,
    ReferredTo,
    Status,
    TransitionError,
    add_note,
    change_status,
    claim,
)
from bot.casework.staff import Role, Staff, can_assign, can_see
from bot.conversation.contacts import Contact, Message, stored_id, utcnow
from bot.conversation.language import Lang
from bot.messaging.outbox import enqueue, whatsapp_window_open

router = APIRouter()
VIEWS = {"unassigned": "Unassigned", "mine": "Mine", "urgent": "Urgent",
         "waiting": "Waiting on worker", "open": "All open", "closed": "Closed"}


def _visible(signed: Signed) -> SelectOfScalar[Referral]:
    query = select(Referral)
    if signed.staff.role != Role.ADMIN:
        query = query.where(Referral.centre == signed.staff.centre)
    return query


def _queue_query(signed: Signed, view: str,
                 filters: dict[str, str]) -> SelectOfScalar[Referral]:
    query = _visible(signed)
    open_ = col(Referral.status).in_(OPEN)
    query = query.where({
        "unassigned": open_ & col(Referral.assignee_id).is_(None),
        "mine": open_ & (col(Referral.assignee_id) == signed.staff.id),
        "urgent": open_ & (col(Referral.priority) == "urgent"),
        "waiting": col(Referral.status) == Status.WAITING_ON_WORKER,
        "closed": col(Referral.status).in_((Status.RESOLVED, Status.CLOSED)),
    }.get(view, open_))
    for field in ("category", "status", "language"):
        if filters.get(field):
            query = query.where(getattr(Referral, field) == filters[field])
    if filters.get("district"):
        query = query.where(col(Referral.location_district).ilike(f"%{filters['district']}%"))
    if filters.get("q"):
        term = filters["q"].strip()
        contact_ids = select(Contact.id).where(col(Contact.phone).contains(term.lstrip("0")))
        query = query.where((col(Referral.reference) == term.upper()) |
                            col(Referral.contact_id).in_(contact_ids))
    # Urgent first ("urgent" sorts after "normal"), then oldest first.
    urgent_first = col(Referral.priority).desc()
    return query.order_by(urgent_first, col(Referral.created_at), col(Referral.id))


@router.get("/queue")
def queue(request: Request, signed: SignedIn, session: DbSession, view: str = "open",
          category: str = "", status: str = "", district: str = "", language: str = "",
          q: str = ""):
    filters = {"category": category, "status": status, "district": district,
               "language": language, "q": q}
    referrals = session.exec(_queue_query(signed, view, filters).limit(500)).all()
    sla = timedelta(hours=request.app.state.settings.first_response_hours)
    now = utcnow()
    rows = [{"referral": r, "age_hours": int((now - r.created_at).total_seconds() // 3600),
             "overdue": r.status == Status.NEW and now - r.created_at > sla}
            for r in referrals]
    names = {s.id: s.name for s in session.exec(select(Staff))}
    return render(request, "queue.html", signed, rows=rows, view=view, views=VIEWS, names=names,
                  filters=filters, categories=list(Category), statuses=list(Status),
                  languages=list(Lang))


def _case(session: Session, signed: Signed, referral_id: int) -> Referral:
    """The referral if this staff member may see it; 404 otherwise (its existence is private)."""
    referral = session.get(Referral, referral_id)
    if referral is None or not can_see(signed.staff, referral):
        raise HTTPException(404, "no such case")
    return referral


def _contact_of(session: Session, referral: Referral) -> Contact:
    """The person a case is about (a referral is erased together with its contact)."""
    contact = session.get(Contact, referral.contact_id)
    if contact is None:
        raise HTTPException(404, "no such contact")
    return contact


@router.get("/cases/{referral_id}")
def case_page(request: Request, signed: SignedIn, session: DbSession, referral_id: int):
    referral = _case(session, signed, referral_id)
    contact = _contact_of(session, referral)
    content = request.app.state.bot.content
    language = Lang(referral.language)
    contact_id = stored_id(contact)
    window_open = referral.channel != "whatsapp" or whatsapp_window_open(session, contact_id)
    colleagues = session.exec(select(Staff).where(Staff.centre == referral.centre,
                                                  Staff.active)).all()
    return render(
        request, "case.html", signed, referral=referral, contact=contact,
        messages=session.exec(select(Message).where(Message.contact_id == contact_id)
                              .order_by(col(Message.id))).all(),
        events=session.exec(select(ReferralEvent).where(
            ReferralEvent.referral_id == referral.id).order_by(col(ReferralEvent.id))).all(),
        evidence=session.exec(select(Evidence).where(
            Evidence.referral_id == referral.id)).all(),
        canned={key: content.text(key, language, reference=referral.reference)
                for key in content.ui if key.startswith("canned_")},
        routed_because=content.route(referral.location_district)[1],
        window_open=window_open, template_ready=bool(
            request.app.state.settings.twilio_whatsapp_template_sid),
        next_statuses=sorted(_next(referral)), referred_to=list(ReferredTo),
        can_assign=can_assign(signed.staff, referral), colleagues=colleagues,
        assignee=session.get(Staff, referral.assignee_id) if referral.assignee_id else None,
        category_title=content.text(f"category_{referral.category}", Lang.EN))


def _next(referral: Referral) -> set[str]:
    from bot.casework.referrals import TRANSITIONS

    return {str(s) for s in TRANSITIONS[Status(referral.status)]}


def _back(referral_id: int, flash: str = "") -> RedirectResponse:
    suffix = f"?flash={flash}" if flash else ""
    return RedirectResponse(f"/staff/cases/{referral_id}{suffix}", status_code=303)


@router.post("/cases/{referral_id}/claim")
def claim_case(signed: SignedIn, session: DbSession, form: CheckedForm, referral_id: int):
    _case(session, signed, referral_id)
    ok = claim(session, referral_id, staff_id=stored_id(signed.staff))
    session.commit()
    return _back(referral_id, "" if ok else "taken")


@router.post("/cases/{referral_id}/assign")
def assign_case(signed: SignedIn, session: DbSession, form: CheckedForm, referral_id: int):
    referral = _case(session, signed, referral_id)
    if not can_assign(signed.staff, referral):
        raise HTTPException(403, "only a supervisor or admin assigns cases")
    assignee = session.get(Staff, int(form.get("staff_id") or 0))
    if assignee is None or assignee.centre != referral.centre:
        raise HTTPException(400, "assign to a colleague of the case's centre")
    referral.assignee_id = assignee.id
    add_note(session, referral, actor=f"staff:{signed.staff.id}",
             note=f"assigned to {assignee.name}")
    session.commit()
    return _back(referral_id)


@router.post("/cases/{referral_id}/status")
def set_status(signed: SignedIn, session: DbSession, form: CheckedForm, referral_id: int):
    referral = _case(session, signed, referral_id)
    target = form.get("to", "")
    if target not in {str(s) for s in Status}:
        raise HTTPException(400, "unknown status")
    referred = form.get("referred_to") or None
    try:
        change_status(session, referral, Status(target), actor=f"staff:{signed.staff.id}",
                      note=form.get("reason", ""),
                      referred_to=ReferredTo(referred) if referred else None)
    except (TransitionError, ValueError) as error:
        raise HTTPException(400, str(error)) from error
    session.commit()
    return _back(referral_id)


@router.post("/cases/{referral_id}/note")
def note(signed: SignedIn, session: DbSession, form: CheckedForm, referral_id: int):
    referral = _case(session, signed, referral_id)
    text = form.get("note", "").strip()
    if not text:
        raise HTTPException(400, "the note is empty")
    add_note(session, referral, actor=f"staff:{signed.staff.id}", note=text,
             for_worker=form.get("for_worker") == "on")
    session.commit()
    return _back(referral_id)


@router.post("/cases/{referral_id}/reply")
def reply(request: Request, signed: SignedIn, session: DbSession, form: CheckedForm,
          referral_id: int):
    referral = _case(session, signed, referral_id)
    contact = _contact_of(session, referral)
    content = request.app.state.bot.content
    canned = form.get("canned", "")
    body = (content.text(canned, Lang(referral.language), reference=referral.reference)
            if canned.startswith("canned_") and canned in content.ui
            else form.get("body", "").strip())
    if not body:
        raise HTTPException(400, "write a reply or choose a canned one")
    template = None
    if referral.channel == "whatsapp" and not whatsapp_window_open(session, stored_id(contact)):
        template = request.app.state.settings.twilio_whatsapp_template_sid
        if not template:
            raise HTTPException(409, "outside WhatsApp's 24-hour window: only an approved "
                                     "template can be sent, and none is configured")
    enqueue(session, contact=contact, channel=referral.channel, body=body,
            referral_id=referral.id, template_sid=template, language=referral.language)
    add_note(session, referral, actor=f"staff:{signed.staff.id}", note=f"replied: {body}")
    session.commit()
    return _back(referral_id, "sent")


@router.get("/evidence/{evidence_id}")
def evidence_file(request: Request, signed: SignedIn, session: DbSession, evidence_id: int):
    item = session.get(Evidence, evidence_id)
    if item is None or item.referral_id is None or item.status != "stored":
        raise HTTPException(404, "no such file")
    _case(session, signed, item.referral_id)
    root = Path(request.app.state.settings.evidence_dir).resolve()
    path = Path(item.path).resolve()
    if root not in path.parents:
        raise HTTPException(404, "no such file")
    return FileResponse(path, media_type=item.content_type, filename=path.name)
