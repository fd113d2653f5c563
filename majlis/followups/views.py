"""Case pages, the overdue agenda for the coordinating majlis, and the public accountability page."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from majlis.auth.decorators import roles_required
from majlis.auth.forms import EmptyForm
from majlis.core.models import GovernmentBody
from majlis.db import get_db, unit_of_work
from majlis.enums import Role, SeriesKind, SessionStatus
from majlis.errors import InvalidInput, MajlisError
from majlis.followups import services
from majlis.followups.models import CaseUpdate
from majlis.questions.models import Question
from majlis.questions.services import get_question
from majlis.sessions.models import MajlisSession
from majlis.sessions.services import parse_day
from majlis.timeutil import local_zone, utcnow

bp = Blueprint("followups", __name__)


def _bodies():
    return get_db().scalars(select(GovernmentBody).where(GovernmentBody.is_active).order_by(GovernmentBody.id)).all()


@bp.get("/cases")
@login_required
def case_list():
    status = request.args.get("status") if request.args.get("status") in ("open", "closed") else None
    cases = services.visible_cases(get_db(), current_user, status=status)
    return render_template("followups/list.html", cases=cases, status=status,
                           today=services.local_today(utcnow(), local_zone()))


@bp.get("/cases/<int:case_id>")
@login_required
def case_page(case_id: int):
    db_session = get_db()
    case = services.get_case(db_session, case_id, current_user)
    updates = db_session.scalars(select(CaseUpdate).where(CaseUpdate.case_id == case.id).order_by(CaseUpdate.id))
    now = utcnow()
    return render_template(
        "followups/case.html", case=case, updates=list(updates), question=db_session.get(Question, case.question_id),
        form=EmptyForm(), bodies=_bodies(), today=services.local_today(now, local_zone()),
        is_resident=current_user.id == case.resident_id and current_user.role == Role.RESIDENT,
        can_reopen=case.reopened_count == 0 and case.resolved_at is not None
        and now - case.resolved_at <= services.REOPEN_WINDOW,
    )


@bp.post("/cases/<int:case_id>/updates")
@login_required
def add_update(case_id: int):
    if EmptyForm().validate_on_submit():
        try:
            with unit_of_work() as db_session:
                case = services.get_case(db_session, case_id, current_user)
                services.add_update(db_session, case, current_user, text=request.form.get("text"),
                                    status=request.form.get("status") or None,
                                    to_body=request.form.get("to_body") or None, now=utcnow())
        except MajlisError as exc:
            if exc.status == 404:
                raise
            flash(str(exc.message), "error")
        else:
            flash(_("The update was saved."), "success")
    return redirect(url_for("followups.case_page", case_id=case_id))


@bp.post("/questions/<int:question_id>/case")
@roles_required(Role.MODERATOR, Role.STAFF)
def open_case(question_id: int):
    question = get_question(get_db(), question_id, current_user)
    target = url_for("questions.console", session_id=question.session_id) + f"#question-{question_id}"
    if EmptyForm().validate_on_submit():
        try:
            with unit_of_work() as db_session:
                question = db_session.get(Question, question_id)
                case = services.open_case(db_session, question, current_user, body_id=request.form.get("body_id"),
                                          due_on=request.form.get("due_on") or None, now=utcnow(), zone=local_zone())
        except MajlisError as exc:
            flash(str(exc.message), "error")
        else:
            flash(_("Case number %(id)s opened.", id=case.id), "success")
    return redirect(target)


@bp.get("/staff/agenda")
@roles_required(Role.STAFF, Role.MODERATOR)
def agenda():
    now = utcnow()
    db_session = get_db()
    next_session = db_session.scalar(select(MajlisSession).where(
        MajlisSession.kind == SeriesKind.COORDINATING, MajlisSession.starts_at > now,
        MajlisSession.status != SessionStatus.CANCELLED).order_by(MajlisSession.starts_at))
    return render_template("followups/agenda.html", groups=services.overdue_agenda(db_session, now=now,
                                                                                     zone=local_zone()),
                           next_session=next_session, today=services.local_today(now, local_zone()))


def _period() -> tuple[date, date]:
    today = services.local_today(utcnow(), local_zone())
    # The one date parser: a malformed day or one outside the supported years is 400 naming its parameter.
    start = parse_day(request.args["from"], "from") if request.args.get("from") else today - timedelta(days=90)
    end = parse_day(request.args["to"], "to") if request.args.get("to") else today
    if end < start:
        raise InvalidInput(_("'to' must not be before 'from'."), field="to")
    return start, end


@bp.get("/accountability")
def accountability():
    start, end = _period()
    figures = services.accountability(get_db(), start=start, end=end, now=utcnow(), zone=local_zone())
    return render_template("followups/accountability.html", figures=figures, start=start, end=end)
