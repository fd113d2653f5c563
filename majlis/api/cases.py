"""/api/v1 cases: questions turned into follow-up cases, and their dated updates."""

from __future__ import annotations

from flask import jsonify, request, url_for

from majlis.api import api_user, bp, json_body
from majlis.db import get_db, unit_of_work
from majlis.followups import services
from majlis.followups.models import Case
from majlis.questions.services import get_question
from majlis.timeutil import local_zone, utcnow


def case_to_dict(case: Case, viewer, *, with_updates: bool = True) -> dict:
    today = services.local_today(utcnow(), local_zone())
    data = {
        "id": case.id,
        "question_id": case.question_id,
        "session_id": case.session_id,
        "question": case.question.body,
        "body": {"id": case.body.id, "name_ar": case.body.name_ar, "name_en": case.body.name_en},
        "status": case.status.value,
        "due_on": case.due_on.isoformat(),
        "overdue": services.is_overdue(case, today),
        "reference_number": case.reference_number,
        "opened_at": case.opened_at.isoformat(),
        "resolved_at": case.resolved_at.isoformat() if case.resolved_at else None,
        "declined_reason": case.declined_reason,
        "reopened": case.reopened_count > 0,
    }
    if with_updates:
        data["updates"] = [update_to_dict(update) for update in case_updates(case)]
    return data


def case_updates(case: Case):
    from sqlalchemy import select

    from majlis.followups.models import CaseUpdate

    return get_db().scalars(select(CaseUpdate).where(CaseUpdate.case_id == case.id).order_by(CaseUpdate.id))


def update_to_dict(update) -> dict:
    return {
        "id": update.id,
        "text": update.text,
        "status": update.new_status.value if update.new_status else None,
        "author": {"name": update.author.name, "role": update.author.role.value},
        "from_body": update.from_body_id,
        "to_body": update.to_body_id,
        "created_at": update.created_at.isoformat(),
    }


@bp.post("/questions/<int:question_id>/case")
def open_case(question_id: int):
    moderator = api_user()
    data = json_body()
    with unit_of_work() as db_session:
        question = get_question(db_session, question_id, moderator)
        case = services.open_case(db_session, question, moderator, body_id=data.get("body_id"),
                                  due_on=data.get("due_on"), reference=data.get("reference"), now=utcnow(),
                                  zone=local_zone())
    return jsonify(case_to_dict(case, moderator)), 201, {"Location": url_for("api.get_case", case_id=case.id)}


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
