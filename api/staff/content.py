"""Texts, edited by the people who speak them: /staff/content.

Editors propose; a reviewer (another person) publishes or sends back; a published text is what
the bot says from its next message. Workbooks (XLSX) carry texts to native speakers and back."""

import re
from collections.abc import Callable
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select
from starlette.datastructures import UploadFile

from api.staff import validation
from api.staff.web import CheckedForm, DbSession, Signed, SignedIn, render
from bot.casework.staff import ContentRole, Role, Staff
from bot.content import review
from bot.content.export import NAMES as LANGUAGE_NAMES
from bot.content.review import ContentVersion, ReviewError
from bot.content.store import Content
from bot.content.texts import TextRef, all_keys, parse_key, text_of
from bot.content.workbook import WorkbookError, export_workbook, import_workbook
from bot.conversation.channels import sms_segments
from bot.conversation.language import LANGUAGES, Lang

router = APIRouter(prefix="/content")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_WORKBOOK_BYTES = 5_000_000
MAX_TEXT = 4000
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def can_edit(staff: Staff) -> bool:
    return staff.content_role in {ContentRole.EDITOR, ContentRole.REVIEWER} or \
        staff.role == Role.ADMIN


def can_review(staff: Staff) -> bool:
    return staff.content_role == ContentRole.REVIEWER or staff.role == Role.ADMIN


def _require(allowed: bool) -> None:
    if not allowed:
        raise HTTPException(403, "your account may not do this with texts")


def _published(request: Request, session: Session) -> Content:
    return request.app.state.bot.live.current(session)


def _language(value: str | None) -> Lang:
    return Lang(validation.choice(value or "ur", "language", {str(x) for x in LANGUAGES}))


def _key(content: Content, value: str | None) -> TextRef:
    ref = parse_key(content, validation.text(value, "key", max_length=120, required=True))
    if ref is None:
        raise HTTPException(404, "there is no such text")
    return ref


def _names(session: Session) -> dict[int, str]:
    return {s.id: s.name for s in session.exec(select(Staff)).all() if s.id is not None}


@router.get("")
def texts(request: Request, signed: SignedIn, session: DbSession, language: str = "ur",
          q: str = "", message: str = ""):
    _require(can_edit(signed.staff))
    content, lang = _published(request, session), _language(language)
    q = validation.text(q, "q", max_length=100).lower()
    keys = [k for k in all_keys(content) if not q or q in k.lower()
            or q in text_of(content, k, Lang.EN).lower() or q in text_of(content, k, lang).lower()]
    stale = review.changed_since_review(session, content, lang, all_keys(content))
    return render(request, "content_texts.html", signed, language=lang, languages=LANGUAGES,
                  language_names=LANGUAGE_NAMES,
                  q=q, message=validation.text(message, "message", max_length=300),
                  rows=[(k, text_of(content, k, Lang.EN), text_of(content, k, lang))
                        for k in keys],
                  stale=stale, never=len(review.never_reviewed(session, lang, all_keys(content))),
                  pending=len(review.proposals(session)), can_review=can_review(signed.staff))


def _text_page(request: Request, signed: Signed, session: Session, ref: TextRef, *,
               tried: dict[str, str] | None = None, problems: dict[str, str] | None = None,
               message: str = ""):
    content = _published(request, session)
    base = request.app.state.bot.live.base
    cards = []
    for lang in LANGUAGES:
        text = text_of(content, ref.key, lang)
        facts = [content.contacts[name] for name in PLACEHOLDER.findall(text)
                 if name in content.contacts]
        cards.append({
            "language": lang, "text": text, "draft": (tried or {}).get(lang, text),
            "problem": (problems or {}).get(lang, ""), "chars": len(text),
            "segments": sms_segments(text), "facts": facts,
            "history": review.history(session, ref.key, lang),
            "repository": text_of(base, ref.key, lang)})
    topic = content.topics.get(ref.name) if ref.kind == "topic" else None
    return render(request, "content_text.html", signed, ref=ref, topic=topic, cards=cards,
                  language_names=LANGUAGE_NAMES,
                  names=_names(session), message=message, can_review=can_review(signed.staff))


@router.get("/text")
def text_page(request: Request, signed: SignedIn, session: DbSession, key: str = "",
              message: str = ""):
    _require(can_edit(signed.staff))
    ref = _key(_published(request, session), key)
    return _text_page(request, signed, session, ref,
                      message=validation.text(message, "message", max_length=300))


def _back_to(ref: TextRef, message: str) -> RedirectResponse:
    return RedirectResponse("/staff/content/text?" + urlencode({"key": ref.key,
                                                                 "message": message}), 303)


@router.post("/propose")
def propose(request: Request, signed: SignedIn, session: DbSession, form: CheckedForm):
    _require(can_edit(signed.staff))
    content = _published(request, session)
    ref, lang = _key(content, form.get("key")), _language(form.get("language"))
    text = validation.text(form.get("text"), "text", max_length=MAX_TEXT, required=True)
    note = validation.text(form.get("note"), "note", max_length=review.MAX_NOTE)
    try:
        review.propose(session, content, key=ref.key, language=lang, text=text,
                       author_id=signed.staff.id or 0, note=note)
    except ReviewError as refused:
        session.rollback()
        return _text_page(request, signed, session, ref, tried={lang: text},
                          problems={lang: str(refused)})
    session.commit()
    return _back_to(ref, "proposed")


@router.get("/proposals")
def proposals(request: Request, signed: SignedIn, session: DbSession, message: str = ""):
    _require(can_edit(signed.staff))
    content = _published(request, session)
    pending = [(v, text_of(content, v.key, Lang(v.language))) for v in review.proposals(session)]
    sent_back = session.exec(select(ContentVersion).where(
        ContentVersion.status == review.VersionStatus.SENT_BACK,
        ContentVersion.author_id == signed.staff.id)
        .order_by(col(ContentVersion.id).desc()).limit(20)).all()
    return render(request, "content_proposals.html", signed, pending=pending,
                  language_names=LANGUAGE_NAMES,
                  sent_back=sent_back, names=_names(session),
                  message=validation.text(message, "message", max_length=300),
                  can_review=can_review(signed.staff), me=signed.staff.id)


def _decide(request: Request, signed: Signed, session: Session, version_id: int,
            form: dict[str, str], approve: bool) -> RedirectResponse:
    _require(can_review(signed.staff))
    comment = validation.text(form.get("comment"), "comment", max_length=review.MAX_NOTE)
    try:
        if approve:
            review.approve(session, _published(request, session), version_id=version_id,
                           reviewer_id=signed.staff.id or 0, comment=comment)
        else:
            review.send_back(session, version_id=version_id, reviewer_id=signed.staff.id or 0,
                             comment=comment)
    except ReviewError as refused:
        session.rollback()
        return RedirectResponse("/staff/content/proposals?" + urlencode(
            {"message": str(refused)}), 303)
    session.commit()
    return RedirectResponse("/staff/content/proposals?" + urlencode(
        {"message": "published" if approve else "sent_back"}), 303)


@router.post("/proposals/{version_id}/approve")
def approve(request: Request, signed: SignedIn, session: DbSession, form: CheckedForm,
            version_id: int):
    return _decide(request, signed, session, version_id, form, approve=True)


@router.post("/proposals/{version_id}/send-back")
def send_back(request: Request, signed: SignedIn, session: DbSession, form: CheckedForm,
              version_id: int):
    return _decide(request, signed, session, version_id, form, approve=False)


@router.post("/rollback")
def rollback(request: Request, signed: SignedIn, session: DbSession, form: CheckedForm):
    _require(can_review(signed.staff))
    content = _published(request, session)
    ref, lang = _key(content, form.get("key")), _language(form.get("language"))
    to = validation.text(form.get("version"), "version", max_length=12, required=True)
    if to != "repository" and not to.isdigit():
        raise HTTPException(400, "version: a version number or 'repository'")
    return _reviewer_acts(session, ref, "rolled_back", lambda: review.rollback(
        session, content, request.app.state.bot.live.base, key=ref.key, language=lang,
        to_version=None if to == "repository" else int(to), reviewer_id=signed.staff.id or 0))


@router.post("/reviewed")
def mark_reviewed(request: Request, signed: SignedIn, session: DbSession, form: CheckedForm):
    """A reviewer read the text as it stands and found it right."""
    _require(can_review(signed.staff))
    content = _published(request, session)
    ref, lang = _key(content, form.get("key")), _language(form.get("language"))
    return _reviewer_acts(session, ref, "reviewed", lambda: review.publish_directly(
        session, content, key=ref.key, language=lang, text=text_of(content, ref.key, lang),
        reviewer_id=signed.staff.id or 0, note="reviewed, unchanged"))


def _reviewer_acts(session: Session, ref: TextRef, done: str,
                   act: Callable[[], object]) -> Response:
    """A reviewer's change, saved whole; a refusal goes back to the text's page, nothing kept."""
    try:
        act()
    except ReviewError as refused:
        session.rollback()
        return _back_to(ref, str(refused))
    session.commit()
    return _back_to(ref, done)


@router.get("/workbook")
def workbook(request: Request, signed: SignedIn, session: DbSession, language: str = "all"):
    _require(can_edit(signed.staff))
    langs = list(LANGUAGES) if language == "all" else [_language(language)]
    data = export_workbook(_published(request, session), langs)
    name = f"rahnuma-texts-{language}.xlsx"
    return Response(data, media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/workbook")
async def upload_workbook(request: Request, signed: SignedIn, session: DbSession,
                          form: CheckedForm):
    _require(can_edit(signed.staff))
    upload = (await request.form()).get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise HTTPException(400, "file: choose an XLSX workbook")
    data = await upload.read(MAX_WORKBOOK_BYTES + 1)
    if len(data) > MAX_WORKBOOK_BYTES:
        raise HTTPException(413, "file: a workbook of texts is under 5 MB")
    try:
        report = import_workbook(session, _published(request, session), data,
                                 author_id=signed.staff.id or 0)
    except WorkbookError as refused:
        session.rollback()
        return render(request, "content_import.html", signed, problems=refused.problems,
                      report=None)
    session.commit()
    return render(request, "content_import.html", signed, problems=[], report=report)
