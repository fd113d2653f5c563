"""Follow-up cases: a need from any channel becomes a case for a government body, followed until it is resolved.

Cases come from a majlis question (`open_case`), from the office on behalf of a resident who phoned, wrote or was
met on a field visit (`open_channel_case`), or from a resident's own request on the website or the app
(`submit_request`, then `triage`). From there every case is the same: dated updates, hand-overs, a due date,
overdue flags, the coordinating agenda and, after its resolution, the resident's "was it fixed?" (`give_feedback`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session, selectinload

from majlis.audit import services as audit
from majlis.auth import permissions
from majlis.auth.models import User
from majlis.directory import services as directory
from majlis.directory.models import Area, GovernmentBody
from majlis.enums import CaseChannel, CaseStatus, FeedbackOutcome, QuestionStatus
from majlis.errors import Conflict, Forbidden, InvalidInput, NotFound, as_id
from majlis.followups.models import Case, CaseCategory, CaseFeedback, CaseUpdate
from majlis.followups.schemas import ADDRESS_MAX, MAX_COMMENT, MAX_TEXT, MIN_DESCRIPTION, REFERENCE_MAX
from majlis.questions.models import Question
from majlis.sessions.models import MajlisSession
from majlis.sessions.services import parse_day


def N_(text: str) -> str:  # noqa: N802 - the conventional no-op marker that pybabel extracts
    """Mark a text for translation without translating it here (it is stored as its catalog id)."""
    return text


# Notes Majlis itself writes into a case's history. They are stored as their catalog id (English) and said in the
# reader's language; rows written before hold the Arabic of the time, which is recognised too.
CASE_OPENED = N_("Case opened.")
REQUEST_RECEIVED = N_("Request received.")
SENT_TO_BODY = N_("Sent to the government body.")
SYSTEM_NOTES = (CASE_OPENED, REQUEST_RECEIVED, SENT_TO_BODY)
_system_note_ids: dict[str, str] = {}


def update_text(update: CaseUpdate) -> str:
    """Render a history entry's text in the reader's language: Majlis's own notes translated, people's words as
    written."""
    text = update.text or ""
    if not _system_note_ids:
        with force_locale("ar"):
            _system_note_ids.update({gettext(note): note for note in SYSTEM_NOTES})
        _system_note_ids.update({note: note for note in SYSTEM_NOTES})
    note = _system_note_ids.get(text)
    return gettext(note) if note is not None else text

C = CaseStatus
# With the body: counted as open, flagged when overdue, listed on the agenda.
OPEN_STATES = (C.OPEN, C.IN_PROGRESS)
CLOSED_STATES = (C.RESOLVED, C.DECLINED, C.CONFIRMED)
# Not closed, whether or not triaged yet: what the resident still waits for.
UNRESOLVED_STATES = (C.SUBMITTED, *OPEN_STATES)
REOPEN_WINDOW = timedelta(days=14)
# "Was it fixed?" can be answered this long after the resolution (the notice goes out some days after it).
FEEDBACK_WINDOW = timedelta(days=30)
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()-]{5,30}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def local_today(now: datetime, zone: ZoneInfo) -> date:
    """Return today's date in the given time zone."""
    return now.astimezone(zone).date()


# --- input ------------------------------------------------------------------------------------------------------


def _text(value, *, required: bool, field: str = "text", limit: int = MAX_TEXT) -> str:
    if value is not None and not isinstance(value, str):
        raise InvalidInput(_l("Write it as text."), field=field)
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(_l("Write the update."), field=field)
    if len(text) > limit:
        raise InvalidInput(_l("The text is too long (at most %(n)s characters).", n=limit), field=field)
    return text


def _optional_line(value, *, field: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(_l("Write it as text."), field=field)
    text = " ".join(value.split())
    if len(text) > limit:
        raise InvalidInput(_l("The text is too long (at most %(n)s characters).", n=limit), field=field)
    return text or None


def _description(value) -> str:
    if not isinstance(value, str):
        raise InvalidInput(_l("Describe the request."), field="description")
    text = "\n".join(" ".join(line.split()) for line in value.strip().splitlines()).strip()
    if len(text) < MIN_DESCRIPTION:
        raise InvalidInput(_l("Describe the request."), field="description")
    if len(text) > MAX_TEXT:
        raise InvalidInput(_l("The text is too long (at most %(n)s characters).", n=MAX_TEXT),
                           field="description")
    return text


def _body(db_session: Session, value, field: str = "body_id") -> GovernmentBody:
    if as_id(value) is None:
        raise InvalidInput(_l("Choose a government body."), field=field)
    body = db_session.get(GovernmentBody, as_id(value))
    if body is None or not body.is_active:
        raise InvalidInput(_l("Choose a government body."), field=field)
    return body


def _category(db_session: Session, value, field: str = "category") -> CaseCategory:
    """An active category by its code."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(_l("Choose a category from the list."), field=field)
    category = db_session.scalar(select(CaseCategory).where(CaseCategory.code == value.strip()))
    if category is None or not category.is_active:
        raise InvalidInput(_l("Choose a category from the list."), field=field)
    return category


def _channel(value) -> CaseChannel:
    try:
        return CaseChannel(value)
    except ValueError:
        raise InvalidInput(_l("Choose a channel from the list."), field="channel") from None


def _area(db_session: Session, value) -> Area | None:
    return directory.chosen_area(db_session, value, field="area_id")


def _coordinate(value, *, field: str, limit: float) -> float | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise InvalidInput(_l("Enter the place's latitude and longitude as numbers."), field=field)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(_l("Enter the place's latitude and longitude as numbers."), field=field) from None
    if not -limit <= number <= limit:  # also refuses NaN
        raise InvalidInput(_l("Enter the place's latitude and longitude as numbers."), field=field)
    return number


def _place(value) -> dict:
    """The optional place: an address, a point, and whether the resident agreed to publish it."""
    if value in (None, {}):
        return {"place_address": None, "latitude": None, "longitude": None, "place_is_public": False}
    if not isinstance(value, dict):
        raise InvalidInput(_l("Give the place as an object with address, lat and lon."), field="place")
    latitude = _coordinate(value.get("lat"), field="lat", limit=90)
    longitude = _coordinate(value.get("lon"), field="lon", limit=180)
    if (latitude is None) != (longitude is None):
        raise InvalidInput(_l("Give both the latitude and the longitude, or neither."), field="lat")
    public = value.get("public", False)
    if not isinstance(public, bool):
        raise InvalidInput(_l("Say yes or no."), field="public")
    return {"place_address": _optional_line(value.get("address"), field="address", limit=ADDRESS_MAX),
            "latitude": latitude, "longitude": longitude, "place_is_public": public}


def _contact(value) -> dict:
    """Contact details given by phone, social media or e-mail (never published)."""
    if value in (None, {}):
        return {"contact_name": None, "contact_phone": None, "contact_email": None}
    if not isinstance(value, dict):
        raise InvalidInput(_l("Give the contact as an object with name, phone and email."), field="contact")
    name = _optional_line(value.get("name"), field="contact_name", limit=120)
    phone = _optional_line(value.get("phone"), field="contact_phone", limit=32)
    email = _optional_line(value.get("email"), field="contact_email", limit=254)
    if phone is not None and not PHONE_RE.match(phone):
        raise InvalidInput(_l("Enter a phone number, digits with an optional leading +."), field="contact_phone")
    if email is not None and not EMAIL_RE.match(email):
        raise InvalidInput(_l("Enter a valid e-mail address."), field="contact_email")
    return {"contact_name": name, "contact_phone": phone, "contact_email": email.lower() if email else None}


def _due(value, *, default: date, today: date) -> date:
    if value in (None, ""):
        return default
    due = parse_day(value, "due_on")  # the one date parser: its supported years, the field named
    if due < today:
        raise InvalidInput(_l("The due date cannot be in the past."), field="due_on")
    if due > today + timedelta(days=3650):
        raise InvalidInput(_l("The due date is too far ahead."), field="due_on")
    return due


def _reference(value) -> str | None:
    if value in (None, ""):
        return None
    reference = str(value).strip()
    if len(reference) > REFERENCE_MAX:
        raise InvalidInput(_l("The reference number is too long (at most %(n)s characters).", n=REFERENCE_MAX),
                           field="reference")
    return reference or None


# --- categories ---------------------------------------------------------------------------------------------------


def list_categories(db_session: Session, *, active_only: bool = True) -> list[CaseCategory]:
    """List the categories, by body then name, each with its body loaded."""
    statement = select(CaseCategory).options(selectinload(CaseCategory.body)).order_by(
        CaseCategory.body_id, CaseCategory.code)
    if active_only:
        statement = statement.where(CaseCategory.is_active)
    return list(db_session.scalars(statement))


def _days(value) -> int:
    number = as_id(value)
    if number is None or number > 3650:
        raise InvalidInput(_l("Enter a whole number of days from 1 to 3650."), field="days_to_resolve")
    return number


def _category_values(db_session: Session, data: dict) -> dict:
    values = {}
    for field in ("name_ar", "name_en"):
        name = _optional_line(data.get(field), field=field, limit=200)
        if name is None or len(name) < 2:
            raise InvalidInput(_l("Write the name (2 to 200 characters)."), field=field)
        values[field] = name
    values["body_id"] = _body(db_session, data.get("body_id")).id
    values["days_to_resolve"] = _days(data.get("days_to_resolve"))
    for flag in ("is_active", "is_published"):
        if flag in data:
            if not isinstance(data[flag], bool):
                raise InvalidInput(_l("Say yes or no."), field=flag)
            values[flag] = data[flag]
    return values


def create_category(db_session: Session, data: dict, *, actor: User, now: datetime) -> CaseCategory:
    """Add a category to a body's list (staff and administrators)."""
    if not permissions.is_staff(actor):
        raise Forbidden()
    code = data.get("code")
    if not isinstance(code, str) or not CODE_RE.match(code.strip()):
        raise InvalidInput(_l("Use 2 to 64 lower-case Latin letters, digits and hyphens."), field="code")
    code = code.strip()
    if db_session.scalar(select(CaseCategory.id).where(CaseCategory.code == code)) is not None:
        raise InvalidInput(_l("Another category has this code."), field="code")
    category = CaseCategory(code=code, **_category_values(db_session, data), created_at=now, updated_at=now)
    db_session.add(category)
    db_session.flush()
    audit.record(db_session, actor_id=actor.id, action="category.create", object_type="case_category",
                 object_id=category.id, now=now, data={"code": code})
    return category


def update_category(db_session: Session, category: CaseCategory, data: dict, *, actor: User,
                    now: datetime) -> CaseCategory:
    """Change a category's names, body, days or flags; its code stays (it is published)."""
    if not permissions.is_staff(actor):
        raise Forbidden()
    for key, value in _category_values(db_session, data).items():
        setattr(category, key, value)
    category.updated_at = now
    audit.record(db_session, actor_id=actor.id, action="category.update", object_type="case_category",
                 object_id=category.id, now=now, data={"code": category.code})
    return category


# --- opening ------------------------------------------------------------------------------------------------------


def _new_case(db_session: Session, case: Case, actor: User, *, now: datetime, note, audit_data: dict) -> Case:
    db_session.add(case)
    db_session.flush()
    db_session.add(CaseUpdate(case_id=case.id, author_id=actor.id, text=note, new_status=case.status,
                              to_body_id=case.body_id if case.status != C.SUBMITTED else None, created_at=now))
    audit.record(db_session, actor_id=actor.id, action="case.open", object_type="case", object_id=case.id,
                 to_state=case.status.value, now=now, data={"channel": case.channel.value, **audit_data})
    return case


def open_case(db_session: Session, question: Question, moderator: User, *, body_id, now: datetime, zone: ZoneInfo,
              due_on=None, reference=None, category=None) -> Case:
    """Turn a question into a case for a body, due by the category's or the body's days unless a date is given."""
    if not permissions.is_office(moderator):
        raise Forbidden(_l("Only the Governor's office opens cases."))
    if question.status in (QuestionStatus.REJECTED, QuestionStatus.WITHDRAWN):
        raise Conflict(_l("A rejected or withdrawn question cannot become a case."), code="illegal_transition")
    if db_session.scalar(select(Case.id).where(Case.question_id == question.id)) is not None:
        raise Conflict(_l("This question is already a case."), code="case_exists")
    body = _body(db_session, body_id)
    chosen = None if category in (None, "") else _category(db_session, category)
    if chosen is not None and chosen.body_id != body.id:
        raise InvalidInput(_l("Choose a category of this government body."), field="category")
    today = local_today(now, zone)
    due = _due(due_on, default=today + timedelta(days=chosen.days_to_resolve if chosen else body.sla_days),
               today=today)
    case = Case(channel=CaseChannel.MAJLIS, question_id=question.id, session_id=question.session_id,
                resident_id=question.author_id, is_anonymous=question.is_anonymous and question.author_id is not None,
                body_id=body.id, category_id=chosen.id if chosen else None,
                area_id=question.author.area_id if question.author else None, description=question.body,
                status=C.OPEN, due_on=due, reference_number=_reference(reference), opened_by_id=moderator.id,
                opened_at=now, assigned_at=now, created_at=now, updated_at=now)
    _new_case(db_session, case, moderator, now=now, note=CASE_OPENED,
              audit_data={"question": question.id, "body": body.id})
    from majlis.followups import notices

    notices.case_opened(db_session, case, now=now)
    if case.is_anonymous:
        notices.case_contact_consent(db_session, case, now=now)
    return case


def open_channel_case(db_session: Session, data: dict, actor: User, *, now: datetime, zone: ZoneInfo) -> Case:
    """Open a case the office received by any channel: a call, a post, an e-mail, a field visit's observation.

    It goes straight to its body. It follows a resident's account (`resident_id`), or keeps the contact details
    given (`contact`), or neither (an observation of the governor's).
    """
    if not permissions.is_office(actor):
        raise Forbidden(_l("Only the Governor's office opens cases."))
    channel = _channel(data.get("channel"))
    body = _body(db_session, data.get("body_id"))
    category = _category(db_session, data.get("category"))
    if category.body_id != body.id:
        raise InvalidInput(_l("Choose a category of this government body."), field="category")
    area = _area(db_session, data.get("area_id"))
    description = _description(data.get("description"))
    resident = None
    if data.get("resident_id") not in (None, ""):
        resident = db_session.get(User, as_id(data["resident_id"])) if as_id(data["resident_id"]) else None
        if resident is None or resident.is_disabled:
            raise InvalidInput(_l("No account has this id."), field="resident_id")
    session_id = None
    if data.get("session_id") not in (None, ""):
        found = db_session.get(MajlisSession, as_id(data["session_id"])) if as_id(data["session_id"]) else None
        if found is None:
            raise InvalidInput(_l("No session has this id."), field="session_id")
        session_id = found.id
    today = local_today(now, zone)
    case = Case(channel=channel, resident_id=resident.id if resident else None, session_id=session_id,
                body_id=body.id, category_id=category.id, area_id=area.id if area else None,
                description=description, **_contact(data.get("contact")), **_place(data.get("place")),
                status=C.OPEN, due_on=_due(data.get("due_on"), default=today + timedelta(days=category.days_to_resolve),
                                           today=today),
                reference_number=_reference(data.get("reference")), opened_by_id=actor.id, opened_at=now,
                assigned_at=now, created_at=now, updated_at=now)
    _new_case(db_session, case, actor, now=now, note=CASE_OPENED, audit_data={"body": body.id})
    from majlis.followups import notices

    notices.case_opened(db_session, case, now=now)
    return case


def submit_request(db_session: Session, data: dict, resident: User, *, channel: CaseChannel, now: datetime,
                   zone: ZoneInfo) -> Case:
    """Record a resident's own request from the website or the app: it waits in the office's queue to be triaged.

    It is due by its category's days from today: the resident's clock starts when they ask.
    """
    if not permissions.is_resident(resident):
        raise Forbidden(_l("Only residents send requests."), code="residents_only")
    if channel not in (CaseChannel.WEBSITE, CaseChannel.APP):
        raise InvalidInput(_l("Choose a channel from the list."), field="channel")
    category = _category(db_session, data.get("category"))
    area = _area(db_session, data.get("area_id"))
    if area is None and resident.area_id is not None and "area_id" not in data:
        area = resident.area
    case = Case(channel=channel, resident_id=resident.id, body_id=category.body_id, category_id=category.id,
                area_id=area.id if area else None, description=_description(data.get("description")),
                **_place(data.get("place")), status=C.SUBMITTED,
                due_on=local_today(now, zone) + timedelta(days=category.days_to_resolve),
                opened_by_id=resident.id, opened_at=now, created_at=now, updated_at=now)
    return _new_case(db_session, case, resident, now=now, note=REQUEST_RECEIVED,
                     audit_data={"category": category.code})


def triage(db_session: Session, case: Case, actor: User, *, category, now: datetime, zone: ZoneInfo,
           due_on=None) -> Case:
    """Send a waiting request to the body of the category the office chose (the resident's, or another)."""
    if not permissions.is_office(actor):
        raise Forbidden(_l("Only the Governor's office triages requests."))
    db_session.refresh(case, with_for_update=True)  # two of the office at once: one triages, the other is told
    if case.status != C.SUBMITTED:
        raise Conflict(_l("This request was already triaged."), code="already_triaged")
    chosen = _category(db_session, category)
    opened_day = local_today(case.opened_at, zone)
    if chosen.id != case.category_id:
        default_due = opened_day + timedelta(days=chosen.days_to_resolve)
    else:
        default_due = case.due_on
    case.due_on = _due(due_on, default=default_due, today=min(opened_day, local_today(now, zone)))
    case.category_id, case.body_id, case.status = chosen.id, chosen.body_id, C.OPEN
    case.assigned_at = case.updated_at = now
    db_session.add(CaseUpdate(case_id=case.id, author_id=actor.id, text=SENT_TO_BODY,
                              old_status=C.SUBMITTED, new_status=C.OPEN, to_body_id=chosen.body_id,
                              created_at=now))
    audit.record(db_session, actor_id=actor.id, action="case.triage", object_type="case", object_id=case.id,
                 from_state=C.SUBMITTED.value, to_state=C.OPEN.value, now=now,
                 data={"category": chosen.code, "body": chosen.body_id})
    db_session.flush()
    from majlis.followups import notices

    notices.case_opened(db_session, case, now=now)
    return case


def triage_queue(db_session: Session) -> list[Case]:
    """List the requests waiting to be triaged, oldest first."""
    return list(db_session.scalars(
        select(Case).where(Case.status == C.SUBMITTED)
        .options(selectinload(Case.category), selectinload(Case.area), selectinload(Case.body))
        .order_by(Case.opened_at, Case.id)))


# --- who sees what ------------------------------------------------------------------------------------------------


def can_view(user: User | None, case: Case) -> bool:
    """Tell whether the user may see the case (the office, its resident, its body once triaged)."""
    if user is None:
        return False
    if permissions.is_office(user) or (case.resident_id is not None and case.resident_id == user.id):
        return True
    # A request waiting for triage is not the body's yet.
    return permissions.is_official(user) and user.body_id == case.body_id and case.status != C.SUBMITTED


def hides_resident(user: User | None, case: Case) -> bool:
    """Tell whether the viewer must not learn who raised the case: the body, while the asker of an anonymous question
    has not agreed to be contacted (it sees "a resident"; the office relays)."""
    if user is None or permissions.is_office(user) or (case.resident_id is not None and case.resident_id == user.id):
        return False
    return case.is_anonymous and case.contact_consent is not True


def sees_contact(user: User | None, case: Case) -> bool:
    """Tell whether the viewer sees who raised the case and how to reach them (the office, and the body unless the
    resident is hidden from it; never the public)."""
    return user is not None and (permissions.is_office(user) or permissions.is_official(user)) \
        and can_view(user, case) and not hides_resident(user, case)


def consent_state(case: Case) -> str | None:
    """Tell where the question of contact stands: None (not an anonymous case), pending, agreed or declined."""
    if not case.is_anonymous:
        return None
    return {None: "pending", True: "agreed", False: "declined"}[case.contact_consent]


def answer_contact_consent(db_session: Session, case: Case, resident: User, *, agree, now: datetime) -> Case:
    """Record whether the resident of an anonymous case lets its body contact them (they may change their mind)."""
    if resident is None or case.resident_id is None or resident.id != case.resident_id:
        raise Forbidden(_l("Only the resident who raised the case answers this."), code="not_your_case")
    if not isinstance(agree, bool):
        raise InvalidInput(_l("Say yes or no."), field="agree")
    if not case.is_anonymous:
        raise Conflict(_l("Your name is already known to the government body for this case."),
                       code="consent_not_asked")
    db_session.refresh(case, with_for_update=True)
    if case.contact_consent is agree:
        return case
    old = consent_state(case)
    case.contact_consent, case.contact_consent_at, case.updated_at = agree, now, now
    if agree:
        # The body learns it from the history (and sees the name from now on).
        db_session.add(CaseUpdate(case_id=case.id, author_id=resident.id, created_at=now,
                                  text=str(_l("The resident agreed that the government body may contact them."))))
    db_session.flush()
    audit.record(db_session, actor_id=resident.id, action="case.contact_consent", object_type="case",
                 object_id=case.id, from_state=old, to_state=consent_state(case), now=now)
    return case


def find_case(db_session: Session, case_id: int) -> Case | None:
    """Return the case with this id whoever asks (for a caller holding a signed link to it), or None."""
    return db_session.get(Case, case_id)


def get_case(db_session: Session, case_id: int, viewer: User | None) -> Case:
    """Return the case if the viewer may see it; 404 otherwise (its existence is not revealed)."""
    case = find_case(db_session, case_id)
    if case is None or not can_view(viewer, case):
        raise NotFound()
    return case


STATUS_FILTERS = ("open", "closed")


@dataclass(frozen=True)
class CaseFilters:
    """What a reader narrows a case list (or the accountability figures) to: an area, a category, open or closed."""

    area_id: int | None = None
    category_id: int | None = None
    status: str | None = None  # "open" (not yet resolved) or "closed"

    @property
    def active(self) -> bool:
        return any(value is not None for value in (self.area_id, self.category_id, self.status))

    def conditions(self) -> list:
        found = []
        if self.area_id is not None:
            found.append(Case.area_id == self.area_id)
        if self.category_id is not None:
            found.append(Case.category_id == self.category_id)
        if self.status == "open":
            found.append(Case.status.in_(UNRESOLVED_STATES))
        elif self.status == "closed":
            found.append(Case.status.in_(CLOSED_STATES))
        return found


def case_filters(db_session: Session, args, *, with_status: bool = True) -> CaseFilters:
    """Read `area` (an area's id), `category` (a category's code, active or not) and, if asked, `status` (open or
    closed) from a query string; an empty value means "any"; anything else is refused (400), not ignored."""
    area_id = category_id = status = None
    if args.get("area"):
        area_id = directory.chosen_area(db_session, args["area"], field="area").id
    if args.get("category"):
        category_id = db_session.scalar(select(CaseCategory.id).where(CaseCategory.code == str(args["category"])))
        if category_id is None:
            raise InvalidInput(_l("Choose a category from the list."), field="category")
    if with_status and args.get("status"):
        status = args["status"]
        if status not in STATUS_FILTERS:
            raise InvalidInput(_l("Choose open or closed cases."), field="status")
    return CaseFilters(area_id, category_id, status)


def visible_cases(db_session: Session, viewer: User, *, status: str | None = None,
                  filters: CaseFilters | None = None) -> list[Case]:
    """List the cases the viewer may see, narrowed by `filters` (or by `status` alone: open or closed), due first."""
    filters = filters or CaseFilters(status=status if status in STATUS_FILTERS else None)
    statement = select(Case).where(*filters.conditions())
    if permissions.is_official(viewer):
        statement = statement.where(Case.body_id == viewer.body_id, Case.status != C.SUBMITTED)
    elif not permissions.is_office(viewer):
        statement = statement.where(Case.resident_id == viewer.id)
    return list(db_session.scalars(statement.options(
        selectinload(Case.body), selectinload(Case.category), selectinload(Case.area), selectinload(Case.question))
        .order_by(Case.due_on, Case.id)))


# --- updates ------------------------------------------------------------------------------------------------------


def add_update(db_session: Session, case: Case, author: User, *, now: datetime, text=None, status=None,
               to_body=None) -> CaseUpdate:
    """Add a dated update: officials and the office report progress or hand over; the resident confirms or reopens."""
    if not can_view(author, case):
        raise NotFound()
    requested = None
    if status not in (None, ""):
        try:
            requested = CaseStatus(status) if status != "reopened" else "reopened"
        except ValueError:
            raise InvalidInput(_l("Choose a status from the list."), field="status") from None
    old = case.status
    update_row = CaseUpdate(case_id=case.id, author_id=author.id, created_at=now, old_status=old)
    if author.id == case.resident_id and not permissions.is_office(author):
        update_row.text = _text(text, required=False)
        _resident_step(case, requested, now)
    else:
        update_row.text = _text(text, required=True)
        if to_body not in (None, ""):
            _hand_over(db_session, case, update_row, to_body)
        if requested is not None:
            _office_step(case, requested, update_row.text, now)
    update_row.new_status = case.status if case.status != old else None
    case.updated_at = now
    db_session.add(update_row)
    db_session.flush()
    audit.record(db_session, actor_id=author.id, action="case.update", object_type="case", object_id=case.id,
                 from_state=old.value, to_state=case.status.value, now=now,
                 data={"to_body": update_row.to_body_id} if update_row.to_body_id else None)
    from majlis.followups import notices

    notices.case_updated(db_session, case, update_row, author, now=now)
    return update_row


def _office_step(case: Case, requested, reason: str, now: datetime) -> None:
    # A waiting request can be declined (not a government matter, a duplicate); it reaches a body by `triage`.
    allowed = {C.SUBMITTED: (C.DECLINED,), C.OPEN: (C.IN_PROGRESS, C.RESOLVED, C.DECLINED),
               C.IN_PROGRESS: (C.RESOLVED, C.DECLINED)}
    if requested not in allowed.get(case.status, ()):
        raise Conflict(_l("The case cannot go from %(from)s to %(to)s.", **{"from": case.status.value,
                                                                           "to": str(requested)}),
                       code="illegal_transition")
    case.status = requested
    if requested == C.RESOLVED:
        case.resolved_at = now
    if requested == C.DECLINED:
        case.declined_reason = reason
        case.resolved_at = now


def _reopen(case: Case) -> None:
    case.status = C.IN_PROGRESS
    case.reopened_count += 1
    case.resolved_at = None
    case.overdue_flagged_at = None
    case.feedback_requested_at = None


def _resident_step(case: Case, requested, now: datetime) -> None:
    if requested is None:
        return
    if requested == C.CONFIRMED and case.status == C.RESOLVED:
        case.status = C.CONFIRMED
        return
    if requested == "reopened" and case.status in (C.RESOLVED, C.DECLINED):
        if case.reopened_count >= 1:
            raise Conflict(_l("A case can be reopened only once."), code="reopen_used")
        if case.resolved_at is None or now - case.resolved_at > REOPEN_WINDOW:
            raise Conflict(_l("A case can be reopened within 14 days of its answer."), code="reopen_expired")
        _reopen(case)
        return
    raise Conflict(_l("You can confirm a resolved case or reopen it once."), code="illegal_transition")


def _hand_over(db_session: Session, case: Case, update_row: CaseUpdate, to_body) -> None:
    if case.status not in OPEN_STATES:
        raise Conflict(_l("Only an open case can be handed over."), code="illegal_transition")
    body = _body(db_session, to_body, field="to_body")
    if body.id == case.body_id:
        raise InvalidInput(_l("Choose another government body."), field="to_body")
    update_row.from_body_id, update_row.to_body_id = case.body_id, body.id
    case.body_id = body.id


def is_overdue(case: Case, today: date) -> bool:
    """Tell whether an open case is past its due date."""
    return case.status in OPEN_STATES and case.due_on < today


# --- "was it fixed?" ----------------------------------------------------------------------------------------------


def feedback_refusal(db_session: Session, case: Case, resident: User | None, *, now: datetime) -> Conflict | None:
    """Tell why this resident cannot answer "was it fixed?" for the case now (None: they can)."""
    if resident is None or case.resident_id is None or resident.id != case.resident_id:
        return Conflict(_l("Only the resident who raised the case answers this."), code="not_your_case")
    if case.status not in (C.RESOLVED, C.CONFIRMED) or case.resolved_at is None:
        return Conflict(_l("This case is not waiting for your answer."), code="feedback_closed")
    if now - case.resolved_at > FEEDBACK_WINDOW:
        return Conflict(_l("The time to answer has passed (30 days after the resolution)."), code="feedback_closed")
    given = db_session.scalar(select(CaseFeedback.id).where(CaseFeedback.case_id == case.id,
                                                            CaseFeedback.round == case.round))
    if given is not None:
        return Conflict(_l("You have already answered for this resolution."), code="feedback_given")
    return None


def _rating(value) -> int | None:
    if value in (None, ""):
        return None
    number = as_id(value)
    if number is None or number > 5:
        raise InvalidInput(_l("Choose a rating from 1 to 5."), field="rating")
    return number


def give_feedback(db_session: Session, case: Case, resident: User | None, *, outcome, now: datetime, rating=None,
                  comment=None) -> CaseFeedback:
    """Record the resident's answer: fixed confirms the case, not fixed reopens it to its body."""
    try:
        answer = FeedbackOutcome(outcome)
    except ValueError:
        raise InvalidInput(_l("Choose fixed, partly fixed or not fixed."), field="outcome") from None
    stars = _rating(rating)
    remark = _text(comment, required=False, field="comment", limit=MAX_COMMENT) or None
    db_session.refresh(case, with_for_update=True)  # one answer per resolution, even when sent twice at once
    refusal = feedback_refusal(db_session, case, resident, now=now)
    if refusal is not None:
        if refusal.code == "not_your_case":
            raise Forbidden(refusal.message, code="not_your_case")
        raise refusal
    feedback = CaseFeedback(case_id=case.id, round=case.round, outcome=answer, rating=stars, comment=remark,
                            created_at=now)
    db_session.add(feedback)
    old = case.status
    if answer == FeedbackOutcome.FIXED and case.status == C.RESOLVED:
        case.status = C.CONFIRMED
    elif answer == FeedbackOutcome.NOT_FIXED:
        _reopen(case)
    case.updated_at = now
    if case.status != old or remark:
        db_session.add(CaseUpdate(case_id=case.id, author_id=resident.id, text=remark or "", old_status=old,
                                  new_status=case.status if case.status != old else None, created_at=now))
    db_session.flush()
    audit.record(db_session, actor_id=resident.id, action="case.feedback", object_type="case", object_id=case.id,
                 from_state=old.value, to_state=case.status.value, now=now,
                 data={"outcome": answer.value, "rating": stars})
    if answer == FeedbackOutcome.NOT_FIXED:
        from majlis.followups import notices

        notices.case_reopened(db_session, case, now=now)
    return feedback


@dataclass(frozen=True)
class CaseDetail:
    """A case with what its full view shows: the history (authors loaded), the answers, and whether the viewer may
    answer "was it fixed?" now."""

    case: Case
    updates: list[CaseUpdate]
    feedback: list[CaseFeedback]
    feedback_open: bool


def case_detail(db_session: Session, case: Case, viewer: User | None, *, now: datetime) -> CaseDetail:
    """Load a case's full view in a fixed number of statements (its serializer runs none)."""
    case = db_session.scalars(select(Case).where(Case.id == case.id).options(
        selectinload(Case.body), selectinload(Case.category), selectinload(Case.area), selectinload(Case.question))
        .execution_options(populate_existing=True)).one()
    updates = list(db_session.scalars(select(CaseUpdate).options(selectinload(CaseUpdate.author))
                                      .where(CaseUpdate.case_id == case.id).order_by(CaseUpdate.id)))
    return CaseDetail(case, updates, feedback_of(db_session, case),
                      feedback_refusal(db_session, case, viewer, now=now) is None)


def feedback_of(db_session: Session, case: Case) -> list[CaseFeedback]:
    """List the resident's answers for the case, oldest first."""
    return list(db_session.scalars(select(CaseFeedback).where(CaseFeedback.case_id == case.id)
                                   .order_by(CaseFeedback.round)))


def request_feedback(db_session: Session, *, now: datetime, delay: timedelta) -> int:
    """Ask "was it fixed?" of the residents whose case was resolved `delay` ago and who have not answered yet.

    Each resolution is asked about once: the case is claimed with a conditional update (two schedulers, or a job
    run twice, claim it once) and the notice has a key per case and resolution.
    """
    from majlis.followups import notices

    answered = exists().where(CaseFeedback.case_id == Case.id, CaseFeedback.round == Case.reopened_count)
    due = db_session.execute(select(Case.id).where(
        Case.status == C.RESOLVED, Case.resident_id.is_not(None), Case.feedback_requested_at.is_(None),
        Case.resolved_at <= now - delay, Case.resolved_at > now - FEEDBACK_WINDOW, ~answered,
    ).order_by(Case.id)).scalars().all()
    asked = 0
    for case_id in due:
        claimed = db_session.execute(
            update(Case).where(Case.id == case_id, Case.status == C.RESOLVED, Case.feedback_requested_at.is_(None))
            .values(feedback_requested_at=now).execution_options(synchronize_session=False)).rowcount
        if claimed:
            case = db_session.get(Case, case_id)
            db_session.refresh(case)
            notices.case_feedback(db_session, case, now=now)
            asked += 1
    db_session.flush()
    return asked


# --- overdue and the agenda ---------------------------------------------------------------------------------------


def flag_overdue(db_session: Session, *, now: datetime, zone: ZoneInfo) -> int:
    """Mark open cases past their due date (once each) and tell their body's officials."""
    today = local_today(now, zone)
    cases = list(db_session.scalars(select(Case).where(
        Case.status.in_(OPEN_STATES), Case.due_on < today, Case.overdue_flagged_at.is_(None))))
    from majlis.followups import notices

    for case in cases:
        case.overdue_flagged_at = now
        audit.record(db_session, actor_id=None, action="case.overdue", object_type="case", object_id=case.id,
                     now=now)
        notices.case_overdue(db_session, case, now=now)
    db_session.flush()
    return len(cases)


def overdue_agenda(db_session: Session, *, now: datetime, zone: ZoneInfo) -> list[tuple[GovernmentBody, list[Case]]]:
    """Open cases past due, grouped by body: the proposed agenda of the next coordinating majlis."""
    today = local_today(now, zone)
    cases = db_session.scalars(select(Case).where(Case.status.in_(OPEN_STATES), Case.due_on < today)
                               .options(selectinload(Case.body), selectinload(Case.category))
                               .order_by(Case.body_id, Case.due_on, Case.id))
    grouped: dict[int, tuple[GovernmentBody, list[Case]]] = {}
    for case in cases:
        grouped.setdefault(case.body_id, (case.body, []))[1].append(case)
    return sorted(grouped.values(), key=lambda pair: (-len(pair[1]), pair[0].id))


def case_ids_by_question(db_session: Session, majlis_session: MajlisSession) -> dict[int, int]:
    """Return {question id: case id} for the session's questions that became cases."""
    return dict(db_session.execute(select(Case.question_id, Case.id).where(
        Case.session_id == majlis_session.id)).all())


def export_account_data(db_session: Session, user: User) -> dict:
    """Export the cases the user raised (their number, status and due date)."""
    return {"cases": [{"id": c.id, "status": c.status.value, "due_on": c.due_on.isoformat()}
                      for c in db_session.scalars(select(Case).where(Case.resident_id == user.id))]}


def updates_of(db_session: Session, case: Case) -> list[CaseUpdate]:
    """List the case's history entries, oldest first."""
    return list(db_session.scalars(select(CaseUpdate).where(CaseUpdate.case_id == case.id).order_by(CaseUpdate.id)))


def get_category(db_session: Session, category_id: int) -> CaseCategory:
    """Return the category with this id; 404 when there is none."""
    category = db_session.get(CaseCategory, category_id)
    if category is None:
        raise NotFound()
    return category


def category_by_code(db_session: Session, code: str) -> CaseCategory | None:
    """Return the category with this code, or None."""
    return db_session.scalar(select(CaseCategory).where(CaseCategory.code == code))
