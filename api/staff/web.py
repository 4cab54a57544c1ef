"""What every staff page shares: templates, the signed-in staff member, CSRF, the database."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlmodel import Session

from api import deps
from bot.casework.staff import Role, Staff, StaffSession, Stage, session_for, touch_session
from bot.content.staff_texts import Translator, staff_texts
from bot.db import read_only

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
COOKIE = "rahnuma_staff"
# Where a session that has not finished signing in is sent, whatever page it asked for.
STAGE_PAGES = {Stage.CODE: "/staff/login/code", Stage.ENROL: "/staff/enrol"}
_READING = {"GET", "HEAD"}


class LoginRequired(Exception):
    """Raised by pages that need a signed-in staff member: answered with a redirect."""


def db_session(request: Request, db: deps.DbDep) -> Iterator[Session]:
    """Pages that only read (GET) read without SQLite's write lock: a slow page must not make
    webhooks queue behind it. POST handlers write as usual."""
    engine = read_only(db) if request.method in _READING else db
    with Session(engine, expire_on_commit=False) as session:
        yield session


DbSession = Annotated[Session, Depends(db_session)]


@dataclass
class Signed:
    staff: Staff
    record: StaffSession

    @property
    def csrf(self) -> str:
        return self.record.csrf_token

    @property
    def stage(self) -> Stage:
        return Stage(self.record.stage)


def idle_timeout(request: Request) -> timedelta:
    return timedelta(minutes=request.app.state.settings.session_idle_minutes)


def any_stage(request: Request, session: DbSession) -> Signed:
    """The session at whatever step of signing in it is; its idle timer moves on."""
    found = session_for(session, request.cookies.get(COOKIE), idle_timeout(request))
    session.commit()  # end the read before the separate, short write below
    if found is None:
        raise LoginRequired()
    signed = Signed(*found)
    touch_session(request.app.state.db, signed.record)
    return signed


AnyStage = Annotated[Signed, Depends(any_stage)]


# A changemaker reaches only their own figures, referral and session forms, their own sources'
# cards (api/staff/sources.py refuses anyone else's), and their account: never a case, the
# queue, the simulator or anything else that shows a phone number or a message.
CHANGEMAKER_PAGES = ("/staff/changemaker", "/staff/sources/", "/staff/password",
                     "/staff/language", "/staff/logout", "/staff/recovery-codes")


def signed_in(request: Request, signed: AnyStage) -> Signed:
    """Fully signed in. A session still owing its second factor (or its enrolment) reaches
    nothing but that step."""
    if signed.stage != Stage.FULL:
        raise HTTPException(303, "finish signing in first",
                            headers={"Location": STAGE_PAGES[signed.stage]})
    if signed.staff.role == Role.CHANGEMAKER and \
            not request.url.path.startswith(CHANGEMAKER_PAGES):
        raise HTTPException(403, "a changemaker's account opens only the changemaker pages")
    return signed


SignedIn = Annotated[Signed, Depends(signed_in)]


def require_role(signed: Signed, *roles: Role) -> None:
    if signed.staff.role not in roles:
        raise HTTPException(403, "your role does not allow this")


async def checked_form(request: Request, signed: Signed) -> dict[str, str]:
    """The POSTed form, if it carries the session's CSRF token."""
    form = dict(await request.form())
    if form.get("csrf_token") != signed.csrf:
        raise HTTPException(403, "the form is out of date (CSRF): reload the page")
    return {k: str(v) for k, v in form.items() if isinstance(v, str)}


async def check_csrf(request: Request, signed: SignedIn) -> dict[str, str]:
    """Every POST carries the session's CSRF token; returns the form."""
    return await checked_form(request, signed)


CheckedForm = Annotated[dict[str, str], Depends(check_csrf)]


def render(request: Request, template: str, signed: Signed | None = None,
           **context: Any) -> HTMLResponse:
    full = signed is not None and signed.stage == Stage.FULL
    language = signed.staff.ui_language if signed else "en"
    texts = staff_texts(request.app.state.settings.content_dir)
    return TEMPLATES.TemplateResponse(request, template, {
        "t": Translator(texts, language),
        "staff": signed.staff if full and signed else None,
        "csrf": signed.csrf if signed else "",
        "idle_minutes": request.app.state.settings.session_idle_minutes, **context})
