"""Impact by source and district: the figures partners report, per month, source and district.

Every figure is counted in the database (GROUP BY month, source, district), so a page over
100,000 contacts reads a few hundred grouped rows, never the people. A person is counted for
the source that first brought them (Contact.source_id, first touch; later touches do not move
them), "direct" when none did. Their district is Contact.district, except for complaints, which
count the district the complaint names (Referral.location_district) when it names one; and for
sessions, the district the session was held in. Simulator contacts (is_test) are left out, as
in bot/casework/impact.py. Months are calendar months in UTC, as the impact page's periods are.
"""

from collections import Counter
from collections.abc import Callable, Collection, Hashable, Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    case,
    false,
    func,
    literal_column,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, col
from sqlmodel import select as select_rows

from bot.casework.impact import PROBLEM_ANSWERS
from bot.casework.referrals import Category, Referral, Status
from bot.casework.staff import Staff
from bot.conversation.contacts import Contact, Direction, Message
from bot.outreach.journeys import CheckIn
from bot.outreach.licence_watch import LicenceWatch
from bot.outreach.sources import OutreachSession, Source

# What became of a complaint, from its status now. Resolved counts a case resolved and then
# closed too (resolved_at stays); "closed" is closed without being resolved.
RESOLVED, CLOSED, REFERRED, OPEN = "resolved", "closed", "referred", "open"
OUTCOMES = (RESOLVED, REFERRED, CLOSED, OPEN)

K = TypeVar("K", bound=Hashable)


class utc_month(FunctionElement[str]):  # lower case, as SQL functions read
    """"YYYY-MM" of a stored UTC time, in the database."""

    type = String()
    name = "utc_month"
    inherit_cache = True


class day_month(FunctionElement[str]):
    """"YYYY-MM" of a DATE column."""

    type = String()
    name = "day_month"
    inherit_cache = True


@compiles(utc_month, "postgresql")
def _utc_month_pg(element: utc_month, compiler: SQLCompiler, **kw: Any) -> str:
    # timestamptz: to_char alone would use the connection's time zone.
    return f"to_char(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC', 'YYYY-MM')"


@compiles(day_month, "postgresql")
def _day_month_pg(element: day_month, compiler: SQLCompiler, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM')"


@compiles(utc_month, "sqlite")
@compiles(day_month, "sqlite")
def _month_sqlite(element: FunctionElement[str], compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps times as UTC text: the first seven characters' worth, via strftime.
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)})"


@dataclass
class Figures:
    """One cell's counts (or a sum of cells)."""

    people: int = 0  # new contacts
    sessions: int = 0
    attendees: int = 0
    questions: int = 0  # inbound messages with an intent
    licence_checks: int = 0  # licences checked (each person's latest check of each licence)
    complaints: int = 0  # call-back requests are not complaints
    resolved: int = 0
    referred: int = 0
    closed: int = 0
    open: int = 0
    checkins_sent: int = 0
    checkins_answered: int = 0
    checkin_problems: int = 0
    topics: Counter[str] = field(default_factory=Counter)  # questions by intent
    referred_to: Counter[str] = field(default_factory=Counter)  # complaints referred, where

    def add(self, other: "Figures") -> "Figures":
        for item in fields(self):
            mine, theirs = getattr(self, item.name), getattr(other, item.name)
            if isinstance(mine, Counter):
                mine.update(theirs)
            else:
                setattr(self, item.name, mine + theirs)
        return self


COUNTS = tuple(f.name for f in fields(Figures) if f.type in (int, "int"))


@dataclass(frozen=True)
class Cell:
    month: str  # "2026-11"
    source_id: int | None  # None: came directly, no source
    district: str  # "" when not known


@dataclass
class Reach:
    start: datetime
    end: datetime
    cells: dict[Cell, Figures]
    sources: dict[int, Source]  # every source a cell names

    def total(self) -> Figures:
        return _sum(self.cells.values())

    def by(self, key: Callable[[Cell], K]) -> dict[K, Figures]:
        grouped: dict[K, Figures] = {}
        for cell, figures in self.cells.items():
            grouped.setdefault(key(cell), Figures()).add(figures)
        return grouped

    def by_month(self) -> list[tuple[str, Figures]]:
        """Every month of the period in order, an empty one too: a series has no holes."""
        grouped = self.by(lambda cell: cell.month)
        return [(month, grouped.get(month, Figures())) for month in months(self.start, self.end)]

    def by_source(self) -> dict[int | None, Figures]:
        return self.by(lambda cell: cell.source_id)

    def by_district(self) -> dict[str, Figures]:
        return self.by(lambda cell: cell.district)

    def by_changemaker(self) -> dict[int, Figures]:
        """Per changemaker account: the sum of the sources they own."""
        owner = {sid: s.owner_staff_id for sid, s in self.sources.items()}
        grouped = self.by(lambda cell: owner.get(cell.source_id) if cell.source_id else None)
        return {staff_id: figures for staff_id, figures in grouped.items() if staff_id}


def _sum(items: Iterable[Figures]) -> Figures:
    total = Figures()
    for figures in items:
        total.add(figures)
    return total


def months(start: datetime, end: datetime) -> list[str]:
    """The "YYYY-MM" months [start, end) touches."""
    last = (end - timedelta(microseconds=1)).date()
    year, month, found = start.year, start.month, []
    while (year, month) <= (last.year, last.month):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


@dataclass(frozen=True)
class Scope:
    """Whose figures: `sources` None is everyone; otherwise only these source ids, and None
    in it stands for the people who came directly. `district` is a lower-case district."""

    start: datetime
    end: datetime
    sources: frozenset[int | None] | None = None
    district: str | None = None

    def of_source(self, column: Any) -> ColumnElement[bool]:
        if self.sources is None:
            return true()
        ids = [i for i in self.sources if i is not None]
        chosen = col(column).in_(ids) if ids else false()
        return or_(chosen, col(column).is_(None)) if None in self.sources else chosen

    def of_district(self, column: Any) -> ColumnElement[bool]:
        return true() if self.district is None else func.lower(column) == self.district

    def during(self, column: Any) -> ColumnElement[bool]:
        return and_(col(column) >= self.start, col(column) < self.end)


def reach(session: Session, *, start: datetime, end: datetime,
          sources: Collection[int | None] | None = None, district: str | None = None) -> Reach:
    """The figures of [start, end), for every source or only `sources` (None in it: people
    who came directly), in every district or one."""
    scope = Scope(start, end, None if sources is None else frozenset(sources),
                  district.strip().lower() if district else None)
    cells: dict[Cell, Figures] = {}

    def put(rows: Iterable[Any], store: Callable[[Figures, Any, int], None]) -> None:
        for month, source_id, place, extra, n in rows:
            store(cells.setdefault(Cell(month, source_id, place or ""), Figures()), extra, n)

    put(_people(session, scope), lambda f, _, n: setattr(f, "people", f.people + n))
    put(_questions(session, scope), _store_question)
    put(_licence_checks(session, scope),
        lambda f, _, n: setattr(f, "licence_checks", f.licence_checks + n))
    put(_complaints(session, scope), _store_complaint)
    put(_checkins(session, scope), _store_checkin)
    put(_sessions(session, scope), _store_session)
    ids = {cell.source_id for cell in cells if cell.source_id is not None}
    found = session.exec(select_rows(Source).where(col(Source.id).in_(ids))).all() if ids else []
    return Reach(start, end, cells, {s.id: s for s in found if s.id is not None})


def _store_question(figures: Figures, intent: str, n: int) -> None:
    figures.questions += n
    figures.topics[intent] += n


def _store_complaint(figures: Figures, extra: tuple[str, str | None], n: int) -> None:
    outcome, referred_to = extra
    figures.complaints += n
    setattr(figures, outcome, getattr(figures, outcome) + n)
    if referred_to:
        figures.referred_to[referred_to] += n


def _store_checkin(figures: Figures, what: str, n: int) -> None:
    setattr(figures, what, getattr(figures, what) + n)


def _store_session(figures: Figures, attendees: int | None, n: int) -> None:
    figures.sessions += n
    figures.attendees += attendees or 0


# The person's first source and home district: the cell most figures are counted in.
SOURCE, DISTRICT = col(Contact.source_id), col(Contact.district)


def _real(scope: Scope) -> list[ColumnElement[bool]]:
    """The people counted: real contacts of the chosen sources (and district)."""
    return [col(Contact.is_test).is_(False), scope.of_source(SOURCE)]


def _by_person(session: Session, scope: Scope, *, at: Any, joined: Any = None,
               per: Any = None, tag: str = "",
               where: Iterable[ColumnElement[bool]] = ()) -> list[Any]:
    """Rows of (month of `at`, source, district, extra, count) over the people counted:
    `joined` is the table whose rows are counted, joined to their contact; extra is the
    column `per` (grouped by too), else the word `tag`, else NULL (a constant is never
    grouped by: PostgreSQL refuses a constant in GROUP BY)."""
    month = utc_month(at)
    extra = col(per) if per is not None else (_text(tag) if tag else null())
    groups = [month, SOURCE, DISTRICT] + ([extra] if per is not None else [])
    query = select(month, SOURCE, DISTRICT, extra, func.count())
    if joined is not None:
        query = query.join(Contact, col(Contact.id) == col(joined.contact_id))
    query = query.where(*_real(scope), *where, scope.during(at), scope.of_district(DISTRICT))
    return list(session.execute(query.group_by(*groups)).all())


def _people(session: Session, scope: Scope) -> list[Any]:
    return _by_person(session, scope, at=Contact.created_at)


def _questions(session: Session, scope: Scope) -> list[Any]:
    return _by_person(session, scope, at=Message.created_at, per=Message.intent,
                      joined=Message, where=(col(Message.direction) == Direction.IN,
                                             col(Message.intent).is_not(None)))


def _licence_checks(session: Session, scope: Scope) -> list[Any]:
    # LicenceWatch keeps one row per person and licence, stamped with its latest check: a
    # licence checked again next month counts in that month, once.
    return _by_person(session, scope, at=LicenceWatch.last_checked_at,
                      joined=LicenceWatch)


def _checkins(session: Session, scope: Scope) -> list[Any]:
    answered = col(CheckIn.answered_at).is_not(None)
    problem = col(CheckIn.answer).in_(PROBLEM_ANSWERS)
    return [row for what, at, condition in (("checkins_sent", CheckIn.sent_at, true()),
                                            ("checkins_answered", CheckIn.answered_at, answered),
                                            ("checkin_problems", CheckIn.answered_at, problem))
            for row in _by_person(session, scope, at=at, tag=what, joined=CheckIn,
                                  where=(condition,))]


def _complaints(session: Session, scope: Scope) -> list[Any]:
    """Complaints in the district they name, else the person's home district."""
    month = utc_month(Referral.created_at)
    status = col(Referral.status)
    place = func.coalesce(func.nullif(col(Referral.location_district), _text("")), DISTRICT)
    outcome = case(
        (or_(status == Status.RESOLVED,
             and_(status == Status.CLOSED, col(Referral.resolved_at).is_not(None))),
         _text(RESOLVED)),
        (status == Status.CLOSED, _text(CLOSED)),
        (status == Status.REFERRED, _text(REFERRED)),
        else_=_text(OPEN))
    referred_to = case((col(Referral.referred_at).is_not(None), col(Referral.referred_to)),
                       else_=null())
    query = (select(month, SOURCE, place, outcome, referred_to, func.count())
             .join(Contact, col(Contact.id) == col(Referral.contact_id))
             .where(*_real(scope), col(Referral.category) != Category.CALLBACK,
                    scope.during(Referral.created_at), scope.of_district(place))
             .group_by(month, SOURCE, place, outcome, referred_to))
    return [(m, s, d, (o, r), n) for m, s, d, o, r, n in session.execute(query).all()]


def _sessions(session: Session, scope: Scope) -> list[Any]:
    if scope.sources is not None and not scope.sources - {None}:
        return []  # the people who came directly held no session
    month = day_month(OutreachSession.held_on)
    source, district = col(OutreachSession.source_id), col(OutreachSession.district)
    held = col(OutreachSession.held_on)
    first, last = scope.start.date(), (scope.end - timedelta(microseconds=1)).date()
    query = (select(month, source, district, func.sum(col(OutreachSession.attendees)),
                    func.count())
             .where(scope.of_source(source), held >= first, held <= last,
                    scope.of_district(district))
             .group_by(month, source, district))
    return list(session.execute(query).all())


def _text(value: str) -> ColumnElement[str]:
    """A constant written into the SQL, not a bound parameter: PostgreSQL sees a parameter in
    the select list and the same one in GROUP BY as two different expressions."""
    if not value.replace("_", "").isalnum() and value:
        raise ValueError(f"not a plain word: {value!r}")
    return literal_column(f"'{value}'", String())


def visible_sources(session: Session, *, centre: str | None = None,
                    owner_staff_id: int | None = None) -> list[Source]:
    """Sources by code: every one, a centre's, or a changemaker's own."""
    query = select_rows(Source).order_by(col(Source.code))
    if centre is not None:
        query = query.where(Source.centre == centre)
    if owner_staff_id is not None:
        query = query.where(Source.owner_staff_id == owner_staff_id)
    return list(session.exec(query))


def staff_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    """The names of these staff accounts (the changemakers who own sources)."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = session.exec(select_rows(Staff.id, Staff.name).where(col(Staff.id).in_(wanted)))
    return {staff_id: name for staff_id, name in rows if staff_id is not None}
