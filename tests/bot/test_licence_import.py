"""Importing the official list: tolerant of real exports, all or nothing."""

from datetime import date

import pytest
from sqlmodel import Session, func, select

from bot.db import session_scope
from bot.registry.licence_import import ImportRefused, decode, import_licences
from bot.registry.licences import Licence, LicenceImport

GOOD = """licence_no,name,proprietor,address,city,phone,status,valid_until
0848/LHR,Ravi Manpower,A,Addr,Lahore,0300-1,valid,31-12-2027
2214/MLK,Swat Valley,B,Addr,Malakand,0300-2,Suspended,2027-06-30
"""


def run(db, text, **kwargs):
    with session_scope(db) as session:
        return import_licences(session, text, file_name="list.csv", **kwargs)


def count(db, model=Licence) -> int:
    with Session(db) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def test_import_reads_a_real_looking_export(db):
    export = ("\ufeff Licence No , NAME,Proprietor,Address, City ,Phone,STATUS, Valid Until\n"
              "0848/LHR,Ravi Manpower,A,Addr,Lahore,0300-1,VALID,31-12-2027\n"
              "2214-mlk,Swat Valley,B,Addr,Malakand,0300-2,cancelled,\n")
    report = run(db, export)
    assert report.added == 2
    with Session(db) as session:
        ravi = session.exec(select(Licence).where(Licence.number == 848)).one()
        swat = session.exec(select(Licence).where(Licence.office == "MLK")).one()
    assert (ravi.status, ravi.valid_until) == ("valid", date(2027, 12, 31))
    assert (swat.licence_no, swat.status, swat.valid_until) == ("2214/MLK", "cancelled", None)


def test_import_accepts_both_date_orders(db):
    run(db, GOOD)
    with Session(db) as session:
        dates = sorted(lic.valid_until for lic in session.exec(select(Licence)))
    assert dates == [date(2027, 6, 30), date(2027, 12, 31)]


def test_import_refuses_a_file_with_bad_rows_and_names_the_lines(db):
    bad = GOOD + "9999,No Office,C,Addr,X,0,valid,\n1234/KHI,Bad Date,D,A,K,0,valid,31/31/2020\n"
    with pytest.raises(ImportRefused) as refused:
        run(db, bad)
    lines = [line for line, _ in refused.value.report.errors]
    assert lines == [4, 5]
    assert count(db) == 0


def test_import_skips_bad_rows_when_told(db):
    bad = GOOD + "1234/KHI,Unknown Status,D,A,K,0,sleeping,\n"
    report = run(db, bad, skip_bad_rows=True)
    assert (report.added, len(report.errors)) == (2, 1)
    assert count(db) == 2


def test_import_rejects_a_licence_repeated_in_the_file(db):
    with pytest.raises(ImportRefused) as refused:
        run(db, GOOD + "848/lhr,Again,A,Addr,Lahore,0,valid,\n")
    assert "repeats line 2" in refused.value.report.errors[0][1]


def test_import_again_updates_changes_and_keeps_history(db):
    run(db, GOOD)
    report = run(db, GOOD.replace("Suspended", "cancelled"))
    assert (report.added, report.updated, report.unchanged) == (0, 1, 1)
    with Session(db) as session:
        history = session.exec(select(LicenceImport).order_by(LicenceImport.id)).all()
        assert [h.rows_updated for h in history] == [0, 1]
        assert session.exec(select(Licence).where(Licence.number == 2214)).one().status == \
            "cancelled"


def test_import_dry_run_writes_nothing(db):
    report = run(db, GOOD, dry_run=True)
    assert report.added == 2 and count(db) == 0 and count(db, LicenceImport) == 0


def test_import_is_all_or_nothing_when_the_database_fails(db, monkeypatch):
    run(db, GOOD)

    def broken_add(self, instance, *args, **kwargs):
        if isinstance(instance, LicenceImport):
            raise RuntimeError("disk full")
        return original(self, instance, *args, **kwargs)

    original = Session.add
    monkeypatch.setattr(Session, "add", broken_add)
    with pytest.raises(RuntimeError):
        run(db, GOOD.replace("Suspended", "cancelled") + "5555/KHI,New,E,A,Karachi,0,valid,\n")
    monkeypatch.undo()
    assert count(db) == 2 and count(db, LicenceImport) == 1
    with Session(db) as session:
        assert session.exec(select(Licence).where(Licence.number == 2214)).one().status == \
            "suspended"


def test_import_refuses_missing_columns(db):
    with pytest.raises(ImportRefused, match="missing columns: status"):
        run(db, "licence_no,name\n0848/LHR,Ravi\n")


def test_decode_reads_windows_1252_exports():
    assert decode("Café Manpower".encode("cp1252")) == "Café Manpower"
