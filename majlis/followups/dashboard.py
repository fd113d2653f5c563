"""The accountability dashboard: how the bodies keep their promises, per body, area, channel, category or month.

Every figure is computed in SQL, in a fixed number of statements whatever the number of cases: the periods (the
whole range, or each month of it) are a small derived table joined to the cases, and each family of figures is one
grouped statement over it. The cases counted are those that reached a body (a resident's request counts once the
office sent it on; the requests still waiting are a figure of their own). The definitions, for a period [start of
its first day, end of its last day):

- opened: cases opened in the period;
- open: cases opened before the period's end (or now, if earlier) and not closed by then; overdue: those of them
  whose due date is before the period's last day (or today) — "as of the end of the period";
- closed on time / closed late: cases closed (resolved, confirmed or declined) in the period, on or before their
  due date (a local date) or after it;
- median days to close: of the cases closed in the period, from opening to closing, in days (one decimal);
- satisfaction: the residents' "was it fixed?" answers given in the period, and their mean rating.

A case reopened by its resident counts as open until it is closed again: its first closing is not counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, Float, String, and_, case, cast, func, literal, or_, select, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import FunctionElement

from majlis.db import UTCDateTime
from majlis.directory.models import Area, GovernmentBody
from majlis.enums import CaseChannel, CaseStatus, FeedbackOutcome
from majlis.errors import InvalidInput
from majlis.followups.models import Case, CaseCategory, CaseFeedback

GROUPINGS = ("body", "area", "channel", "category", "month")
# The longest range the dashboard answers for (its monthly table has a row per month).
MAX_RANGE = timedelta(days=3660)


def _day(value: str | None, field: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        day = date.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidInput(_l("Enter a date as YYYY-MM-DD."), field=field) from None
    if not 2000 <= day.year <= 2100:
        raise InvalidInput(_l("Enter a date between 2000 and 2100."), field=field)
    return day


def parse_filters(args, *, today: date) -> tuple[date, date, str]:
    """The range and grouping asked for (`from`, `to`, `group_by`); by default the last twelve months, by body."""
    group_by = args.get("group_by") or "body"
    if group_by not in GROUPINGS:
        raise InvalidInput(_l("Group by body, area, channel, category or month."), field="group_by")
    end = _day(args.get("to"), "to") or today
    start = _day(args.get("from"), "from")
    if start is None:
        start = date(end.year - (1 if end.month < 12 else 0), end.month % 12 + 1, 1)
    if end < start:
        raise InvalidInput(_l("'to' must not be before 'from'."), field="to")
    if end - start > MAX_RANGE:
        raise InvalidInput(_l("Choose a range of at most ten years."), field="from")
    return start, end, group_by


# --- portable SQL -------------------------------------------------------------------------------------------------


class local_date(FunctionElement):  # noqa: N801 - reads as the SQL function it stands for
    """The calendar date of an instant in a time zone (PostgreSQL: timezone(); SQLite: a Python function)."""

    type = Date()
    inherit_cache = True
    name = "local_date"


@compiles(local_date, "postgresql")
def _local_date_pg(element, compiler, **kw):
    instant, zone = list(element.clauses)
    return (f"CAST(timezone(CAST({compiler.process(zone, **kw)} AS TEXT), {compiler.process(instant, **kw)}) "
            "AS DATE)")


@compiles(local_date, "sqlite")
def _local_date_sqlite(element, compiler, **kw):
    instant, zone = list(element.clauses)
    return f"majlis_local_date({compiler.process(instant, **kw)}, {compiler.process(zone, **kw)})"


class days_between(FunctionElement):  # noqa: N801
    """The days, with their fraction, from one instant to a later one."""

    type = Float()
    inherit_cache = True
    name = "days_between"


@compiles(days_between, "postgresql")
def _days_between_pg(element, compiler, **kw):
    start, end = list(element.clauses)
    return f"(EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - {compiler.process(start, **kw)})) / 86400.0)"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element, compiler, **kw):
    start, end = list(element.clauses)
    return f"(julianday({compiler.process(end, **kw)}) - julianday({compiler.process(start, **kw)}))"


# --- figures ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Satisfaction:
    answers: int = 0
    fixed: int = 0
    partly_fixed: int = 0
    not_fixed: int = 0
    rated: int = 0
    rating_sum: int = 0

    @property
    def average_rating(self) -> float | None:
        return round(self.rating_sum / self.rated, 1) if self.rated else None

    def __add__(self, other: Satisfaction) -> Satisfaction:
        return Satisfaction(*(a + b for a, b in zip(self._values(), other._values(), strict=True)))

    def _values(self) -> tuple[int, ...]:
        return (self.answers, self.fixed, self.partly_fixed, self.not_fixed, self.rated, self.rating_sum)


@dataclass(frozen=True)
class Figures:
    key: str | None  # body, area or category code, channel, or month YYYY-MM; None: not given
    name_ar: str
    name_en: str
    opened: int = 0
    open: int = 0
    overdue: int = 0
    closed_on_time: int = 0
    closed_late: int = 0
    median_days_to_close: float | None = None
    satisfaction: Satisfaction = field(default_factory=Satisfaction)

    @property
    def closed(self) -> int:
        return self.closed_on_time + self.closed_late


@dataclass(frozen=True)
class BacklogPoint:
    month: str
    open: int
    overdue: int


@dataclass(frozen=True)
class Dashboard:
    start: date
    end: date
    group_by: str
    groups: list[Figures]
    totals: Figures
    backlog: list[BacklogPoint]
    awaiting_triage: int


@dataclass(frozen=True)
class Period:
    key: str
    starts: datetime
    ends: datetime
    as_of: datetime  # when open and overdue are counted: the period's end, or now if earlier
    as_of_day: date  # overdue: due before this local day


def periods(start: date, end: date, *, monthly: bool, now: datetime, zone: ZoneInfo) -> list[Period]:
    """The whole range as one period, or its months (clipped to it); none that begins after now."""
    today = now.astimezone(zone).date()

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)

    spans: list[tuple[str, date, date]] = []
    if monthly:
        first = date(start.year, start.month, 1)
        while first <= end:
            following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
            spans.append((first.strftime("%Y-%m"), max(first, start), min(following - timedelta(days=1), end)))
            first = following
    else:
        spans.append(("all", start, end))
    found = []
    for key, first_day, last_day in spans:
        starts, ends = midnight(first_day), midnight(last_day + timedelta(days=1))
        if starts > now:
            continue
        found.append(Period(key, starts, ends, min(ends, now), min(last_day, today)))
    return found


def _table(spans: list[Period]):
    rows = [select(cast(literal(p.key), String(16)).label("key"), literal(p.starts, UTCDateTime()).label("starts"),
                   literal(p.ends, UTCDateTime()).label("ends"), literal(p.as_of, UTCDateTime()).label("as_of"),
                   literal(p.as_of_day, Date()).label("as_of_day"))
            for p in spans]
    return (union_all(*rows) if len(rows) > 1 else rows[0]).subquery("periods")


def _dimension(group_by: str):
    return {"body": Case.body_id, "area": Case.area_id, "channel": Case.channel, "category": Case.category_id,
            "month": None}[group_by]


def _grouped(table, dim, *columns):
    """SELECT period, dimension, columns ... GROUP BY both (or the period alone when grouping by month)."""
    statement = select(table.c.key, *([dim] if dim is not None else []), *columns)
    return statement, [table.c.key, *([dim] if dim is not None else [])]


def _rows(db_session: Session, statement, group, dim) -> dict[tuple, tuple]:
    found = {}
    for row in db_session.execute(statement.group_by(*group)):
        if dim is None:
            found[(row[0], None)] = tuple(row[1:])
        else:
            found[(row[0], row[1])] = tuple(row[2:])
    return found


# A body answers for the cases that reached it.
ASSIGNED = Case.assigned_at.is_not(None)


def _scope(filters) -> list:
    """The cases the figures count: those that reached a body, in the area and category asked for."""
    return [ASSIGNED, *(filters.conditions() if filters is not None else [])]


def _counts(db_session: Session, spans: list[Period], dim, zone: ZoneInfo, filters=None) -> dict[str, dict]:
    """Each family of figures by (period, dimension value): one statement each."""
    table = _table(spans)
    scope = _scope(filters)
    statement, group = _grouped(table, dim, func.count(Case.id))
    opened = _rows(db_session, statement.select_from(Case).join(
        table, and_(Case.opened_at >= table.c.starts, Case.opened_at < table.c.ends)).where(*scope), group, dim)

    statement, group = _grouped(table, dim, func.count(Case.id),
                                func.sum(case((Case.due_on < table.c.as_of_day, 1), else_=0)))
    still_open = _rows(db_session, statement.select_from(Case).join(table, and_(
        Case.opened_at < table.c.as_of, or_(Case.resolved_at.is_(None), Case.resolved_at >= table.c.as_of)))
        .where(*scope), group, dim)

    closed_in = and_(Case.resolved_at >= table.c.starts, Case.resolved_at < table.c.ends)
    on_time = local_date(Case.resolved_at, literal(zone.key)) <= Case.due_on
    statement, group = _grouped(table, dim, func.sum(case((on_time, 1), else_=0)),
                                func.sum(case((on_time, 0), else_=1)))
    closed = _rows(db_session, statement.select_from(Case).join(table, closed_in).where(*scope), group, dim)

    fb = CaseFeedback
    statement, group = _grouped(
        table, dim, func.count(fb.id), func.sum(case((fb.outcome == FeedbackOutcome.FIXED, 1), else_=0)),
        func.sum(case((fb.outcome == FeedbackOutcome.PARTLY_FIXED, 1), else_=0)),
        func.sum(case((fb.outcome == FeedbackOutcome.NOT_FIXED, 1), else_=0)), func.count(fb.rating),
        func.coalesce(func.sum(fb.rating), 0))
    satisfaction = _rows(db_session, statement.select_from(fb).join(Case, Case.id == fb.case_id).join(
        table, and_(fb.created_at >= table.c.starts, fb.created_at < table.c.ends)).where(*scope), group, dim)
    return {"opened": opened, "open": still_open, "closed": closed, "satisfaction": satisfaction,
            "median": _medians(db_session, table, dim, filters)}


def _medians(db_session: Session, table, dim, filters=None) -> dict[tuple, tuple]:
    """The median days to close per (period, dimension value), with window functions (both engines have them)."""
    closed_in = and_(Case.resolved_at >= table.c.starts, Case.resolved_at < table.c.ends)
    columns = [table.c.key.label("pk"), days_between(Case.opened_at, Case.resolved_at).label("days")]
    if dim is not None:
        columns.insert(1, dim.label("dk"))
    inner = select(*columns).select_from(Case).join(table, closed_in).where(*_scope(filters)).subquery("closed")
    partition = [inner.c.pk, *([inner.c.dk] if dim is not None else [])]
    ranked = select(*partition, inner.c.days,
                    func.row_number().over(partition_by=partition, order_by=inner.c.days).label("rn"),
                    func.count().over(partition_by=partition).label("n")).subquery("ranked")
    keys = [ranked.c.pk, *([ranked.c.dk] if dim is not None else [])]
    statement = select(*keys, func.avg(ranked.c.days)).where(
        ranked.c.rn * 2 >= ranked.c.n, ranked.c.rn * 2 <= ranked.c.n + 2)
    return _rows(db_session, statement, keys, dim)


def _labels(db_session: Session, group_by: str, spans: list[Period], seen: set) -> list[tuple]:
    """(dimension value, public key, Arabic name, English name) of every group to show, in display order."""
    if group_by == "body":
        rows = db_session.execute(select(GovernmentBody.id, GovernmentBody.code, GovernmentBody.name_ar,
                                         GovernmentBody.name_en, GovernmentBody.is_active)
                                  .order_by(GovernmentBody.id)).all()
        return [(r.id, r.code, r.name_ar, r.name_en) for r in rows if r.is_active or r.id in seen]
    if group_by == "area":
        rows = db_session.execute(select(Area.id, Area.code, Area.name_ar, Area.name_en).order_by(Area.id)).all()
        return [(r.id, r.code, r.name_ar, r.name_en) for r in rows]
    if group_by == "category":
        rows = db_session.execute(select(CaseCategory.id, CaseCategory.code, CaseCategory.name_ar,
                                         CaseCategory.name_en, CaseCategory.is_active)
                                  .order_by(CaseCategory.body_id, CaseCategory.code)).all()
        return [(r.id, r.code, r.name_ar, r.name_en) for r in rows if r.is_active or r.id in seen]
    if group_by == "channel":
        return [(channel, channel.value, *CHANNEL_NAMES[channel]) for channel in CaseChannel]
    return [(None, p.key, *month_names(p.key)) for p in spans]


CHANNEL_NAMES = {
    CaseChannel.MAJLIS: ("المجلس", "Majlis"),
    CaseChannel.FIELD_VISIT: ("زيارة ميدانية", "Field visit"),
    CaseChannel.APP: ("التطبيق", "App"),
    CaseChannel.WEBSITE: ("الموقع الإلكتروني", "Website"),
    CaseChannel.PHONE: ("الهاتف", "Phone"),
    CaseChannel.SOCIAL_MEDIA: ("وسائل التواصل الاجتماعي", "Social media"),
    CaseChannel.EMAIL: ("البريد الإلكتروني", "E-mail"),
}
MONTHS_AR = ("يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر",
             "ديسمبر")
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
NOT_GIVEN = ("غير محدد", "Not given")


def month_names(key: str) -> tuple[str, str]:
    year, month = (int(part) for part in key.split("-"))
    return f"{MONTHS_AR[month - 1]} {year}", f"{MONTHS_EN[month - 1]} {year}"


def _figures(key, name_ar, name_en, counts: dict, at: tuple) -> Figures:
    opened = counts["opened"].get(at, (0,))
    still_open = counts["open"].get(at, (0, 0))
    closed = counts["closed"].get(at, (0, 0))
    median = counts["median"].get(at, (None,))
    answers = counts["satisfaction"].get(at)
    return Figures(
        key, name_ar, name_en, opened=int(opened[0]), open=int(still_open[0]), overdue=int(still_open[1] or 0),
        closed_on_time=int(closed[0] or 0), closed_late=int(closed[1] or 0),
        median_days_to_close=round(float(median[0]), 1) if median[0] is not None else None,
        satisfaction=Satisfaction(*(int(v or 0) for v in answers)) if answers else Satisfaction())


def dashboard(db_session: Session, *, start: date, end: date, group_by: str, now: datetime,
              zone: ZoneInfo, filters=None) -> Dashboard:
    """The dashboard's figures for local days [start, end], grouped by body, area, channel, category or month;
    `filters` (a `followups.services.CaseFilters`) narrows every figure to an area and a category."""
    monthly = group_by == "month"
    spans = periods(start, end, monthly=monthly, now=now, zone=zone)
    dim = _dimension(group_by)
    empty = {"opened": {}, "open": {}, "closed": {}, "satisfaction": {}, "median": {}}
    counts = _counts(db_session, spans, dim, zone, filters) if spans else empty
    seen = {value for family in counts.values() for (_period, value) in family}
    groups = []
    if monthly:
        groups = [_figures(key, name_ar, name_en, counts, (key, None))
                  for _value, key, name_ar, name_en in _labels(db_session, group_by, spans, seen)]
    else:
        labelled = _labels(db_session, group_by, spans, seen)
        for value, key, name_ar, name_en in labelled:
            groups.append(_figures(key, name_ar, name_en, counts, ("all", value)))
        if None in seen:
            groups.append(_figures(None, *NOT_GIVEN, counts, ("all", None)))
    whole = periods(start, end, monthly=False, now=now, zone=zone)
    total_median = _medians(db_session, _table(whole), None, filters).get(("all", None), (None,))[0] if whole else None
    last = groups[-1] if monthly and groups else None
    totals = Figures(
        "all", "المجموع", "All", opened=sum(g.opened for g in groups),
        open=last.open if monthly and last else sum(g.open for g in groups),
        overdue=last.overdue if monthly and last else sum(g.overdue for g in groups),
        closed_on_time=sum(g.closed_on_time for g in groups), closed_late=sum(g.closed_late for g in groups),
        median_days_to_close=round(float(total_median), 1) if total_median is not None else None,
        satisfaction=sum((g.satisfaction for g in groups), Satisfaction()))
    if monthly:
        backlog = [BacklogPoint(g.key, g.open, g.overdue) for g in groups]
    else:
        backlog = _backlog(db_session, start, end, now=now, zone=zone, filters=filters)
    waiting = db_session.scalar(select(func.count(Case.id)).where(
        Case.status == CaseStatus.SUBMITTED, *(filters.conditions() if filters is not None else []))) or 0
    return Dashboard(start, end, group_by, groups, totals, backlog, int(waiting))


def _backlog(db_session: Session, start: date, end: date, *, now: datetime, zone: ZoneInfo,
             filters=None) -> list[BacklogPoint]:
    """Open and overdue cases at the end of each month of the range: one statement."""
    spans = periods(start, end, monthly=True, now=now, zone=zone)
    if not spans:
        return []
    table = _table(spans)
    rows = dict(((key, (count, overdue)) for key, count, overdue in db_session.execute(
        select(table.c.key, func.count(Case.id), func.sum(case((Case.due_on < table.c.as_of_day, 1), else_=0)))
        .select_from(Case).join(table, and_(Case.opened_at < table.c.as_of,
                                            or_(Case.resolved_at.is_(None), Case.resolved_at >= table.c.as_of)))
        .where(*_scope(filters)).group_by(table.c.key))))
    return [BacklogPoint(p.key, int(rows.get(p.key, (0, 0))[0]), int(rows.get(p.key, (0, 0))[1] or 0))
            for p in spans]
