"""Impact by source and district (bot/outreach/reach_figures.py): who is counted where."""

from datetime import UTC, date, datetime

from sqlmodel import Session

from bot.casework.referrals import Category, Status
from bot.outreach.reach_figures import Cell, months, reach
from tests.bot.reach_helpers import (
    DEC,
    NOV,
    PERIOD,
    ask,
    changemaker_account,
    check_in,
    check_licence,
    complain,
    hold_session,
    make_person,
    make_source,
)


def figures(db, **scope):
    with Session(db) as session:
        return reach(session, **PERIOD, **scope)


def test_reach_person_counted_for_their_source_and_not_another(db):
    shazia, other = make_source(db, "SKT1"), make_source(db, "GRW1")
    make_person(db, source=shazia)
    make_person(db, source=shazia)
    make_person(db)  # came directly
    by_source = figures(db).by_source()
    assert by_source[shazia].people == 2
    assert other not in by_source
    assert by_source[None].people == 1


def test_reach_test_contacts_left_out(db):
    source = make_source(db, "SKT1")
    person = make_person(db, source=source)
    simulator = make_person(db, source=source, test=True)
    for someone in (person, simulator):
        ask(db, someone, "ask_fees")
        complain(db, someone)
        check_licence(db, someone)
    total = figures(db).total()
    assert (total.people, total.questions, total.complaints, total.licence_checks) == (
        1, 1, 1, 1)


def test_reach_by_month_and_district(db):
    source = make_source(db, "SKT1")
    make_person(db, source=source, district="sialkot", at=NOV)
    make_person(db, source=source, district="sialkot", at=DEC)
    make_person(db, source=source, district="gujrat", at=DEC)
    result = figures(db)
    assert [(month, f.people) for month, f in result.by_month()] == [
        ("2026-11", 1), ("2026-12", 2)]
    assert {d: f.people for d, f in result.by_district().items()} == {"sialkot": 2, "gujrat": 1}
    assert result.cells[Cell("2026-12", source, "gujrat")].people == 1


def test_reach_only_chosen_sources_and_district(db):
    mine, theirs = make_source(db, "SKT1"), make_source(db, "GRW1")
    make_person(db, source=mine, district="sialkot")
    make_person(db, source=mine, district="gujrat")
    make_person(db, source=theirs, district="sialkot")
    make_person(db, district="sialkot")
    assert figures(db, sources=[mine]).total().people == 2
    assert figures(db, sources=[mine], district="Sialkot").total().people == 1
    assert figures(db, sources=[None]).total().people == 1  # directly


def test_reach_outside_the_period_not_counted(db):
    make_person(db, at=datetime(2026, 10, 31, 23, 59, tzinfo=UTC))
    make_person(db, at=datetime(2027, 1, 1, tzinfo=UTC))
    assert figures(db).total().people == 0


def test_reach_complaints_resolved_and_their_other_outcomes(db):
    person = make_person(db, source=make_source(db, "SKT1"))
    complain(db, person, status=Status.RESOLVED)
    complain(db, person, status=Status.CLOSED, resolved_at=NOV)  # resolved, then closed
    complain(db, person, status=Status.CLOSED)  # closed without being resolved
    complain(db, person, status=Status.REFERRED, referred_to="fia", referred_at=NOV)
    complain(db, person, status=Status.IN_PROGRESS)
    complain(db, person, category=Category.CALLBACK)  # a call-back is no complaint
    total = figures(db).total()
    assert (total.complaints, total.resolved, total.closed, total.referred, total.open) == (
        5, 2, 1, 1, 1)
    assert total.referred_to == {"fia": 1}


def test_reach_complaint_counted_in_the_district_it_names(db):
    person = make_person(db, district="sialkot")
    complain(db, person, district="Gujrat")
    complain(db, person)  # names none: the person's own district
    by_district = figures(db).by_district()
    assert (by_district["Gujrat"].complaints, by_district["sialkot"].complaints) == (1, 1)
    assert figures(db, district="gujrat").total().complaints == 1


def test_reach_questions_by_topic_and_licence_checks(db):
    person = make_person(db, source=make_source(db, "SKT1"))
    ask(db, person, "ask_fees")
    ask(db, person, "ask_fees", at=DEC)
    ask(db, person, "ask_visa")
    ask(db, person, None)  # not understood: no question counted
    check_licence(db, person)
    check_licence(db, person, licence_no="2214/MLK", at=DEC)
    total = figures(db).total()
    assert total.topics == {"ask_fees": 2, "ask_visa": 1} and total.questions == 3
    assert total.licence_checks == 2


def test_reach_check_ins_sent_answered_and_problems(db):
    person = make_person(db)
    check_in(db, person, answer="paid", answered_at=NOV)
    check_in(db, person, answer="underpaid", answered_at=DEC)
    check_in(db, person)  # not answered
    total = figures(db).total()
    assert (total.checkins_sent, total.checkins_answered, total.checkin_problems) == (3, 2, 1)


def test_reach_sessions_and_attendees_of_the_chosen_sources(db):
    mine, theirs = make_source(db, "SKT1"), make_source(db, "GRW1")
    hold_session(db, mine, attendees=40)
    hold_session(db, mine, attendees=25, on=date(2026, 12, 31))
    hold_session(db, theirs, attendees=100)
    hold_session(db, mine, attendees=7, on=date(2027, 1, 1))  # after the period
    result = figures(db, sources=[mine])
    assert (result.total().sessions, result.total().attendees) == (2, 65)
    assert figures(db, sources=[None]).total().sessions == 0


def test_reach_changemaker_sums_the_sources_they_own(db):
    shazia = changemaker_account(db, "shazia@cm.example")
    first, second = make_source(db, "SKT1", owner=shazia), make_source(db, "SKT2", owner=shazia)
    make_source(db, "CTR1", kind="centre")
    make_person(db, source=first)
    make_person(db, source=second)
    make_person(db, source=second)
    assert figures(db).by_changemaker()[shazia].people == 3


def test_reach_months_cover_the_period_without_holes():
    assert months(datetime(2026, 11, 15, tzinfo=UTC), datetime(2027, 2, 1, tzinfo=UTC)) == [
        "2026-11", "2026-12", "2027-01"]
