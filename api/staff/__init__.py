"""The staff dashboard at /staff: server-rendered pages for resource-centre caseworkers."""

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

from api.staff import admin, auth, cases, content, messaging

router = APIRouter(prefix="/staff")


# Both spellings by hand: the app redirects no other trailing slash (see api/main.py).
@router.get("")
@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/staff/queue", status_code=303)


router.include_router(auth.router)
router.include_router(cases.router)
router.include_router(admin.router)
router.include_router(content.router)
router.include_router(messaging.router)
