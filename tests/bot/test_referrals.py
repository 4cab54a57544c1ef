"""The referral queue: references, transitions, events, safe claiming."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import Session, func, select

from bot.casework.referrals import (
    REFERENCE_ALPHABET,
    Category,
    Referral,
    ReferralEvent,
    ReferredTo,
    Status,
    TransitionError,
    change_status,
    claim,
    claim_next,
    create_referral,
    new_reference,
)
from bot.conversation.contacts import Contact
from bot.db import session_scope


def make_contact(db, phone="+923001112222") -> int:
    with session_scope(db) as session:
        contact = Contact(phone=phone)
        session.add(contact)
        session.flush()
        return contact.id


def make_referral(db, contact_id, **extra) -> int:
    with session_scope(db) as session:
        fields = {"contact_id": contact_id, "category": Category.MONEY_NO_JOB,
                  "centre": "mrc-lahore", "language": "ur", "channel": "whatsapp", **extra}
        return create_referral(session, **fields).id


def test_reference_has_no_look_alike_characters():
    for _ in range(200):
        reference = new_reference()
        assert len(reference) == 6 and set(reference) <= set(REFERENCE_ALPHABET)
        assert not set(reference) & set("0O1IL2Z5S6G8B")
        assert any(c.isdigit() for c in reference)


def test_referral_transition_stamps_time_and_writes_event(db):
    referral_id = make_referral(db, make_contact(db))
    with session_scope(db) as session:
        referral = session.get(Referral, referral_id)
        change_status(session, referral, Status.IN_PROGRESS, actor="staff:1", note="calling")
        change_status(session, referral, Status.REFERRED, actor="staff:1",
                      referred_to=ReferredTo.FIA, note="trafficking")
    with Session(db) as session:
        referral = session.get(Referral, referral_id)
        events = session.exec(select(ReferralEvent).where(
            ReferralEvent.referral_id == referral_id).order_by(ReferralEvent.id)).all()
    assert referral.in_progress_at and referral.referred_at and referral.referred_to == "fia"
    assert [(e.from_status, e.to_status) for e in events] == [
        (None, "new"), ("new", "in_progress"), ("in_progress", "referred")]


def test_referral_disallowed_transition_is_refused(db):
    referral_id = make_referral(db, make_contact(db))
    with session_scope(db) as session, pytest.raises(TransitionError):
        change_status(session, session.get(Referral, referral_id), Status.RESOLVED, actor="x")


def test_referral_referred_needs_a_destination(db):
    referral_id = make_referral(db, make_contact(db))
    with session_scope(db) as session, pytest.raises(TransitionError, match="to whom"):
        change_status(session, session.get(Referral, referral_id), Status.REFERRED, actor="x")


def test_claim_twice_fails_for_the_second_staff(db):
    referral_id = make_referral(db, make_contact(db))
    with session_scope(db) as session:
        assert claim(session, referral_id, staff_id=1)
    with session_scope(db) as session:
        assert not claim(session, referral_id, staff_id=2)
        assert session.get(Referral, referral_id).assignee_id == 1


def test_claim_next_parallel_claimers_never_share_a_referral(db):
    contact_id = make_contact(db)
    ids = [make_referral(db, contact_id) for _ in range(30)]

    def claimer(staff_id):
        held = []
        while True:
            with session_scope(db) as session:
                referral = claim_next(session, staff_id=staff_id, centre="mrc-lahore")
                if referral is None:
                    return held
                held.append(referral.id)

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(claimer, range(1, 7)))
    claimed = [rid for held in results for rid in held]
    assert sorted(claimed) == sorted(ids)  # each exactly once


def test_claim_next_takes_urgent_first(db):
    contact_id = make_contact(db)
    make_referral(db, contact_id)
    urgent = make_referral(db, contact_id, priority="urgent")
    with session_scope(db) as session:
        assert claim_next(session, staff_id=1, centre="mrc-lahore").id == urgent


def test_thousand_referrals_in_parallel_none_lost_none_duplicated(db):
    contact_ids = [make_contact(db, f"+92300{i:07d}") for i in range(10)]

    def create(index):
        return make_referral(db, contact_ids[index % 10], description=f"case {index}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(create, range(1000)))
    with Session(db) as session:
        rows = session.exec(select(Referral.description, Referral.reference)).all()
        events = session.exec(select(func.count()).select_from(ReferralEvent)).one()
    assert len(set(ids)) == 1000 and len(rows) == 1000 and events == 1000
    assert {d for d, _ in rows} == {f"case {i}" for i in range(1000)}
    assert len({r for _, r in rows}) == 1000
