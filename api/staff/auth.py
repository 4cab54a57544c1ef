"""Signing in (password, then the authenticator code), enrolling an authenticator, signing out,
changing a password, and the language of one's own pages.

The client address used for throttling is request.client.host: behind a reverse proxy, run
uvicorn with --proxy-headers and --forwarded-allow-ips=<the proxy's address>, or every sign-in
appears to come from the proxy and one attacker throttles the whole office.
"""

import secrets

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from api.staff import validation
from api.staff.web import (
    COOKIE,
    STAGE_PAGES,
    AnyStage,
    CheckedForm,
    DbSession,
    Signed,
    SignedIn,
    checked_form,
    render,
)
from bot.casework import second_factor
from bot.casework.staff import (
    Role,
    Staff,
    StaffError,
    Stage,
    authenticate,
    change_password,
    check_second_factor,
    enable_second_factor,
    end_session,
    needs_enrolment,
    renew_recovery_codes,
    start_session,
)
from bot.content.staff_texts import STAFF_LANGUAGES

router = APIRouter()
LOGIN_CSRF = "rahnuma_login_csrf"


def landing(staff: Staff) -> str:
    """The first page after signing in: a changemaker's account opens only their own pages."""
    return "/staff/changemaker" if staff.role == Role.CHANGEMAKER else "/staff/queue"


def _secure(request: Request) -> bool:
    settings = request.app.state.settings
    return request.url.scheme == "https" or (settings.public_base_url or "").startswith("https")


def _address(request: Request) -> str:
    return request.client.host if request.client else ""


def _set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(COOKIE, token, httponly=True, samesite="lax", secure=_secure(request),
                        path="/")


def _step_up(request: Request, session: Session, staff: Staff, stage: Stage,
             old_token: str | None, response: Response) -> None:
    """Replace the session with one at the next stage, under a new token."""
    end_session(session, old_token)
    token, _ = start_session(session, staff, stage)
    session.commit()
    _set_session_cookie(request, response, token)


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
        staff = authenticate(request.app.state.db, email=email, password=password,
                             address=_address(request))
    except StaffError as error:
        page = render(request, "login.html", login_csrf=csrf_token, error=str(error))
        page.status_code = 401
        return page
    stage = (Stage.CODE if staff.has_second_factor else
             Stage.ENROL if needs_enrolment(staff) else Stage.FULL)
    response = RedirectResponse(STAGE_PAGES.get(stage) or landing(staff), status_code=303)
    _step_up(request, session, staff, stage, request.cookies.get(COOKIE), response)
    response.delete_cookie(LOGIN_CSRF, path="/staff")
    return response


@router.get("/login/code")
def code_form(request: Request, signed: AnyStage):
    if signed.stage != Stage.CODE:
        return RedirectResponse("/staff/login", status_code=303)
    return render(request, "login_code.html", signed, error="")


@router.post("/login/code")
async def code_submit(request: Request, signed: AnyStage, session: DbSession):
    if signed.stage != Stage.CODE:
        return RedirectResponse("/staff/login", status_code=303)
    form = await checked_form(request, signed)
    try:
        check_second_factor(request.app.state.db, signed.staff, code=form.get("code", ""),
                            address=_address(request))
    except StaffError as error:
        page = render(request, "login_code.html", signed, error=str(error))
        page.status_code = 401
        return page
    response = RedirectResponse(landing(signed.staff), status_code=303)
    _step_up(request, session, signed.staff, Stage.FULL, request.cookies.get(COOKIE), response)
    return response


def _not_stored(response: HTMLResponse) -> HTMLResponse:
    # The page holds a TOTP secret or recovery codes: no copy in any browser or proxy cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def _enrol_page(request: Request, signed: Signed, *, secret: str = "",
                error: str = "") -> HTMLResponse:
    secret = secret or second_factor.new_secret()
    uri = second_factor.provisioning_uri(secret, signed.staff.email)
    return _not_stored(render(request, "enrol.html", signed, person=signed.staff,
                              secret=secret, qr=second_factor.qr_svg(uri), error=error,
                              codes=[], required=signed.stage == Stage.ENROL))


# Enrolment is open to a session that must enrol and to any fully signed-in one.
@router.get("/enrol")
def enrol_form(request: Request, signed: AnyStage):
    if signed.stage == Stage.CODE:
        return RedirectResponse("/staff/login/code", status_code=303)
    if signed.staff.has_second_factor:
        return RedirectResponse("/staff/password", status_code=303)
    return _enrol_page(request, signed)


@router.post("/enrol")
async def enrol_submit(request: Request, signed: AnyStage, session: DbSession):
    if signed.stage == Stage.CODE or signed.staff.has_second_factor:
        return RedirectResponse("/staff/login", status_code=303)
    form = await checked_form(request, signed)
    staff = session.merge(signed.staff)
    secret = form.get("secret", "")
    try:
        codes = enable_second_factor(session, staff, secret=secret, code=form.get("code", ""))
    except StaffError as error:
        session.rollback()
        return _enrol_page(request, signed, secret=secret, error=str(error))
    # Shown in this answer only: nothing keeps the plain codes after it is sent.
    response = _not_stored(render(request, "enrol.html", signed, person=staff, codes=codes,
                                  error="", required=False))
    _step_up(request, session, staff, Stage.FULL, request.cookies.get(COOKIE), response)
    return response


@router.post("/recovery-codes")
def recovery_codes(request: Request, signed: SignedIn, session: DbSession, form: CheckedForm):
    """New recovery codes (the old ones stop working), for someone running low."""
    try:
        codes = renew_recovery_codes(request.app.state.db, signed.staff,
                                     code=form.get("code", ""), address=_address(request))
    except StaffError as error:
        return _password_page(request, signed, session, error=str(error))
    return _not_stored(render(request, "enrol.html", signed, person=signed.staff, codes=codes,
                              error="", required=False))


@router.post("/logout")
async def logout(request: Request, signed: AnyStage, session: DbSession):
    await checked_form(request, signed)  # any stage may give up signing in
    end_session(session, request.cookies.get(COOKIE))
    session.commit()
    response = RedirectResponse("/staff/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/password")
def password_form(request: Request, signed: SignedIn, session: DbSession, done: bool = False,
                  language: bool = False):
    return _password_page(request, signed, session, done=done, language_saved=language)


@router.post("/language")
def set_language(signed: SignedIn, session: DbSession, form: CheckedForm):
    """The language of this staff member's own pages (English or Urdu); nobody else's."""
    language = validation.choice(form.get("ui_language"), "ui_language", STAFF_LANGUAGES)
    staff = session.get(Staff, signed.staff.id)
    if staff is None:  # signed in a moment ago: the account cannot have gone
        raise RuntimeError("the signed-in staff member is not in the database")
    staff.ui_language = language
    session.commit()
    return RedirectResponse("/staff/password?language=1", status_code=303)


def _password_page(request: Request, signed: Signed, session: Session, *, done: bool = False,
                   language_saved: bool = False, error: str = "") -> HTMLResponse:
    staff = signed.staff
    unused = second_factor.unused_recovery_codes(session, staff.id) if staff.id else 0
    extra: dict[str, object] = {}
    if not staff.has_second_factor:  # offered to everyone, right here
        secret = second_factor.new_secret()
        extra = {"secret": secret, "qr": second_factor.qr_svg(
            second_factor.provisioning_uri(secret, staff.email))}
    return _not_stored(render(request, "password.html", signed, done=done, error=error,
                              unused_codes=unused, ui_languages=STAFF_LANGUAGES,
                              language_saved=language_saved, **extra))


@router.post("/password")
def password_change(request: Request, signed: SignedIn, session: DbSession, form: CheckedForm):
    staff = session.merge(signed.staff)
    try:
        change_password(session, staff, current=form.get("current", ""),
                        new=form.get("new", ""))
    except StaffError as error:
        session.rollback()
        return _password_page(request, signed, session, error=str(error))
    token, _ = start_session(session, staff)  # this device stays signed in
    session.commit()
    response = RedirectResponse("/staff/password?done=1", status_code=303)
    _set_session_cookie(request, response, token)
    return response

