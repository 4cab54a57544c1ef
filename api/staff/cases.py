"""The queue and the case page: claim, assign, status, notes, replies, evidence."""

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from api.staff import validation
from api.staff.web import CheckedForm, DbSession, Signed, SignedIn, render
from bot.casework.evidence import Evidence
from bot.casework.referrals import (
    OPEN,
    TRANSITIONS,
    Category,
    Referral,
    ReferralEvent,
    ReferredTo,
    Status,
    TransitionError,
    add_note,
    change_status,
    claim,
    find_by_reference,
)
from bot.casework.staff import Role, Staff, can_assign, can_see
from bot.casework.visibility import visible_messages
from bot.content.store import Content
from bot.conversation.contacts import Contact, stored_id, utcnow
from bot.conversation.language import Lang
from bot.messaging.outbox import STAFF_REPLY, enqueue, whatsapp_window_open
from bot.messaging.templates import approved_sid

router = APIRouter()
# The queue's tabs; each is labelled by the key view_<name> in content/staff/dashboard.yml.
VIEWS = ("unassigned", "mine", "urgent", "waiting", "open", "closed")


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
        # Escaped: a "%" or "_" typed in the box is a character, not a wildcard.
        query = query.where(col(Referral.location_district).icontains(filters["district"],
                                                                      autoescape=True))
    if filters.get("q"):
        term = filters["q"].strip()
        contact_ids = select(Contact.id).where(col(Contact.phone).contains(term.lstrip("0"),
                                                                            autoescape=True))
        query = query.where((col(Referral.reference) == term.upper()) |
                            col(Referral.contact_id).in_(contact_ids))
    # Urgent first ("urgent" sorts after "normal"), then oldest first.
    urgent_first = col(Referral.priority).desc()
    return query.order_by(urgent_first, col(Referral.created_at), col(Referral.id))


@router.get("/queue")
def queue(request: Request, signed: SignedIn, session: DbSession, view: str = "open",
          category: str = "", status: str = "", district: str = "", language: str = "",
          q: str = ""):
    filters = _queue_filters(view, category=category, status=status, district=district,
                             language=language, q=q)
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


def _queue_filters(view: str, **given: str) -> dict[str, str]:
    """The queue's query string, checked: a made-up value is a 400, never a 500."""
    validation.choice(view, "view", VIEWS)
    return {
        "category": validation.choice(given["category"], "category", Category, optional=True),
        "status": validation.choice(given["status"], "status", Status, optional=True),
        "language": validation.choice(given["language"], "language", Lang, optional=True),
        "district": validation.text(given["district"], "district", max_length=100),
        "q": validation.text(given["q"], "q", max_length=validation.MAX_SEARCH),
    }


def _case(session: Session, signed: Signed, reference: str) -> Referral:
    """The referral if this staff member may see it; 404 otherwise (its existence is private).
    An old numeric link is not a reference, so it finds nothing."""
    referral = find_by_reference(session, reference)
    if referral is None or not can_see(signed.staff, referral):
        raise HTTPException(404, "no such case")
    return referral


def _contact_of(session: Session, referral: Referral) -> Contact:
    """The person a case is about (a referral is erased together with its contact)."""
    contact = session.get(Contact, referral.contact_id)
    if contact is None:
        raise HTTPException(404, "no such contact")
    return contact


@router.get("/cases/{reference}")
def case_page(request: Request, signed: SignedIn, session: DbSession, reference: str):
    referral = _case(session, signed, reference)
    contact = _contact_of(session, referral)
    content = request.app.state.bot.live.current(session)  # as published, no restart
    language = Lang(referral.language)
    contact_id = stored_id(contact)
    events = session.exec(select(ReferralEvent).where(
        ReferralEvent.referral_id == referral.id).order_by(col(ReferralEvent.id))).all()
    window_open = referral.channel != "whatsapp" or whatsapp_window_open(session, contact_id)
    colleagues = session.exec(select(Staff).where(Staff.centre == referral.centre,
                                                  Staff.active)).all()
    return render(
        request, "case.html", signed, referral=referral, contact=contact,
        # Not the whole conversation: another centre's intake and replies stay with it.
        messages=visible_messages(session, contact_id,
                                  lambda other: can_see(signed.staff, other)),
        events=events, actors=_staff_names(session, events),
        notes={e.id: _timeline_note(e.note) for e in events},
        evidence=session.exec(select(Evidence).where(
            Evidence.referral_id == referral.id)).all(),
        canned={key: content.text(key, language, reference=referral.reference)
                for key in content.ui if key.startswith("canned_")},
        routed_because=_routed_because(content, referral.location_district),
        window_open=window_open, template_ready=_template_ready(request, session, referral),
        next_statuses=sorted(_next(referral)), referred_to=list(ReferredTo),
        can_assign=can_assign(signed.staff, referral), colleagues=colleagues,
        assignee=session.get(Staff, referral.assignee_id) if referral.assignee_id else None)


def _template_ready(request: Request, session: Session, referral: Referral) -> bool:
    """Whether a reply can reach the person outside WhatsApp's window: the staff_reply template
    approved in their language (or the older single template of TWILIO_WHATSAPP_TEMPLATE_SID,
    still honoured until the templates are synced)."""
    return bool(approved_sid(session, STAFF_REPLY, referral.language)
                or request.app.state.settings.twilio_whatsapp_template_sid)


def _reply_template(request: Request, session: Session, referral: Referral,
                    contact: Contact) -> tuple[str | None, dict[str, str], str | None]:
    """(template key, its variables, a Content SID) for a reply. Outside WhatsApp's window the
    outbox sends the staff_reply template (content/templates/), then the reply itself once the
    person writes back; without it approved, the older single template, or nothing (409)."""
    if referral.channel != "whatsapp" or whatsapp_window_open(session, stored_id(contact)) \
            or approved_sid(session, STAFF_REPLY, referral.language):
        return STAFF_REPLY, {"1": referral.reference}, None
    older_sid = request.app.state.settings.twilio_whatsapp_template_sid
    if not older_sid:
        raise HTTPException(409, "outside WhatsApp's 24-hour window: only an approved "
                                 "template can be sent, and none is approved")
    return None, {}, older_sid


def _staff_names(session: Session, events: Sequence[ReferralEvent]) -> dict[str, str]:
    """"staff:<id>" -> the name, for the timeline (other actors are labelled in the page)."""
    ids = {int(e.actor.removeprefix("staff:")) for e in events
           if e.actor.startswith("staff:") and e.actor.removeprefix("staff:").isdigit()}
    if not ids:
        return {}
    return {f"staff:{s.id}": s.name
            for s in session.exec(select(Staff).where(col(Staff.id).in_(ids)))}


# Notes the code writes on the timeline (referrals.py, and assign and reply below), shown in the
# page's language: the note as written, or how it starts, and its key in dashboard.yml.
_CODE_NOTES = {"created": "note_created", "claimed": "note_claimed"}
_CODE_NOTE_STARTS = {"assigned to ": "note_assigned_to", "replied: ": "note_replied"}


def _timeline_note(note: str) -> tuple[str, str]:
    """(the key of the words the code wrote, or ""; what follows them: a name, a reply)."""
    if note in _CODE_NOTES:
        return _CODE_NOTES[note], ""
    for start, key in _CODE_NOTE_STARTS.items():
        if note.startswith(start):
            return key, note.removeprefix(start)
    return "", note


def _routed_because(content: Content, district: str) -> tuple[str, dict[str, str]]:
    """Why the case went to its centre, as a key of content/staff/dashboard.yml and its
    values (the same decision as Content.route, in words the page's language can hold)."""
    if not district.strip():
        return "route_no_district", {}
    code, _reason = content.route(district)
    key = content.district_in(district) or district.strip().lower()
    centre = content.centres.get(code)
    if centre is not None and key in centre.districts:
        return "route_district_served", {"district": key, "centre": centre.name}
    return "route_district_unlisted", {"district": district}


def _next(referral: Referral) -> set[str]:
    return {str(s) for s in TRANSITIONS[Status(referral.status)]}


def _back(referral: Referral, flash: str = "") -> RedirectResponse:
    suffix = f"?flash={flash}" if flash else ""
    return RedirectResponse(f"/staff/cases/{referral.reference}{suffix}", status_code=303)


@router.post("/cases/{reference}/claim")
def claim_case(signed: SignedIn, session: DbSession, form: CheckedForm, reference: str):
    referral = _case(session, signed, reference)
    ok = claim(session, stored_id(referral), staff_id=stored_id(signed.staff))
    session.commit()
    return _back(referral, "" if ok else "taken")


@router.post("/cases/{reference}/assign")
def assign_case(signed: SignedIn, session: DbSession, form: CheckedForm, reference: str):
    referral = _case(session, signed, reference)
    if not can_assign(signed.staff, referral):
        raise HTTPException(403, "only a supervisor or admin assigns cases")
    assignee = session.get(Staff, validation.identifier(form.get("staff_id"), "staff_id"))
    if assignee is None or assignee.centre != referral.centre or not assignee.active:
        raise HTTPException(400, "staff_id: assign to an active colleague of the case's centre")
    referral.assignee_id = assignee.id
    add_note(session, referral, actor=f"staff:{signed.staff.id}",
             note=f"assigned to {assignee.name}")
    session.commit()
    return _back(referral)


@router.post("/cases/{reference}/status")
def set_status(signed: SignedIn, session: DbSession, form: CheckedForm, reference: str):
    referral = _case(session, signed, reference)
    target = validation.choice(form.get("to"), "to", Status)
    referred = validation.choice(form.get("referred_to"), "referred_to", ReferredTo,
                                 optional=True)
    reason = validation.text(form.get("reason"), "reason", max_length=validation.MAX_REASON)
    try:
        change_status(session, referral, Status(target), actor=f"staff:{signed.staff.id}",
                      note=reason, referred_to=ReferredTo(referred) if referred else None)
    except TransitionError as error:
        raise HTTPException(400, str(error)) from error
    session.commit()
    return _back(referral)


@router.post("/cases/{reference}/note")
def note(signed: SignedIn, session: DbSession, form: CheckedForm, reference: str):
    referral = _case(session, signed, reference)
    text = validation.text(form.get("note"), "note", max_length=validation.MAX_NOTE,
                           required=True)
    add_note(session, referral, actor=f"staff:{signed.staff.id}", note=text,
             for_worker=validation.choice(form.get("for_worker"), "for_worker", {"on"},
                                          optional=True) == "on")
    session.commit()
    return _back(referral)


@router.post("/cases/{reference}/reply")
def reply(request: Request, signed: SignedIn, session: DbSession, form: CheckedForm,
          reference: str):
    referral = _case(session, signed, reference)
    contact = _contact_of(session, referral)
    content = request.app.state.bot.live.current(session)  # as published, no restart
    canned = validation.choice(form.get("canned"), "canned",
                               [key for key in content.ui if key.startswith("canned_")],
                               optional=True)
    body = (content.text(canned, Lang(referral.language), reference=referral.reference)
            if canned else validation.text(form.get("body"), "body",
                                           max_length=validation.MAX_MESSAGE))
    if not body:
        raise HTTPException(400, "body: write a reply or choose a canned one")
    key, variables, older_sid = _reply_template(request, session, referral, contact)
    enqueue(session, contact=contact, channel=referral.channel, body=body,
            referral_id=referral.id, language=referral.language, kind=STAFF_REPLY,
            template_key=key, template_variables=variables, template_sid=older_sid)
    add_note(session, referral, actor=f"staff:{signed.staff.id}", note=f"replied: {body}")
    session.commit()
    return _back(referral, "sent")


@router.get("/cases/{reference}/evidence/{evidence_id}")
def evidence_file(request: Request, signed: SignedIn, session: DbSession, reference: str,
                  evidence_id: validation.PathId):
    """A file of this case: the id alone opens nothing, it must belong to the case named."""
    referral = _case(session, signed, reference)
    item = session.get(Evidence, evidence_id)
    if item is None or item.referral_id != referral.id or item.status != "stored":
        raise HTTPException(404, "no such file")
    root = Path(request.app.state.settings.evidence_dir).resolve()
    path = Path(item.path).resolve()
    if root not in path.parents:
        raise HTTPException(404, "no such file")
    return FileResponse(path, media_type=item.content_type, filename=path.name)
