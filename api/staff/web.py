"""What every staff page shares: templates, the signed-in staff member, CSRF, the database."""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlmodel import Session

from api import deps
from bot.casework.staff import Role, Staff, StaffSession, session_for

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
COOKIE = "rahnuma_staff"


class LoginRequired(Exception):
    """Raised by pages that need a signed-in staff member: answered with a redirect."""


def db_session(db: deps.DbDep) -> Iterator[Session]:
    with Session(db, expire_on_commit=False) as session:
        yield session


DbSession = Annotated[Session, Depends(db_session)]


@dataclass
class Signed:
    staff: Staff
    record: StaffSession

    @property
    def csrf(self) -> str:
        return self.record.csrf_token


def signed_in(request: Request, session: DbSession) -> Signed:
    found = session_for(session, request.cookies.get(COOKIE))
    session.commit()  # end the read: on SQLite an open transaction holds the write lock
    if found is None:
        raise LoginRequired()
    return Signed(*found)


SignedIn = Annotated[Signed, Depends(signed_in)]


def require_role(signed: Signed, *roles: Role) -> None:
    if signed.staff.role not in roles:
        raise HTTPException(403, "your role does not allow this")


async def check_csrf(request: Request, signed: SignedIn) -> dict[str, str]:
    """Every POST carries the session's CSRF token; returns the form."""
    form = dict(await request.form())
    if form.get("csrf_token") != signed.csrf:
        raise HTTPException(403, "the form is out of date (CSRF): reload the page")
    return {k: str(v) for k, v in form.items() if isinstance(v, str)}


CheckedForm = Annotated[dict[str, str], Depends(check_csrf)]


def render(request: Request, template: str, signed: Signed | None = None,
           **context: Any) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, template, {
        "staff": signed.staff if signed else None, "csrf": signed.csrf if signed else "",
        **context})
