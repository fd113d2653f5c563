"""Follow-up cases' JSON: limits (followups/services.py imports them), request models, and the one serializer of
each shape. The serializers run no query: `services.case_detail` loads what a full case shows."""


from datetime import date
from typing import Annotated, Any

from flask_babel import gettext as _
from pydantic import Field

from majlis.enums import CaseChannel, CaseStatus, FeedbackOutcome, Role
from majlis.followups.dashboard import GROUPINGS
from majlis.schema_types import (
    N_,
    Count,
    Day,
    Id,
    Instant,
    Latitude,
    Longitude,
    Model,
    Number,
    described,
    digits_id,
    enum_of,
    number,
    text,
)

MAX_TEXT = 2000  # an update's text, a request's description
MAX_COMMENT = 1000  # a "was it fixed?" comment
MIN_DESCRIPTION = 3
ADDRESS_MAX = 300
REFERENCE_MAX = 64
CATEGORY_CODE_MAX = 64
CONTACT_NAME_MAX, CONTACT_PHONE_MAX, CONTACT_EMAIL_MAX = 120, 32, 254

CategoryCode = text(N_("A category's code, from GET /api/v1/categories"), max_length=CATEGORY_CODE_MAX)
Description = text(N_("3 to 2000 characters; line breaks are kept"), min_length=MIN_DESCRIPTION, max_length=MAX_TEXT)
Reference = text(N_("The body's reference number"), max_length=REFERENCE_MAX)


# --- requests -----------------------------------------------------------------------------------------------------


class CasePlaceInput(Model):
    """Where exactly (optional); latitude and longitude together or neither"""

    address: text(N_("At most 300 characters"), max_length=ADDRESS_MAX) | None = None
    lat: described(Latitude, N_("WGS 84 latitude")) | None = None
    lon: described(Longitude, N_("WGS 84 longitude")) | None = None
    public: described(bool, N_("The resident agreed to publish the place; otherwise only the area is")) = False


class ContactInput(Model):
    name: text(max_length=CONTACT_NAME_MAX) | None = None
    phone: text(N_("Digits with an optional leading +"), max_length=CONTACT_PHONE_MAX) | None = None
    email: text(max_length=CONTACT_EMAIL_MAX) | None = None


class OpenCaseInput(Model):
    body_id: digits_id(N_("The government body that answers"))
    due_on: described(Day, N_("Default: today plus the body's SLA days")) | None = None
    reference: Reference | None = None
    category: described(CategoryCode, N_("Optional; one of the body's")) | None = None


class ChannelCaseInput(Model):
    channel: enum_of(CaseChannel)
    body_id: digits_id(N_("The government body; the category's own"))
    category: CategoryCode
    description: Description
    area_id: digits_id(N_("An area of the governorate")) | None = None
    resident_id: digits_id(N_("The resident's account")) | None = None
    contact: ContactInput | None = None
    place: CasePlaceInput | None = None
    session_id: digits_id(N_("The majlis or field visit it was raised in")) | None = None
    due_on: described(Day, N_("Default: today plus the category's days")) | None = None
    reference: Reference | None = None


class RequestInput(Model):
    category: CategoryCode
    description: Description
    area_id: digits_id(N_("Default: the resident's area")) | None = None
    place: CasePlaceInput | None = None


UpdateText = text(N_("At most 2000 characters; required except for the resident"), max_length=MAX_TEXT)


class UpdateInput(Model):
    text: UpdateText = None
    status: enum_of([*CaseStatus, "reopened"]) | None = None
    to_body: digits_id(N_("Hand the case over to this body")) = None


class TriageInput(Model):
    category: described(CategoryCode, N_("The category, which decides the body"))
    due_on: described(Day, N_("Default: the request's date plus the category's days")) | None = None


class FeedbackInput(Model):
    outcome: enum_of(FeedbackOutcome)
    rating: number(1, 5) | None = None
    comment: text(N_("At most 1000 characters"), max_length=MAX_COMMENT) | None = None


class ConsentInput(Model):
    agree: bool


# --- responses ----------------------------------------------------------------------------------------------------


class Body(Model):
    id: Id
    name_ar: str
    name_en: str

    @staticmethod
    def dump(body) -> dict[str, Any]:
        return {"id": body.id, "name_ar": body.name_ar, "name_en": body.name_en}


class BodyList(Model):
    bodies: list[Body]


class Named(Model):
    code: str
    name_ar: str
    name_en: str


class AreaRef(Model):
    id: Id
    code: str
    name_ar: str
    name_en: str


class CasePlace(Model):
    address: str | None
    lat: Number | None
    lon: Number | None
    public: bool


class Contact(Model):
    """Given by phone or in writing; seen by the office and the body only"""

    name: str | None
    phone: str | None
    email: str | None


class Case(Model):
    id: Id
    channel: enum_of(CaseChannel)
    question_id: Id | None
    session_id: Id | None
    question: described(str, "The question's text, for a case raised in a majlis") | None
    description: str
    body: Body
    category: Named | None
    area: AreaRef | None
    place: CasePlace | None
    resident_id: Id | None
    contact: Contact | None
    status: enum_of(CaseStatus)
    due_on: Day
    overdue: bool
    reference_number: str | None
    opened_at: Instant
    resolved_at: Instant | None
    declined_reason: str | None
    reopened: bool
    anonymous: described(bool, "Raised by an anonymous question: until `contact_consent` is `agreed`, the body gets "
                               "no `resident_id`, no `contact`, and the resident's updates are signed \"a resident\"")
    contact_consent: enum_of(["pending", "agreed", "declined"], "Whether the resident of an anonymous case lets the "
                             "body contact them; null for other cases") | None

    @staticmethod
    def dump(case, viewer, *, today) -> dict[str, Any]:
        """A case as the viewer may see it (no history: CaseWithUpdates.dump adds it)."""
        from majlis.followups import services

        hidden = services.hides_resident(viewer, case)
        private = not hidden and (services.sees_contact(viewer, case)
                                  or (viewer is not None and viewer.id == case.resident_id))
        has_place = case.place_address is not None or case.latitude is not None
        return {
            "id": case.id,
            "channel": case.channel.value,
            "question_id": case.question_id,
            "session_id": case.session_id,
            "question": case.question.body if case.question is not None else None,
            "description": case.description,
            "body": Body.dump(case.body),
            "category": _named(case.category),
            "area": {"id": case.area.id, **_named(case.area)} if case.area is not None else None,
            "place": {"address": case.place_address, "lat": case.latitude, "lon": case.longitude,
                      "public": case.place_is_public} if has_place else None,
            "resident_id": case.resident_id if private else None,
            "contact": {"name": case.contact_name, "phone": case.contact_phone, "email": case.contact_email}
            if services.sees_contact(viewer, case) and (case.contact_name or case.contact_phone or case.contact_email)
            else None,
            "status": case.status.value,
            "due_on": case.due_on.isoformat(),
            "overdue": services.is_overdue(case, today),
            "reference_number": case.reference_number,
            "opened_at": case.opened_at.isoformat(),
            "resolved_at": case.resolved_at.isoformat() if case.resolved_at else None,
            "declined_reason": case.declined_reason,
            "reopened": case.reopened_count > 0,
            "anonymous": case.is_anonymous,
            "contact_consent": services.consent_state(case),
        }


def _named(row) -> dict | None:
    return {"code": row.code, "name_ar": row.name_ar, "name_en": row.name_en} if row is not None else None


class UpdateAuthor(Model):
    name: str
    role: enum_of(Role)


class CaseUpdate(Model):
    id: Id
    text: str
    status: enum_of(CaseStatus, "The status it moved to") | None
    author: UpdateAuthor
    from_body: Id | None
    to_body: Id | None
    created_at: Instant

    @staticmethod
    def dump(update, *, hide_author: bool = False) -> dict[str, Any]:
        """An update; by the hidden resident of an anonymous case (`hide_author`), signed "a resident"."""
        from majlis.followups.services import update_text

        return {
            "id": update.id,
            "text": update_text(update),
            "status": update.new_status.value if update.new_status else None,
            "author": {"name": _("A resident") if hide_author else update.author.name,
                       "role": update.author.role.value},
            "from_body": update.from_body_id,
            "to_body": update.to_body_id,
            "created_at": update.created_at.isoformat(),
        }


class Feedback(Model):
    round: number(0, description="Which resolution of the case it answers")
    outcome: enum_of(FeedbackOutcome)
    rating: number(1, 5) | None
    comment: str | None
    created_at: Instant

    @staticmethod
    def dump(feedback) -> dict[str, Any]:
        return {"round": feedback.round, "outcome": feedback.outcome.value, "rating": feedback.rating,
                "comment": feedback.comment, "created_at": feedback.created_at.isoformat()}


class CaseWithUpdates(Case):
    updates: list[CaseUpdate]
    feedback: list[Feedback]
    feedback_open: described(bool, "Whether the caller may answer now")

    @staticmethod
    def dump(detail, viewer, *, today) -> dict[str, Any]:
        """A case with its history: `detail` is what services.case_detail loaded."""
        from majlis.followups.services import hides_resident

        case = detail.case
        data = Case.dump(case, viewer, today=today)
        hidden = hides_resident(viewer, case)
        data["updates"] = [CaseUpdate.dump(update, hide_author=hidden and update.author_id == case.resident_id)
                           for update in detail.updates]
        data["feedback"] = [Feedback.dump(row) for row in detail.feedback]
        data["feedback_open"] = detail.feedback_open
        return data


class CaseList(Model):
    cases: list[Case]


class Category(Model):
    code: str
    name_ar: str
    name_en: str
    body_id: Id
    days_to_resolve: number(1)

    @staticmethod
    def dump(category) -> dict[str, Any]:
        return {"code": category.code, "name_ar": category.name_ar, "name_en": category.name_en,
                "body_id": category.body_id, "days_to_resolve": category.days_to_resolve}


class CategoryList(Model):
    categories: list[Category]


class Satisfaction(Model):
    answers: Count
    fixed: Count
    partly_fixed: Count
    not_fixed: Count
    average_rating: Number | None


class Figures(Model):
    key: described(str, "A body, area or category code, a channel, or a month YYYY-MM; null: not given") | None
    name_ar: str
    name_en: str
    opened: Count
    open: Count
    overdue: Count
    closed_on_time: Count
    closed_late: Count
    median_days_to_close: Number | None
    satisfaction: Satisfaction

    @staticmethod
    def dump(figures) -> dict[str, Any]:
        s = figures.satisfaction
        return {"key": figures.key, "name_ar": figures.name_ar, "name_en": figures.name_en, "opened": figures.opened,
                "open": figures.open, "overdue": figures.overdue, "closed_on_time": figures.closed_on_time,
                "closed_late": figures.closed_late, "median_days_to_close": figures.median_days_to_close,
                "satisfaction": {"answers": s.answers, "fixed": s.fixed, "partly_fixed": s.partly_fixed,
                                 "not_fixed": s.not_fixed, "average_rating": s.average_rating}}


class BacklogPoint(Model):
    month: text(pattern=r"^\d{4}-\d{2}$")
    open: Count
    overdue: Count


class Accountability(Model):
    from_: Annotated[date, Field(alias="from", description=N_("YYYY-MM-DD"))]
    to: Day
    group_by: enum_of(GROUPINGS)
    as_of: Instant
    groups: list[Figures]
    totals: Figures
    backlog: list[BacklogPoint]
    awaiting_triage: Count

    @staticmethod
    def dump(figures, *, start, end, group_by, now) -> dict[str, Any]:
        return {
            "from": start.isoformat(), "to": end.isoformat(), "group_by": group_by,
            "as_of": now.isoformat(), "groups": [Figures.dump(group) for group in figures.groups],
            "totals": Figures.dump(figures.totals),
            "backlog": [{"month": p.month, "open": p.open, "overdue": p.overdue} for p in figures.backlog],
            "awaiting_triage": figures.awaiting_triage,
        }
