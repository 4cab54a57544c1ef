"""Importing the official licence list (CSV), all or nothing.

Tolerates what a government export really looks like: a UTF-8 BOM, headers in any case and
spacing, dates as DD-MM-YYYY or YYYY-MM-DD, status words in any case. A malformed row is
reported with its line number and the file is refused unless bad rows may be skipped.
"""

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TypedDict

from sqlmodel import Session, select

from bot.conversation.contacts import utcnow
from bot.conversation.language import clean
from bot.registry.licences import Licence, LicenceImport, LicenceStatus, format_licence_no, name_key

COLUMNS = ("licence_no", "name", "proprietor", "address", "city", "phone", "status",
           "valid_until")
REQUIRED = ("licence_no", "name", "status")
_LICENCE_NO = re.compile(r"^\s*(\d{1,5})\s*[/\-\s]\s*([A-Za-z]{2,8})\s*$")
_STATUS_WORDS = {"valid": LicenceStatus.VALID, "active": LicenceStatus.VALID,
                 "suspended": LicenceStatus.SUSPENDED, "cancelled": LicenceStatus.CANCELLED,
                 "canceled": LicenceStatus.CANCELLED, "expired": LicenceStatus.EXPIRED,
                 "surrendered": LicenceStatus.SURRENDERED}
_DATE_FORMATS = ("%d-%m-%Y", "%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y")


class ImportRefused(Exception):
    """The file was not imported; `report` says why, row by row."""

    def __init__(self, report: "ImportReport"):
        super().__init__(report.summary())
        self.report = report


@dataclass(frozen=True)
class StatusChange:
    """A licence whose status this list changed: what licence alerts are about."""

    licence_no: str
    name: str
    old: str
    new: str


@dataclass
class ImportReport:
    file_name: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)
    dry_run: bool = False
    status_changes: list[StatusChange] = field(default_factory=list)
    # Set by whoever queued the alerts (bot/outreach/licence_alerts.py); None: none were asked.
    alerts_queued: int | None = None

    def summary(self) -> str:
        head = (f"{self.file_name}: {self.added} added, {self.updated} updated, "
                f"{self.unchanged} unchanged, {len(self.errors)} rejected"
                + (f", {self.alerts_queued} licence alerts queued"
                   if self.alerts_queued is not None else "")
                + (" (dry run: nothing written)" if self.dry_run else ""))
        return "\n".join([head] + [f"  line {line}: {reason}" for line, reason in self.errors])


class LicenceValues(TypedDict):
    """A row's values for the Licence columns other than its number and office."""

    name: str
    name_key: str
    proprietor: str
    address: str
    city: str
    phone: str
    status: str
    valid_until: date | None


@dataclass(frozen=True)
class Row:
    number: int
    office: str
    values: LicenceValues


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM) as it should be; Windows-1252 as spreadsheets often save."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _header(name: str) -> str:
    return re.sub(r"[\s.]+", "_", name.strip().lower().lstrip("\ufeff")).strip("_")


def _parse_date(text: str) -> date | None:
    text = clean(text).strip()
    if not text:
        return None
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"date {text!r} is not DD-MM-YYYY or YYYY-MM-DD")


def parse_row(raw: dict[str, str]) -> Row:
    values = {k: clean(v or "") for k, v in raw.items()}
    missing = [c for c in REQUIRED if not values.get(c)]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    match = _LICENCE_NO.match(values["licence_no"])
    if not match:
        raise ValueError(f"licence number {values['licence_no']!r} is not like 0848/LHR")
    status = _STATUS_WORDS.get(values["status"].lower())
    if status is None:
        raise ValueError(f"unknown status {values['status']!r}")
    return Row(int(match.group(1)), match.group(2).upper(), LicenceValues(
        name=values["name"], name_key=name_key(values["name"]),
        proprietor=values.get("proprietor", ""), address=values.get("address", ""),
        city=values.get("city", ""), phone=values.get("phone", ""),
        status=str(status), valid_until=_parse_date(values.get("valid_until", "")),
    ))


def read_rows(text: str) -> tuple[list[tuple[int, Row]], list[tuple[int, str]]]:
    """(line number, row) for each good row and (line number, reason) for each bad one."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [_header(h) for h in next(reader)]
    except StopIteration:
        return [], [(1, "the file is empty")]
    absent = [c for c in REQUIRED if c not in header]
    if absent:
        return [], [(1, f"missing columns: {', '.join(absent)}")]
    rows: list[tuple[int, Row]] = []
    errors: list[tuple[int, str]] = []
    seen: dict[tuple[int, str], int] = {}  # (number, office) -> the line it was first on
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            errors.append((line, f"{len(cells)} fields, the header has {len(header)}"))
            continue
        try:
            row = parse_row(dict(zip(header, cells, strict=True)))
        except ValueError as error:
            errors.append((line, str(error)))
            continue
        key = (row.number, row.office)
        if key in seen:
            errors.append((line, f"{format_licence_no(*key)} repeats line {seen[key]}"))
            continue
        seen[key] = line
        rows.append((line, row))
    return rows, errors


def import_licences(session: Session, text: str, *, file_name: str, dry_run: bool = False,
                    skip_bad_rows: bool = False, list_date: date | None = None) -> ImportReport:
    """Apply the list in one transaction (the caller commits); raise ImportRefused if bad."""
    rows, errors = read_rows(text)
    report = ImportReport(Path(file_name).name, errors=errors, dry_run=dry_run)
    if (errors and not skip_bad_rows) or not rows:
        if not rows and not errors:
            report.errors.append((1, "no licences in the file"))
        raise ImportRefused(report)
    existing = {(lic.number, lic.office): lic for lic in session.exec(select(Licence))}
    now = utcnow()
    for _line, row in rows:
        record = existing.get((row.number, row.office))
        if record is None:
            report.added += 1
            session.add(Licence(number=row.number, office=row.office, source=report.file_name,
                                imported_at=now, updated_at=now, **row.values))
        elif any(getattr(record, k) != v for k, v in row.values.items()):
            report.updated += 1
            if record.status != row.values["status"]:
                report.status_changes.append(StatusChange(
                    record.licence_no, row.values["name"], record.status, row.values["status"]))
            for key, value in row.values.items():
                setattr(record, key, value)
            record.source, record.updated_at, record.imported_at = report.file_name, now, now
        else:
            report.unchanged += 1
            record.imported_at = now  # confirmed by this list: the date people are told
    if dry_run:
        session.rollback()
        return report
    session.add(LicenceImport(file_name=report.file_name, imported_at=now, list_date=list_date,
                              rows_added=report.added, rows_updated=report.updated,
                              rows_unchanged=report.unchanged, rows_rejected=len(errors)))
    return report
