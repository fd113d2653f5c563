"""/api/v1 cases: from a majlis question or any channel, residents' requests, updates, "was it fixed?", categories,
and the public accountability figures."""

from __future__ import annotations

from dataclasses import replace

from flask import g, jsonify, request, url_for

from majlis.api import api_user, bp, json_body
from majlis.api.spec import (
    ANY_USER,
    ANYONE,
    CASE_PARTIES,
    CASE_RESIDENT,
    DAY_OR_EMPTY,
    OFFICE,
    RESIDENT,
    documented,
    ok,
    query,
)
from majlis.db import get_db, unit_of_work
from majlis.enums import CaseChannel
from majlis.followups import dashboard, schemas, services
from majlis.questions.services import get_question
from majlis.schema_types import N_
from majlis.timeutil import local_zone, utcnow

REQUEST_LIMIT = "5 per hour; 20 per day"
CASE_FILTER_PARAMS = (
    query("area", {"type": "string"}, N_("Only cases in this area (an area's id); empty: any")),
    query("category", {"type": "string"}, N_("Only cases of this category (its code); empty: any")),
)


def _today():
    return services.local_today(utcnow(), local_zone())


def _case(db_session, case, viewer) -> dict:
    """A case with its history, as the viewer may see it."""
    detail = services.case_detail(db_session, case, viewer, now=utcnow())
    return schemas.CaseWithUpdates.dump(detail, viewer, today=_today())


def _created(db_session, case, viewer):
    return jsonify(_case(db_session, case, viewer)), 201, {"Location": url_for("api.get_case", case_id=case.id)}


def _user_key() -> str:
    user = g.get("api_user")
    return f"user:{user.id}" if user is not None else request.remote_addr or "anonymous"


@bp.post("/questions/<int:question_id>/case")
@documented(N_("Turn a question into a follow-up case"), who=OFFICE, tag="cases", forbidden=["forbidden"],
            body=schemas.OpenCaseInput, responses=ok(schemas.CaseWithUpdates, "The case", status=201, location=True),
            errors={400: ["invalid_input"], 409: ["illegal_transition", "case_exists"]},
            refusals=("body_id", "category", "due_on", "reference"))
def open_case(question_id: int):
    moderator = api_user()
    data = json_body()
    with unit_of_work() as db_session:
        question = get_question(db_session, question_id, moderator)
        case = services.open_case(db_session, question, moderator, body_id=data.get("body_id"),
                                  due_on=data.get("due_on"), reference=data.get("reference"),
                                  category=data.get("category"), now=utcnow(), zone=local_zone())
    return _created(get_db(), case, moderator)


@bp.post("/cases")
@documented(N_("Open a case received by any channel"), who=OFFICE, tag="cases", forbidden=["forbidden"],
            description="A need received by phone, social media, e-mail or seen on a field visit goes straight to its "
                        "body, due by its category's days unless `due_on` is given. It follows a resident's account "
                        "(`resident_id`) or the contact details given (`contact`, never published), or neither.",
            body=schemas.ChannelCaseInput,
            responses=ok(schemas.CaseWithUpdates, "The case", status=201, location=True),
            errors={400: ["invalid_input"]},
            refusals=("body_id", "category", "description", "area_id", "resident_id", "contact", "contact_name",
                      "contact_phone", "contact_email", "place", "address", "lat", "lon", "session_id", "due_on",
                      "reference"))
def create_case():
    actor = api_user()
    data = json_body()
    with unit_of_work() as db_session:
        case = services.open_channel_case(db_session, data, actor, now=utcnow(), zone=local_zone())
    return _created(get_db(), case, actor)


@bp.post("/requests")
@documented(N_("Send a request (from the app)"), who=RESIDENT, tag="cases", forbidden=["residents_only"],
            rate_limit=REQUEST_LIMIT, limit_key=_user_key,
            description="The request waits (status `submitted`) until the Governor's office sends it to the "
                        "government body of its category.",
            body=schemas.RequestInput,
            responses=ok(schemas.CaseWithUpdates, "The case, waiting for triage", status=201, location=True),
            errors={400: ["invalid_input"]},
            refusals=("category", "description", "area_id", "place", "address", "lat", "lon"))
def submit_request():
    resident = api_user()
    data = json_body()
    with unit_of_work() as db_session:
        case = services.submit_request(db_session, data, resident, channel=CaseChannel.APP, now=utcnow(),
                                       zone=local_zone())
    return _created(get_db(), case, resident)


@bp.get("/cases")
@documented(N_("List the cases I may see"), who=CASE_PARTIES, tag="cases",
            params=(query("status", {"type": "string", "examples": ["open", "closed"]},
                          N_("open: only open cases; closed: only closed ones; anything else: all")),
                    *CASE_FILTER_PARAMS),
            responses=ok(schemas.CaseList), errors={400: ["invalid_input"]}, refusals=("area", "category"))
def list_cases():
    viewer = api_user()
    db_session = get_db()
    status = request.args.get("status")
    filters = replace(services.case_filters(db_session, request.args, with_status=False),
                      status=status if status in services.STATUS_FILTERS else None)
    cases = services.visible_cases(db_session, viewer, filters=filters)
    today = _today()
    return jsonify({"cases": [schemas.Case.dump(case, viewer, today=today) for case in cases]})


@bp.get("/cases/<int:case_id>")
@documented(N_("Get one case and its history"), who=CASE_PARTIES, tag="cases", responses=ok(schemas.CaseWithUpdates))
def get_case(case_id: int):
    viewer = api_user()
    db_session = get_db()
    return jsonify(_case(db_session, services.get_case(db_session, case_id, viewer), viewer))


@bp.post("/cases/<int:case_id>/updates")
@documented(N_("Add a dated update to a case"), who=CASE_PARTIES, tag="cases",
            description="Officials and the office report progress, resolve, decline or hand over (`to_body`); the "
                        "resident confirms a resolution or reopens once within 14 days.",
            body=schemas.UpdateInput, responses=ok(schemas.CaseWithUpdates, "The case"),
            errors={400: ["invalid_input"], 409: ["illegal_transition", "reopen_used", "reopen_expired"]},
            refusals=("text", "status", "to_body"))
def add_update(case_id: int):
    author = api_user()
    data = json_body()
    with unit_of_work() as db_session:
        case = services.get_case(db_session, case_id, author)
        services.add_update(db_session, case, author, text=data.get("text"), status=data.get("status"),
                            to_body=data.get("to_body"), now=utcnow())
    return jsonify(_case(get_db(), case, author))


@bp.post("/cases/<int:case_id>/triage")
@documented(N_("Send a waiting request to a body"), who=OFFICE, tag="cases", forbidden=["forbidden"],
            body=schemas.TriageInput, responses=ok(schemas.CaseWithUpdates, "The case, open with its body"),
            errors={400: ["invalid_input"], 409: ["already_triaged"]},
            refusals=("category", "due_on"))
def triage_case(case_id: int):
    actor = api_user()
    data = json_body()
    with unit_of_work() as db_session:
        case = services.get_case(db_session, case_id, actor)
        services.triage(db_session, case, actor, category=data.get("category"), due_on=data.get("due_on"),
                        now=utcnow(), zone=local_zone())
    return jsonify(_case(get_db(), case, actor))


@bp.post("/cases/<int:case_id>/feedback")
@documented(N_("Answer \"was it fixed?\""), who=CASE_RESIDENT, tag="cases", forbidden=["not_your_case"],
            description="Once per resolution, within 30 days of it. `fixed` confirms the case; `not_fixed` reopens it "
                        "to its body.",
            body=schemas.FeedbackInput, responses=ok(schemas.CaseWithUpdates, "The case"),
            errors={400: ["invalid_input"], 409: ["feedback_closed", "feedback_given"]},
            refusals=("rating", "comment"))
def give_feedback(case_id: int):
    resident = api_user()
    data = json_body()
    with unit_of_work() as db_session:
        case = services.get_case(db_session, case_id, resident)
        services.give_feedback(db_session, case, resident, outcome=data.get("outcome"), rating=data.get("rating"),
                               comment=data.get("comment"), now=utcnow())
    return jsonify(_case(get_db(), case, resident))


@bp.post("/cases/<int:case_id>/contact-consent")
@documented(N_("Say whether the body may contact me"), who=CASE_RESIDENT, tag="cases", forbidden=["not_your_case"],
            description="For a case raised by an anonymous question: `true` shows the resident's name to the body (it "
                        "may contact them), `false` keeps it hidden (the office relays). The answer can be changed.",
            body=schemas.ConsentInput, responses=ok(schemas.CaseWithUpdates, "The case"),
            errors={400: ["invalid_input"], 409: ["consent_not_asked"]})
def contact_consent(case_id: int):
    resident = api_user()
    data = json_body()
    with unit_of_work() as db_session:
        case = services.get_case(db_session, case_id, resident)
        services.answer_contact_consent(db_session, case, resident, agree=data.get("agree"), now=utcnow())
    return jsonify(_case(get_db(), case, resident))


@bp.get("/categories")
@documented(N_("List the categories of requests"), who=ANY_USER, tag="cases", responses=ok(schemas.CategoryList))
def list_categories():
    api_user()
    return jsonify({"categories": [schemas.Category.dump(c) for c in services.list_categories(get_db())]})


@bp.get("/accountability")
@documented(N_("Read the accountability figures"), who=ANYONE, tag="cases", public=True,
            description="Per body, area, channel, category or month: opened, open and overdue at the end of the "
                        "range, closed on time and late, median days to close, and the residents' answers. No "
                        "personal data.",
            params=(query("from", DAY_OR_EMPTY,
                          N_("First local day; default the first day of the month 11 months ago")),
                    query("to", DAY_OR_EMPTY, N_("Last local day; default today")),
                    query("group_by", {"type": "string", "enum": list(dashboard.GROUPINGS)}, N_("Default body")),
                    *CASE_FILTER_PARAMS),
            responses=ok(schemas.Accountability), errors={400: ["invalid_input"]},
            refusals=("from", "to", "area", "category"))
def accountability():
    now, zone = utcnow(), local_zone()
    db_session = get_db()
    start, end, group_by = dashboard.parse_filters(request.args, today=services.local_today(now, zone))
    filters = services.case_filters(db_session, request.args, with_status=False)
    figures = dashboard.dashboard(db_session, start=start, end=end, group_by=group_by, now=now, zone=zone,
                                  filters=filters)
    response = jsonify(schemas.Accountability.dump(figures, start=start, end=end, group_by=group_by, now=now))
    # Public figures: a cache in front may keep them a few minutes.
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
