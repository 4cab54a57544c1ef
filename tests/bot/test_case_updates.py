"""Case updates: the worker hears of every status change and every note marked for them, in
the complaint's language, with its reference, held through the night where they are."""

from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from bot.casework import referrals
from bot.casework.referrals import (
    Category,
    Referral,
    ReferredTo,
    Status,
    add_note,
    change_status,
    claim,
    create_referral,
)
from bot.conversation.contacts import Contact
from bot.db import session_scope
from bot.messaging.outbox import Outbox, Priority

# 07:00 UTC is 12:00 in Pakistan; 17:30 UTC is 22:30 there (quiet), 20:30 in Riyadh (not).
MIDDAY = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
NIGHT = datetime(2026, 3, 2, 17, 30, tzinfo=UTC)
NEXT_MORNING = datetime(2026, 3, 3, 3, 0, tzinfo=UTC)  # 08:00 in Pakistan
# The way to each status from NEW, and the text the last step sends.
PATHS = {
    Status.IN_PROGRESS: [Status.IN_PROGRESS],
    Status.WAITING_ON_WORKER: [Status.IN_PROGRESS, Status.WAITING_ON_WORKER],
    Status.REFERRED: [Status.REFERRED],
    Status.RESOLVED: [Status.IN_PROGRESS, Status.RESOLVED],
    Status.CLOSED: [Status.CLOSED],
}


@pytest.fixture
def at(monkeypatch):
    """Moves the clock the referral service reads: at(MIDDAY), at(NIGHT)."""
    def move(moment: datetime) -> None:
        monkeypatch.setattr(referrals, "utcnow", lambda: moment)
    move(MIDDAY)
    return move


def make_case(db, *, language="pa", channel="whatsapp", timezone=None,
              opted_out=False) -> tuple[int, str]:
    with session_scope(db) as session:
        contact = Contact(phone="+923001112222", timezone=timezone, opted_out=opted_out)
        session.add(contact)
        session.flush()
        referral = create_referral(session, contact_id=contact.id, category=Category.OTHER,
                                   centre="mrc-lahore", language=language, channel=channel)
        return referral.id, referral.reference


def move_to(db, referral_id: int, *path: Status, actor="staff:1") -> None:
    with session_scope(db) as session:
        referral = session.get(Referral, referral_id)
        for status in path:
            change_status(session, referral, status, actor=actor, note="internal reason",
                          referred_to=ReferredTo.OPF if status == Status.REFERRED else None)


def utc(moment: datetime) -> datetime:
    """A stored time, aware (one backend gives it back naive, the other aware)."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def queued(db) -> list[Outbox]:
    with Session(db) as session:
        return list(session.exec(select(Outbox).order_by(Outbox.id)))


@pytest.mark.parametrize("status", list(PATHS))
def test_case_updates_each_status_change_sends_its_message(db, content, at, status):
    referral_id, reference = make_case(db, language="pa")
    move_to(db, referral_id, *PATHS[status][:-1])
    already = len(queued(db))
    move_to(db, referral_id, PATHS[status][-1])
    [item] = queued(db)[already:]
    extra = {"office": content.text("case_office_opf", "pa")} \
        if status == Status.REFERRED else {}
    assert item.body == content.text(f"case_update_{status}", "pa", reference=reference,
                                     **extra)
    assert reference in item.body and "internal reason" not in item.body
    assert (item.kind, item.priority, item.referral_id) == (
        "case_update", Priority.CASE_UPDATE, referral_id)
    assert (item.channel, item.language, item.status) == ("whatsapp", "pa", "queued")
    assert utc(item.next_attempt_at) == MIDDAY  # daytime: at once
    # Outside WhatsApp's window the template goes instead, with the status in their words.
    assert item.template_key == "case_update"
    assert item.template_variables == {
        "1": reference, "2": content.text(f"complaint_state_{status}", "pa")}


def test_case_updates_referred_names_the_office(db, content, at):
    referral_id, _ = make_case(db, language="ur-Latn")
    move_to(db, referral_id, Status.REFERRED)
    [item] = queued(db)
    assert "OPF" in item.body and item.body.startswith("Rahnuma:")


def test_case_updates_a_claim_tells_the_worker_someone_is_on_it(db, content, at):
    referral_id, reference = make_case(db, language="ps")
    with session_scope(db) as session:
        assert claim(session, referral_id, staff_id=7)
    [item] = queued(db)
    assert item.body == content.text("case_update_in_progress", "ps", reference=reference)


def test_case_updates_changed_at_night_wait_for_eight_in_the_morning(db, at):
    at(NIGHT)
    referral_id, _ = make_case(db)
    move_to(db, referral_id, Status.IN_PROGRESS)
    [item] = queued(db)
    assert utc(item.next_attempt_at) == NEXT_MORNING


def test_case_updates_follow_the_clock_where_the_worker_is(db, at):
    at(NIGHT)  # night in Pakistan, evening in Riyadh
    referral_id, _ = make_case(db, timezone="Asia/Riyadh")
    move_to(db, referral_id, Status.IN_PROGRESS)
    [item] = queued(db)
    assert utc(item.next_attempt_at) == NIGHT


def test_case_updates_none_after_stop(db, at):
    referral_id, _ = make_case(db, opted_out=True)
    move_to(db, referral_id, Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED)
    with session_scope(db) as session:
        add_note(session, session.get(Referral, referral_id), actor="staff:1",
                 note="We called the agent", for_worker=True)
    assert queued(db) == []


def test_case_updates_note_for_the_worker_is_sent(db, content, at):
    referral_id, reference = make_case(db, language="ur")
    with session_scope(db) as session:
        add_note(session, session.get(Referral, referral_id), actor="staff:1",
                 note="ہم نے ایجنٹ سے بات کی ہے", for_worker=True)
    [item] = queued(db)
    assert item.body == content.text("case_update_note", "ur", reference=reference,
                                     note="ہم نے ایجنٹ سے بات کی ہے")
    # A caseworker's words cannot go in an approved template: it says a message waits.
    assert (item.template_key, item.template_variables) == ("case_note", {"1": reference})


def test_case_updates_internal_note_sends_nothing(db, at):
    referral_id, _ = make_case(db)
    with session_scope(db) as session:
        add_note(session, session.get(Referral, referral_id), actor="staff:1",
                 note="agent's brother called, sounded threatening")
    assert queued(db) == []


def test_case_updates_change_the_worker_made_sends_nothing(db, at):
    referral_id, _ = make_case(db)
    move_to(db, referral_id, Status.CLOSED, actor="worker")
    assert queued(db) == []


def test_case_updates_on_sms_go_as_sms(db, content, at):
    referral_id, reference = make_case(db, language="en", channel="sms")
    move_to(db, referral_id, Status.CLOSED)
    [item] = queued(db)
    assert item.channel == "sms"
    assert item.body == content.text("case_update_closed", "en", reference=reference)
