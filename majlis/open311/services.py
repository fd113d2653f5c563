"""The public record of cases: what open data and Open311 publish, and nothing more.

A published case has reached a body (a request waiting for triage, or declined there, never has) and its category,
if it has one, is published (a sensitive category counts in the dashboard only). It carries no name, e-mail, phone,
account, description or comment: free text may hold personal details. Its location is its area, and its place
(address and point) only when the resident agreed to publish it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from majlis.directory.models import Area, GovernmentBody
from majlis.enums import CaseChannel, CaseStatus, FeedbackOutcome
from majlis.errors import InvalidInput
from majlis.followups.models import Case, CaseCategory, CaseFeedback

# The service of cases without a category (majlis questions from before categories).
GENERAL = "general"
GENERAL_NAMES = ("طلب عام", "General request")
PAGE = 1000  # Open311's default limit, and the size of each page of the open data files


@dataclass(frozen=True)
class PublicCase:
    id: int
    status: CaseStatus
    channel: CaseChannel
    reopened: int
    service_code: str
    service_name_ar: str
    service_name_en: str
    body_code: str
    body_name_ar: str
    body_name_en: str
    area_code: str | None
    area_name_ar: str | None
    area_name_en: str | None
    opened_at: datetime
    updated_at: datetime
    due_on: date
    resolved_at: datetime | None
    place_address: str | None  # only when the resident agreed to publish the place
    latitude: float | None
    longitude: float | None
    feedback_outcome: FeedbackOutcome | None = None
    feedback_rating: int | None = None

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    def closed_on_time(self, zone: ZoneInfo) -> bool | None:
        if self.resolved_at is None:
            return None
        return self.resolved_at.astimezone(zone).date() <= self.due_on

    def days_to_close(self) -> float | None:
        if self.resolved_at is None:
            return None
        return round((self.resolved_at - self.opened_at).total_seconds() / 86400, 1)


_BODY = aliased(GovernmentBody)


def _statement():
    return (
        select(Case.id, Case.status, Case.channel, Case.reopened_count, CaseCategory.code, CaseCategory.name_ar,
               CaseCategory.name_en, _BODY.code, _BODY.name_ar, _BODY.name_en, Area.code, Area.name_ar,
               Area.name_en, Case.opened_at, Case.updated_at, Case.due_on, Case.resolved_at, Case.place_is_public,
               Case.place_address, Case.latitude, Case.longitude)
        .select_from(Case)
        .join(_BODY, _BODY.id == Case.body_id)
        .outerjoin(CaseCategory, CaseCategory.id == Case.category_id)
        .outerjoin(Area, Area.id == Case.area_id)
        .where(Case.assigned_at.is_not(None), or_(Case.category_id.is_(None), CaseCategory.is_published))
    )


def _public(row, feedback: dict[int, tuple]) -> PublicCase:
    (case_id, status, channel, reopened, code, name_ar, name_en, body_code, body_ar, body_en, area_code, area_ar,
     area_en, opened_at, updated_at, due_on, resolved_at, place_public, address, latitude, longitude) = row
    outcome, rating = feedback.get(case_id, (None, None))
    return PublicCase(
        case_id, status, channel, reopened, code or GENERAL, name_ar or GENERAL_NAMES[0], name_en or GENERAL_NAMES[1],
        body_code, body_ar, body_en, area_code, area_ar, area_en, opened_at, updated_at, due_on, resolved_at,
        address if place_public else None, latitude if place_public else None, longitude if place_public else None,
        outcome, rating)


def _latest_feedback(db_session: Session, case_ids: Sequence[int]) -> dict[int, tuple]:
    if not case_ids:
        return {}
    rows = db_session.execute(select(CaseFeedback.case_id, CaseFeedback.outcome, CaseFeedback.rating)
                              .where(CaseFeedback.case_id.in_(case_ids)).order_by(CaseFeedback.round))
    return {case_id: (outcome, rating) for case_id, outcome, rating in rows}  # the last round wins


def _with_feedback(db_session: Session, rows) -> list[PublicCase]:
    rows = list(rows)
    feedback = _latest_feedback(db_session, [row[0] for row in rows])
    return [_public(row, feedback) for row in rows]


# --- Open311 ------------------------------------------------------------------------------------------------------

MAX_SPAN = timedelta(days=90)


@dataclass(frozen=True)
class RequestQuery:
    start: datetime
    end: datetime
    statuses: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    ids: tuple[int, ...] = ()


def _instant(value: str, field: str, zone: ZoneInfo) -> datetime:
    try:
        instant = datetime.fromisoformat(value.strip())
    except (AttributeError, ValueError):
        raise InvalidInput(_l("Give dates in ISO 8601 (w3c), e.g. 2026-01-31T00:00:00+03:00."), field=field) from None
    if not 2000 <= instant.year <= 2100:
        raise InvalidInput(_l("Give dates between 2000 and 2100."), field=field)
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=zone)


def _listed(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def request_query(args, *, now: datetime, zone: ZoneInfo) -> RequestQuery:
    """Read GeoReport v2's filters: `start_date`/`end_date` at most 90 days apart (the last 90 days by default),
    `status` (open, closed), `service_code`, and `service_request_id` (which overrides the others); lists are
    comma-separated."""
    ids = []
    for part in _listed(args.get("service_request_id")):
        if not (part.isascii() and part.isdecimal()) or not 0 < int(part) < 2**31:
            raise InvalidInput(_l("service_request_id takes ids separated by commas."), field="service_request_id")
        ids.append(int(part))
    statuses = _listed(args.get("status"))
    if any(status not in ("open", "closed") for status in statuses):
        raise InvalidInput(_l("status is open, closed, or both separated by a comma."), field="status")
    start = _instant(args["start_date"], "start_date", zone) if args.get("start_date") else None
    end = _instant(args["end_date"], "end_date", zone) if args.get("end_date") else None
    if start is None and end is None:
        end = now
    if start is None:
        start = end - MAX_SPAN
    if end is None:
        end = start + MAX_SPAN
    if end < start:
        raise InvalidInput(_l("end_date must not be before start_date."), field="end_date")
    if end - start > MAX_SPAN:
        raise InvalidInput(_l("start_date and end_date may be at most 90 days apart."), field="end_date")
    return RequestQuery(start, end, statuses, _listed(args.get("service_code")), tuple(ids))


def service_requests(db_session: Session, query: RequestQuery) -> list[PublicCase]:
    """List the published cases a GeoReport query asks for, newest first, at most 1000."""
    statement = _statement()
    if query.ids:
        statement = statement.where(Case.id.in_(query.ids))
    else:
        statement = statement.where(Case.opened_at >= query.start, Case.opened_at <= query.end)
        if set(query.statuses) == {"open"}:
            statement = statement.where(Case.resolved_at.is_(None))
        elif set(query.statuses) == {"closed"}:
            statement = statement.where(Case.resolved_at.is_not(None))
        if query.codes:
            named = [code for code in query.codes if code != GENERAL]
            conditions = [CaseCategory.code.in_(named)] if named else []
            if GENERAL in query.codes:
                conditions.append(Case.category_id.is_(None))
            statement = statement.where(or_(*conditions))
    return _with_feedback(db_session, db_session.execute(
        statement.order_by(Case.opened_at.desc(), Case.id.desc()).limit(PAGE)))


def service_request(db_session: Session, case_id: int) -> PublicCase | None:
    """Return one published case as a GeoReport service request, or None."""
    found = _with_feedback(db_session, db_session.execute(_statement().where(Case.id == case_id)))
    return found[0] if found else None


@dataclass(frozen=True)
class PublicService:
    code: str
    name_ar: str
    name_en: str
    body_name_ar: str
    body_name_en: str


def services(db_session: Session) -> list[PublicService]:
    """List the published, active categories as GeoReport services, and the general one."""
    rows = db_session.execute(
        select(CaseCategory.code, CaseCategory.name_ar, CaseCategory.name_en, GovernmentBody.name_ar,
               GovernmentBody.name_en).join(GovernmentBody, GovernmentBody.id == CaseCategory.body_id)
        .where(CaseCategory.is_active, CaseCategory.is_published).order_by(CaseCategory.body_id, CaseCategory.code))
    found = [PublicService(*row) for row in rows]
    return [*found, PublicService(GENERAL, *GENERAL_NAMES, "مكتب المحافظ", "The Governor's office")]


# --- open data ----------------------------------------------------------------------------------------------------


def all_published(db_session: Session, *, start: date | None, end: date | None, zone: ZoneInfo
                  ) -> Iterator[list[PublicCase]]:
    """Yield every published case opened in [start, end] (local days; open-ended when None), by id, a page at a time."""
    statement = _statement()
    if start is not None:
        statement = statement.where(Case.opened_at >= _midnight(start, zone))
    if end is not None:
        statement = statement.where(Case.opened_at < _midnight(end + timedelta(days=1), zone))
    last = 0
    while True:
        page = _with_feedback(db_session, db_session.execute(
            statement.where(Case.id > last).order_by(Case.id).limit(PAGE)))
        if not page:
            return
        yield page
        if len(page) < PAGE:
            return
        last = page[-1].id


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def last_category_change(db_session: Session) -> datetime | None:
    """Return when a case category last changed (GeoReport's changeset), or None without categories."""
    return db_session.scalar(select(func.max(CaseCategory.updated_at)))
