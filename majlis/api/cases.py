"""/api/v1 cases: from a majlis question or any channel, residents' requests, updates, "was it fixed?", categories,
and the public accountability figures."""

from __future__ import annotations

from flask import g, jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from majlis.api import api_user, bp, json_body
from majlis.db import get_db, unit_of_work
from majlis.enums import CaseChannel
from majlis.extensions import rate_limit
from majlis.followups import dashboard, services
from majlis.followups.models import Case, CaseUpdate
from majlis.questions.services import get_question
from majlis.timeutil import local_zone, utcnow

REQUEST_LIMIT = "5 per hour; 20 per day"


def _named(row) -> dict | None:
    return {"code": row.code, "name_ar": row.name_ar, "name_en": row.name_en} if row is not None else None


def case_to_dict(case: Case, viewer, *, with_updates: bool = True) -> dict:
    today = services.local_today(utcnow(), local_zone())
    hidden = services.hides_resident(viewer, case)
    private = not hidden and (services.sees_contact(viewer, case)
                              or (viewer is not None and viewer.id == case.resident_id))
    has_place = case.place_address is not None or case.latitude is not None
    data = {
        "id": case.id,
        "channel": case.channel.value,
        "question_id": case.question_id,
        "session_id": case.session_id,
        "question": case.question.body if case.question is not None else None,
        "description": case.description,
        "body": {"id": case.body.id, "name_ar": case.body.name_ar, "name_en": case.body.name_en},
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
    if with_updates:
        db_session = get_db()
        data["updates"] = [update_to_dict(update, hide_author=hidden and update.author_id == case.resident_id)
                           for update in db_session.scalars(
            select(CaseUpdate).where(CaseUpdate.case_id == case.id).order_by(CaseUpdate.id))]
        data["feedback"] = [{"round": f.round, "outcome": f.outcome.value, "rating": f.rating, "comment": f.comment,
                             "created_at": f.created_at.isoformat()} for f in services.feedback_of(db_session, case)]
        data["feedback_open"] = services.feedback_refusal(db_session, case, viewer, now=utcnow()) is None
    return data


def update_to_dict(update, *, hide_author: bool = False) -> dict:
    """An update; by the hidden resident of an anonymous case (`hide_author`), signed "a resident"."""
    return {
        "id": update.id,
        "text": services.update_text(update),
        "status": update.new_status.value if update.new_status else None,
        "author": {"name": _("A resident") if hide_author else update.author.name, "role": update.author.role.value},
        "from_body": update.from_body_id,
        "to_body": update.to_body_id,
        "created_at": update.created_at.isoformat(),
    }


def _created(case: Case, viewer):
    return jsonify(case_to_dict(case, viewer)), 201, {"Location": url_for("api.get_case", case_id=case.id)}


def _user_key() -> str:
    user = g.get("api_user")
    return f"user:{user.id}" if user is not None else request.remote_addr or "anonymous"


@bp.post("/questions/<int:question_id>/case")
def open_case(question_id: int):
    moderator = api_user()
    data = json_body()
    with unit_of_work() as db_session:
        question = get_question(db_session, question_id, moderator)
        case = services.open_case(db_session, question, moderator, body_id=data.get("body_id"),
                                  due_on=data.get("due_on"), reference=data.get("reference"),
                                  category=data.get("category"), now=utcnow(), zone=local_zone())
    return _created(case, moderator)


@bp.post("/cases")
def create_case():
    actor = api_user()
    data = json_body()
    with unit_of_work() as db_session:
        case = services.open_channel_case(db_session, data, actor, now=utcnow(), zone=local_zone())
    return _created(case, actor)


@bp.post("/requests")
@rate_limit(REQUEST_LIMIT, key_func=_user_key)
def submit_request():
    resident = api_user()
    data = json_body()
    with unit_of_work() as db_session:
        case = services.submit_request(db_session, data, resident, channel=CaseChannel.APP, now=utcnow(),
                                       zone=local_zone())
    return _created(case, resident)


@bp.get("/cases")
def list_cases():
    viewer = api_user()
    cases = services.visible_cases(get_db(), viewer, status=request.args.get("status"))
    return jsonify({"cases": [case_to_dict(case, viewer, with_updates=False) for case in cases]})


@bp.get("/cases/<int:case_id>")
def get_case(case_id: int):
    viewer = api_user()
    return jsonify(case_to_dict(services.get_case(get_db(), case_id, viewer), viewer))


@bp.post("/cases/<int:case_id>/updates")
def add_update(case_id: int):
    author = api_user()
    data = json_body()
    with unit_of_work() as db_session:
        case = services.get_case(db_session, case_id, author)
        services.add_update(db_session, case, author, text=data.get("text"), status=data.get("status"),
                            to_body=data.get("to_body"), now=utcnow())
    return jsonify(case_to_dict(case, author))


@bp.post("/cases/<int:case_id>/triage")
def triage_case(case_id: int):
    actor = api_user()
    data = json_body()
    with unit_of_work() as db_session:
        case = services.get_case(db_session, case_id, actor)
        services.triage(db_session, case, actor, category=data.get("category"), due_on=data.get("due_on"),
                        now=utcnow(), zone=local_zone())
    return jsonify(case_to_dict(case, actor))


@bp.post("/cases/<int:case_id>/feedback")
def give_feedback(case_id: int):
    resident = api_user()
    data = json_body()
    with unit_of_work() as db_session:
        case = services.get_case(db_session, case_id, resident)
        services.give_feedback(db_session, case, resident, outcome=data.get("outcome"), rating=data.get("rating"),
                               comment=data.get("comment"), now=utcnow())
    return jsonify(case_to_dict(case, resident))


@bp.post("/cases/<int:case_id>/contact-consent")
def contact_consent(case_id: int):
    resident = api_user()
    data = json_body()
    with unit_of_work() as db_session:
        case = services.get_case(db_session, case_id, resident)
        services.answer_contact_consent(db_session, case, resident, agree=data.get("agree"), now=utcnow())
    return jsonify(case_to_dict(case, resident))


@bp.get("/categories")
def list_categories():
    api_user()
    return jsonify({"categories": [
        {"code": c.code, "name_ar": c.name_ar, "name_en": c.name_en, "body_id": c.body_id,
         "days_to_resolve": c.days_to_resolve} for c in services.list_categories(get_db())]})


def figures_to_dict(figures: dashboard.Figures) -> dict:
    s = figures.satisfaction
    return {"key": figures.key, "name_ar": figures.name_ar, "name_en": figures.name_en, "opened": figures.opened,
            "open": figures.open, "overdue": figures.overdue, "closed_on_time": figures.closed_on_time,
            "closed_late": figures.closed_late, "median_days_to_close": figures.median_days_to_close,
            "satisfaction": {"answers": s.answers, "fixed": s.fixed, "partly_fixed": s.partly_fixed,
                             "not_fixed": s.not_fixed, "average_rating": s.average_rating}}


@bp.get("/accountability")
def accountability():
    now, zone = utcnow(), local_zone()
    start, end, group_by = dashboard.parse_filters(request.args, today=services.local_today(now, zone))
    figures = dashboard.dashboard(get_db(), start=start, end=end, group_by=group_by, now=now, zone=zone)
    response = jsonify({
        "from": start.isoformat(), "to": end.isoformat(), "group_by": group_by, "as_of": now.isoformat(),
        "groups": [figures_to_dict(group) for group in figures.groups],
        "totals": figures_to_dict(figures.totals),
        "backlog": [{"month": p.month, "open": p.open, "overdue": p.overdue} for p in figures.backlog],
        "awaiting_triage": figures.awaiting_triage,
    })
    # Public figures: a cache in front may keep them a few minutes.
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
