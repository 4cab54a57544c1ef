"""The staff dashboard at /staff: server-rendered pages for resource-centre caseworkers."""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from api.staff import admin, alerts, auth, cases, content, messaging, sources
from api.staff import reach as reach_pages
from api.staff.web import DbSession, LoginRequired, any_stage

router = APIRouter(prefix="/staff")


# Both spellings by hand: the app redirects no other trailing slash (see api/main.py).
@router.get("")
@router.get("/")
def home(request: Request, session: DbSession) -> RedirectResponse:
    # Signed in or not: the queue sends a stranger on to the login page.
    try:
        page = auth.landing(any_stage(request, session).staff)
    except LoginRequired:
        page = "/staff/queue"
    return RedirectResponse(page, status_code=303)


router.include_router(auth.router)
router.include_router(cases.router)
router.include_router(admin.router)
router.include_router(content.router)
router.include_router(messaging.router)
router.include_router(reach_pages.router)
router.include_router(alerts.router)
router.include_router(sources.router)
