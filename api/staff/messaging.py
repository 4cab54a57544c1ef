"""WhatsApp templates: each template of content/templates/ in each language, with its
approval status and Content SID (`rahnuma templates sync` fills them in)."""

from dataclasses import dataclass

from fastapi import APIRouter, Request
from sqlmodel import select

from api.staff.web import DbSession, SignedIn, render, require_role
from bot.casework.staff import Role
from bot.content.templates import get_templates
from bot.messaging.templates import WhatsAppTemplate

router = APIRouter()


@dataclass(frozen=True)
class TemplateRow:
    key: str
    category: str
    language: str
    text: str
    synced: WhatsAppTemplate | None
    # The text in content/ is not the one synced (or none was): sync again.
    changed: bool


@router.get("/whatsapp-templates")
def whatsapp_templates(request: Request, signed: SignedIn, session: DbSession):
    require_role(signed, Role.ADMIN, Role.SUPERVISOR)
    content = request.app.state.bot.live.current(session)
    synced = {(row.key, row.language): row for row in session.exec(select(WhatsAppTemplate))}
    rows = []
    for template in get_templates(request.app.state.settings.content_dir).values():
        for language, text in template.text.items():
            found = synced.get((template.key, str(language)))
            filled = content.fill_contacts(text)
            rows.append(TemplateRow(template.key, template.category, str(language), filled,
                                    found, found is None or found.body != filled))
    return render(request, "whatsapp_templates.html", signed, rows=rows)
