"""Signing in and out, and changing a password."""

import secrets

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from api.staff.web import COOKIE, CheckedForm, DbSession, SignedIn, render
from bot.casework.staff import StaffError, authenticate, change_password, end_session, start_session

router = APIRouter()
LOGIN_CSRF = "rahnuma_login_csrf"


def _secure(request: Request) -> bool:
    settings = request.app.state.settings
    return request.url.scheme == "https" or (settings.public_base_url or "").startswith("https")


@router.get("/login")
def login_form(request: Request, error: str = ""):
    token = secrets.token_urlsafe(16)
    response = render(request, "login.html", login_csrf=token, error=error)
    response.set_cookie(LOGIN_CSRF, token, httponly=True, samesite="lax",
                        secure=_secure(request), path="/staff")
    return response


@router.post("/login")
def login(request: Request, session: DbSession, email: str = Form(...),
          password: str = Form(...), csrf_token: str = Form("")):
    if not csrf_token or csrf_token != request.cookies.get(LOGIN_CSRF):
        return render(request, "login.html", login_csrf=csrf_token,
                      error="The form expired: please try again.")
    try:
        staff = authenticate(session, email=email, password=password)
    except StaffError as error:
        session.commit()  # keep the failed-attempt count
        page = render(request, "login.html", login_csrf=csrf_token, error=str(error))
        page.status_code = 401
        return page
    token, _ = start_session(session, staff)
    session.commit()
    response = RedirectResponse("/staff/queue", status_code=303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="lax", secure=_secure(request),
                        path="/")
    response.delete_cookie(LOGIN_CSRF, path="/staff")
    return response


@router.post("/logout")
def logout(request: Request, session: DbSession, form: CheckedForm):
    end_session(session, request.cookies.get(COOKIE))
    session.commit()
    response = RedirectResponse("/staff/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/password")
def password_form(request: Request, signed: SignedIn, done: bool = False):
    return render(request, "password.html", signed, done=done, error="")


@router.post("/password")
def password_change(request: Request, signed: SignedIn, session: DbSession, form: CheckedForm):
    staff = session.merge(signed.staff)
    try:
        change_password(session, staff, current=form.get("current", ""),
                        new=form.get("new", ""))
    except StaffError as error:
        return render(request, "password.html", signed, done=False, error=str(error))
    token, _ = start_session(session, staff)  # this device stays signed in
    session.commit()
    response = RedirectResponse("/staff/password?done=1", status_code=303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="lax", secure=_secure(request),
                        path="/")
    return response
