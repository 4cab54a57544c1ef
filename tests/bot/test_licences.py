"""Licence numbers as people type them, and looking them up."""

import pytest
from sqlmodel import Session

from bot.db import session_scope
from bot.registry.licence_import import import_licences
from bot.registry.licences import (
    LicenceRef,
    find_by_ref,
    known_offices,
    parse_licence_numbers,
    parse_number_alone,
    search_by_name,
)

OFFICES = {"mlk": "MLK", "malakand": "MLK", "lhr": "LHR", "lahore": "LHR",
           "dera ghazi khan": "DGK", "dgk": "DGK"}
CSV = """licence_no,name,proprietor,address,city,phone,status,valid_until
2214/MLK,Swat Valley Overseas Promoters,A,Addr,Malakand,0300-1,valid,31-12-2027
0848/LHR,Ravi Manpower Services,B,Addr,Lahore,0300-2,suspended,
2214/LHR,Lahore Gulf Recruiting,C,Addr,Lahore,0300-3,cancelled,
0101/DGK,Indus Human Resource,D,Addr,Dera Ghazi Khan,0300-4,expired,01-01-2024
"""


@pytest.mark.parametrize("text", [
    "2214/MLK", "2214 mlk", "2214-MLK", "2214MLK", "licence no. 2214 Malakand",
    "۲۲۱۴/MLK", "٢٢١٤ mlk", "is agent ka licence 2214/mlk hai check karo",
    "ایجنٹ کا لائسنس ۲۲۱۴/MLK ہے",
])
def test_parse_licence_numbers_every_form(text):
    assert parse_licence_numbers(text, OFFICES) == [LicenceRef(2214, "MLK")]


def test_parse_licence_numbers_city_of_several_words():
    assert parse_licence_numbers("0101 Dera Ghazi Khan", OFFICES) == [LicenceRef(101, "DGK")]


def test_parse_licence_numbers_leading_zero_is_the_same_number():
    assert parse_licence_numbers("848/LHR", OFFICES) == parse_licence_numbers("0848/LHR", OFFICES)


@pytest.mark.parametrize("text", ["3 lakh", "agent 5 lakh mang raha hai", "2 mahine se",
                                  "2214/XYZ", "fees 15000"])
def test_parse_licence_numbers_ignores_amounts_and_unknown_offices(text):
    assert parse_licence_numbers(text, OFFICES) == []


@pytest.mark.parametrize("text,number", [("2214", 2214), ("licence 2214", 2214),
                                         ("۲۲۱۴", 2214), ("2214 aur 3300", None),
                                         ("fees", None)])
def test_parse_number_alone(text, number):
    assert parse_number_alone(text) == number


@pytest.fixture
def registry(db):
    with session_scope(db) as session:
        import_licences(session, CSV, file_name="list.csv")
    with Session(db) as session:
        yield session


def test_known_offices_learned_from_the_list(registry):
    offices = known_offices(registry)
    assert offices["malakand"] == "MLK" and offices["dera ghazi khan"] == "DGK"
    assert offices["lhr"] == "LHR"


def test_find_by_ref_number_alone_lists_every_office(registry):
    found = find_by_ref(registry, LicenceRef(2214, None))
    assert [lic.licence_no for lic in found] == ["2214/LHR", "2214/MLK"]


def test_search_by_name_tolerates_typos(registry):
    [(best, _score), *_] = search_by_name(registry, "ravi manpowr")
    assert best.licence_no == "0848/LHR"


def test_search_by_name_finds_nothing_for_an_unknown_name(registry):
    assert search_by_name(registry, "qwxz plmk") == []
