"""Impact by source and district (/staff/impact/reach, its CSV) and a changemaker's own figures
(/staff/changemaker).

Who sees what: supervisors and admins every source (or the people who came directly); a
caseworker their centre's sources; a changemaker only the sources they own, as aggregates,
never a phone number, a name, a message or a reference (their page has nothing else to show:
the figures are counted in the database and only counts reach it). A changemaker's aggregates
are also kept from describing one person: whole calendar months only, and a figure of what
people did or what became of them shows only from MIN_SHOWN up (see changemaker_figures)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from markupsafe import Markup
from sqlmodel import Session

from api.staff import validation
from api.staff.admin import _label, _period, _translator
from api.staff.charts import bar_chart, column_chart
from api.staff.web import DbSession, Signed, SignedIn, render, require_role
from bot.casework.csv_safe import csv_text
from bot.casework.staff import Role
from bot.content.staff_texts import Translator
from bot.conversation.intents import INTENTS
from bot.outreach.reach_figures import (
    COUNTS,
    OUTCOMES,
    Figures,
    Reach,
    reach,
    staff_names,
    visible_sources,
)
from bot.outreach.sources import Source

router = APIRouter()
ALL, DIRECT = "all", "direct"
MAX_DISTRICT = 100
# A period of years still draws its last three as columns; the table and CSV have every month.
CHART_MONTHS = 36
# The CSV's figure columns: Figures' counts, then questions per intent.
CSV_FIGURES = COUNTS
OTHER_TOPIC = "other"
# A changemaker may know the one person behind a small figure: they referred someone they know,
# or met them at a session, and a narrow period then shows that person's complaint, whether it
# was resolved, what they asked and how they answered a check-in. So on the changemaker's page a
# figure of what people did or what became of them shows only when it is at least MIN_SHOWN
# (below it, "fewer than 5"); 0 is hidden too (it would say the person did not complain).
MIN_SHOWN = 5
HIDDEN_BELOW_MIN = ("questions", "licence_checks", "complaints", "resolved", "checkins_answered")
# Exact even when small: a changemaker needs to see that the people they brought are counted,
# and a count of people (or of sessions they held themselves) says nothing about anyone.
EXACT = ("people", "sessions", "attendees")


@dataclass
class Scope:
    visible: list[Source]  # the sources this person may choose from
    ids: list[int | None] | None  # counted: None is everything
    source: str  # what was chosen: ALL, DIRECT or a code
    district: str


def _scope(request: Request, signed: Signed, session: Session, source: str,
           district: str) -> Scope:
    """Whose figures this person asked for, within what they may see."""
    staff = signed.staff
    if staff.role == Role.CHANGEMAKER:
        visible = visible_sources(session, owner_staff_id=staff.id)
    elif staff.role == Role.CASEWORKER:
        visible = visible_sources(session, centre=staff.centre)
    else:
        visible = visible_sources(session)
    everyone = staff.role in (Role.ADMIN, Role.SUPERVISOR)
    codes = {s.code: s.id for s in visible}
    # "all" and "direct" in lower case: a code is upper case, and "ALL" is a possible code.
    chosen = validation.text(source, "source", max_length=12) or ALL
    ids: list[int | None] | None
    if chosen == ALL:
        ids = None if everyone else list(codes.values())
    elif chosen == DIRECT and everyone:
        ids = [None]
    elif chosen.upper() in codes:
        chosen = chosen.upper()
        ids = [codes[chosen]]
    else:  # not theirs, or no such source: the same answer, so codes cannot be probed
        raise HTTPException(404, "no such source among yours")
    place = validation.text(district, "district", max_length=MAX_DISTRICT)
    place = (request.app.state.bot.content.district_in(place) or place).lower()
    return Scope(visible, ids, chosen, place)


def _figures(request: Request, signed: Signed, session: Session, *, start: str, end: str,
             source: str, district: str) -> tuple[Scope, Reach]:
    scope = _scope(request, signed, session, source, district)
    since, to = _period(start, end)
    return scope, reach(session, start=since, end=to, sources=scope.ids,
                        district=scope.district or None)


def _whole_months(since: datetime, to: datetime) -> tuple[datetime, datetime]:
    """[since, to) widened to [first day of since's month, first day of the month after the
    one the period's last moment falls in)."""
    first = since.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    last = (to - timedelta(microseconds=1)).replace(day=1, hour=0, minute=0, second=0,
                                                    microsecond=0)
    return first, (last + timedelta(days=32)).replace(day=1)


def _source_label(t: Translator, source: Source | None) -> str:
    return f"{source.code} · {source.name}" if source else t("reach_direct")


def _charts(t: Translator, figures: Reach, owners: dict[int, str]) -> dict[str, Markup]:
    total, months = figures.total(), figures.by_month()[-CHART_MONTHS:]
    by_source = sorted(figures.by_source().items(), key=lambda item: -item[1].people)
    by_district = sorted(figures.by_district().items(), key=lambda item: -item[1].complaints)
    return {
        "people_by_month": column_chart([(m, f.people) for m, f in months]),
        "questions_by_month": column_chart([(m, f.questions) for m, f in months]),
        "people_by_source": bar_chart([(_source_label(t, figures.sources.get(s or 0)), f.people)
                                       for s, f in by_source if f.people]),
        "people_by_changemaker": bar_chart(
            sorted(((owners.get(o, str(o)), f.people) for o, f in
                    figures.by_changemaker().items() if f.people), key=lambda x: -x[1])),
        "people_by_district": bar_chart(sorted(
            ((d or t("reach_no_district"), f.people) for d, f in figures.by_district().items()
             if f.people), key=lambda x: -x[1])),
        "complaints_by_district": bar_chart([(d or t("reach_no_district"), f.complaints)
                                             for d, f in by_district if f.complaints]),
        "questions_by_topic": bar_chart([(_label(t, "intent", k), n)
                                         for k, n in total.topics.most_common()]),
        "outcomes": bar_chart([(t(f"reach_outcome_{o}"), getattr(total, o))
                               for o in OUTCOMES if getattr(total, o)]),
        "referred_to": bar_chart([(_label(t, "referred_to", k), n)
                                  for k, n in total.referred_to.most_common()]),
    }


def _owners(session: Session, figures: Reach) -> dict[int, str]:
    """The changemakers' names of the sources in the figures, by staff id."""
    return staff_names(session, (s.owner_staff_id for s in figures.sources.values()
                                 if s.owner_staff_id))


def _dates(figures: Reach) -> tuple[str, str]:
    return (figures.start.date().isoformat(),
            (figures.end - timedelta(seconds=1)).date().isoformat())


@router.get("/impact/reach")
def reach_page(request: Request, signed: SignedIn, session: DbSession, start: str = "",
               end: str = "", source: str = "", district: str = ""):
    require_role(signed, Role.ADMIN, Role.SUPERVISOR, Role.CASEWORKER)
    scope, figures = _figures(request, signed, session, start=start, end=end, source=source,
                              district=district)
    t = _translator(request, signed)
    owners = _owners(session, figures)
    first_day, last_day = _dates(figures)
    query = {"start": first_day, "end": last_day, "source": scope.source,
             "district": scope.district}
    rows = sorted(figures.by_source().items(), key=lambda item: -item[1].people)
    return render(request, "reach.html", signed, figures=figures, total=figures.total(),
                  charts=_charts(t, figures, owners), scope=scope, start=first_day,
                  end=last_day, csv_query=urlencode(query), owners=owners,
                  by_source=[(figures.sources.get(s or 0), f) for s, f in rows],
                  by_month=figures.by_month(),
                  everyone=signed.staff.role in (Role.ADMIN, Role.SUPERVISOR))


@router.get("/impact/reach.csv")
def reach_csv(request: Request, signed: SignedIn, session: DbSession, start: str = "",
              end: str = "", source: str = "", district: str = ""):
    require_role(signed, Role.ADMIN, Role.SUPERVISOR, Role.CASEWORKER)
    _, figures = _figures(request, signed, session, start=start, end=end, source=source,
                          district=district)
    owners = _owners(session, figures)
    return Response(csv_text(csv_rows(figures, owners)), media_type="text/csv",
                    headers={"Content-Disposition":
                             'attachment; filename="rahnuma-reach.csv"'})


def csv_rows(figures: Reach, owners: dict[int, str]) -> list[list[object]]:
    """One row per month × source × district with every figure; questions per intent last.
    Every cell goes through csv_safe: a district or a source name typed as a formula stays
    text."""
    header: list[object] = ["month", "source_code", "source_name", "source_kind",
                            "changemaker", "district", *CSV_FIGURES,
                            *(f"questions_{i}" for i in INTENTS), f"questions_{OTHER_TOPIC}"]
    rows = [header]
    for cell, f in sorted(figures.cells.items(), key=lambda item: (
            item[0].month, _code(figures, item[0].source_id), item[0].district)):
        source = figures.sources.get(cell.source_id or 0)
        owner = source.owner_staff_id if source else None
        other = sum(n for intent, n in f.topics.items() if intent not in INTENTS)
        rows.append([cell.month, source.code if source else DIRECT,
                     source.name if source else "", source.kind if source else "",
                     owners.get(owner, "") if owner else "", cell.district,
                     *(getattr(f, name) for name in CSV_FIGURES),
                     *(f.topics.get(i, 0) for i in INTENTS), other])
    return rows


def _code(figures: Reach, source_id: int | None) -> str:
    source = figures.sources.get(source_id or 0)
    return source.code if source else ""


@router.get("/changemaker")
def changemaker_page(request: Request, signed: SignedIn, session: DbSession, start: str = "",
                     end: str = "", source: str = ""):
    """A changemaker's own sources, in figures only, whole calendar months only (a one-day
    period would show the one person who wrote that day)."""
    require_role(signed, Role.CHANGEMAKER)
    if not start:  # by default everything since their first source was made
        mine = visible_sources(session, owner_staff_id=signed.staff.id)
        first: datetime | None = min((s.created_at for s in mine), default=None)
        start = first.date().isoformat() if first and not end else ""
    scope = _scope(request, signed, session, source, "")
    since, to = _whole_months(*_period(start, end))
    # Counted over all their sources even when one is chosen: the chosen one's figures are its
    # row of the same table, so one view cannot be subtracted from another.
    everything = reach(session, start=since, end=to, sources=[s.id for s in scope.visible])
    per_source = everything.by_source()
    shown = changemaker_figures(_translator(request, signed), everything.total(),
                                [per_source.get(s.id, Figures()) for s in scope.visible])
    rows = list(zip(scope.visible, shown.by_source, strict=True))
    total = shown.total if scope.source == ALL else next(
        row for s, row in rows if s.code == scope.source)
    chosen = {s.id for s in scope.visible if scope.source in (ALL, s.code)}
    months = Reach(since, to, {c: f for c, f in everything.cells.items()
                               if c.source_id in chosen}, everything.sources).by_month()
    charts = {  # only the charts this page draws; people by month is exact, as people are
        "people_by_month": column_chart([(m, f.people) for m, f in months[-CHART_MONTHS:]]),
        "questions_by_topic": bar_chart(shown.topics) if shown.topics else
        Markup('<p class="muted">{}</p>').format(shown.fewer)}
    first_day, last_day = _dates(everything)
    return render(request, "changemaker.html", signed, total=total, scope=scope,
                  start=first_day, end=last_day, charts=charts, by_source=rows,
                  all_chosen=scope.source == ALL)


@dataclass
class Shown:
    """What a changemaker's page may show: each figure as its number, or the words "fewer
    than 5" where it must not show."""

    fewer: str  # "fewer than 5", in the page's language
    total: dict[str, int | str]
    by_source: list[dict[str, int | str]]  # in the order of the sources given
    topics: list[tuple[str, int]]  # questions by topic, small topics as one row


def changemaker_figures(t: Translator, total: Figures, per_source: Sequence[Figures]) -> Shown:
    """The one place a changemaker's figures are kept from describing a person: every figure
    of what people did or what became of them below MIN_SHOWN becomes "fewer than 5", in the
    totals, in each source's row and per topic (the small topics are grouped into one row);
    people reached, sessions and attendees stay exact."""
    fewer = t("reach_cm_fewer", n=MIN_SHOWN)

    def shown(values: Sequence[int]) -> list[int | str]:
        return [fewer if v is None else v for v in _hide_small(values)]

    totals = {name: getattr(total, name) for name in EXACT}
    totals |= {name: shown([getattr(total, name)])[0] for name in HIDDEN_BELOW_MIN}
    rows: list[dict[str, int | str]] = [{name: getattr(f, name) for name in EXACT}
                                        for f in per_source]
    for name in HIDDEN_BELOW_MIN:
        for row, value in zip(rows, shown([getattr(f, name) for f in per_source]), strict=True):
            row[name] = value
    counted = total.topics.most_common()
    kept = _hide_small([n for _, n in counted])
    topics = [(_label(t, "intent", k), n) for (k, _), n in zip(counted, kept, strict=True)
              if n is not None]
    other = sum(n for (_, n), k in zip(counted, kept, strict=True) if k is None)
    if other >= MIN_SHOWN:
        topics.append((t("reach_cm_other_topics", n=MIN_SHOWN), other))
    return Shown(fewer, totals, rows, topics)


def _hide_small(values: Sequence[int]) -> list[int | None]:
    """Each value, or None where it must not show: below MIN_SHOWN. And while the hidden ones
    add up to less than MIN_SHOWN, the smallest shown one is hidden too: the total beside
    them would otherwise give a hidden one away by subtraction (7 in all, 6 shown: 1)."""
    kept: list[int | None] = [v if v >= MIN_SHOWN else None for v in values]
    hidden = sum(v for v, k in zip(values, kept, strict=True) if k is None)
    for value, index in sorted((v, i) for i, v in enumerate(values) if kept[i] is not None):
        if None not in kept or hidden >= MIN_SHOWN:
            break
        kept[index], hidden = None, hidden + value
    return kept
