"""The registry of recruiting agents' licences (OEPs), imported from the official list.

Licence numbers are kept as a number and an office code ("0848/LHR" -> 848, "LHR"), so the
ways people type them ("848 lhr", "0848-LHR", "۰۸۴۸/LHR") all find the same record. The office
codes and the city each stands for are learned from the imported list, never hard-coded.
"""

import re
import threading
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint, func
from sqlmodel import Field, Session, SQLModel, col, select

from bot.conversation.contacts import utcnow
from bot.conversation.language import clean
from bot.registry.names import Shape, distinctive, similarity


class LicenceStatus(StrEnum):
    VALID = "valid"
    SUSPENDED = "suspended"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    SURRENDERED = "surrendered"


class Licence(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("number", "office", name="uq_licence_number_office"),
                      Index("ix_licence_number", "number"))

    id: int | None = Field(default=None, primary_key=True)
    number: int  # 848 for "0848/LHR"
    office: str = Field(max_length=8)  # "LHR"
    name: str = Field(max_length=200)
    name_key: str = Field(max_length=200)  # lower case, punctuation stripped: for fuzzy search
    proprietor: str = Field(default="", max_length=200)
    address: str = Field(default="", max_length=400)
    city: str = Field(default="", max_length=100)
    phone: str = Field(default="", max_length=64)
    status: str = Field(max_length=16)
    valid_until: date | None = None
    source: str = Field(max_length=200)  # the imported file's name
    imported_at: datetime = Field(default_factory=utcnow)  # the list date a person is told
    updated_at: datetime = Field(default_factory=utcnow)

    @property
    def licence_no(self) -> str:
        return format_licence_no(self.number, self.office)


class LicenceImport(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    file_name: str = Field(max_length=200)
    imported_at: datetime = Field(default_factory=utcnow)
    # The date the official list itself carries (`licences import --list-date`): what a person
    # is told, since an old list imported today is still an old list.
    list_date: date | None = None
    rows_added: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    rows_rejected: int = 0


@dataclass(frozen=True)
class LicenceRef:
    number: int
    office: str | None  # None: the person gave the number alone


def format_licence_no(number: int, office: str) -> str:
    return f"{number:04d}/{office}"


def name_key(name: str) -> str:
    return re.sub(r"[^\w ]+", " ", name.lower()).strip()


# "2214/MLK", "2214 mlk", "2214-MLK", "licence no. 2214 Malakand": a number and up to three
# following words, one of which may name an office. Digits are ASCII after clean().
_NUMBER_THEN_WORDS = re.compile(r"(?<!\d)(\d{1,5})\s*[/\-\\.]?\s*((?:[^\W\d_]+[ .]?){0,3})")
_NUMBER_ALONE = re.compile(r"(?<![\d/])\b(\d{2,5})\b(?![\d/])")


def parse_licence_numbers(text: str, offices: dict[str, str]) -> list[LicenceRef]:
    """Licence numbers in `text`. `offices` maps every known code and city name (lower case)
    to an office code, as learned from the registry."""
    text = clean(text)
    found: list[LicenceRef] = []
    for match in _NUMBER_THEN_WORDS.finditer(text):
        number, tail = int(match.group(1)), (match.group(2) or "").lower().strip(" .")
        office = _office_in(tail, offices)
        if office:
            found.append(LicenceRef(number, office))
    return found


def parse_number_alone(text: str) -> int | None:
    """A message that is just a licence number without its office ("2214", "licence 2214")."""
    numbers = _NUMBER_ALONE.findall(clean(text))
    return int(numbers[0]) if len(numbers) == 1 else None


def _office_in(tail: str, offices: dict[str, str]) -> str | None:
    words = tail.split()
    for size in range(min(3, len(words)), 0, -1):  # "dera ghazi khan" before "dera"
        candidate = " ".join(words[:size])
        if candidate in offices:
            return offices[candidate]
    return None


class _RegistryCache:
    """Office names and agency names in memory, reloaded when a new import lands."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple | None = None
        self.offices: dict[str, str] = {}
        self.names: dict[int, Shape] = {}  # licence id -> distinctive skeletons of its name
        self.place_words: frozenset[str] = frozenset()  # office codes and cities, lower case

    def refresh(self, session: Session) -> "_RegistryCache":
        bind = str(session.get_bind().engine.url)
        newest = session.exec(select(LicenceImport.id, LicenceImport.imported_at)
                              .order_by(col(LicenceImport.id).desc()).limit(1)).first()
        key = (bind, *(newest or (0, None)))
        if self._key != key:
            with self._lock:
                self.offices = _learn_offices(session)
                # (A primary key read from the table is never NULL: the test only narrows.)
                self.names = {id_: distinctive(key) for id_, key in session.exec(
                    select(Licence.id, Licence.name_key)) if id_ is not None}
                self.place_words = frozenset(w for place in self.offices
                                             for w in place.split())
                self._key = key
        return self


_cache = _RegistryCache()


def _learn_offices(session: Session) -> dict[str, str]:
    """Office code -> itself, and each city -> the office code most of its records carry."""
    offices: dict[str, str] = {}
    rows = session.exec(select(Licence.office, Licence.city, func.count())
                        .group_by(Licence.office, Licence.city)
                        .order_by(func.count().desc())).all()
    for office, city, _count in rows:
        offices.setdefault(office.lower(), office)
        if city:
            offices.setdefault(city.lower().strip(), office)
    return offices


def known_offices(session: Session) -> dict[str, str]:
    return _cache.refresh(session).offices


def find_by_ref(session: Session, ref: LicenceRef) -> list[Licence]:
    query = select(Licence).where(Licence.number == ref.number)
    if ref.office:
        query = query.where(Licence.office == ref.office)
    return list(session.exec(query.order_by(Licence.office)))


def search_by_name(session: Session, name: str, *, limit: int = 3,
                   min_score: float = 75) -> list[tuple[Licence, float]]:
    """Up to `limit` agencies whose name is closest to `name` (any script), best first. The
    city or office a person adds ("sunrise lahore") narrows nothing and is left out."""
    cache = _cache.refresh(session)
    query = distinctive(name, also_ignore=cache.place_words)
    scored = sorted(((similarity(query, shape), id_) for id_, shape in cache.names.items()),
                    reverse=True)
    return [(licence, score) for score, id_ in scored[:limit] if score >= min_score
            and (licence := session.get(Licence, id_)) is not None]


def name_query(name: str, session: Session) -> str:
    """What of `name` identifies an agency (empty when only generic or place words are left)."""
    return distinctive(name, also_ignore=_cache.refresh(session).place_words)[1]


def latest_import(session: Session) -> LicenceImport | None:
    return session.exec(select(LicenceImport).order_by(col(LicenceImport.id).desc())).first()


def list_date(session: Session) -> date | None:
    """The official list's own date, else the day it was imported."""
    newest = latest_import(session)
    if newest is None:
        return None
    return newest.list_date or newest.imported_at.date()
