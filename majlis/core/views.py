"""Home page, one session's page, the staff desk and the health check."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, render_template
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from majlis.auth.decorators import roles_required
from majlis.auth.models import User
from majlis.db import get_db, ping
from majlis.enums import Role, Visibility
from majlis.errors import NotFound
from majlis.sessions import services as session_services
from majlis.sessions.models import MajlisSession
from majlis.timeutil import utcnow

bp = Blueprint("core", __name__)
log = logging.getLogger(__name__)


def _viewer():
    return current_user if current_user.is_authenticated else None


@bp.route("/")
def home():
    sessions = session_services.upcoming_sessions(get_db(), viewer=_viewer(), now=utcnow(), limit=12)
    return render_template("core/home.html", sessions=sessions)


@bp.route("/sessions/<int:session_id>")
def session_page(session_id: int):
    majlis_session = get_db().get(MajlisSession, session_id)
    viewer = _viewer()
    if majlis_session is None:
        raise NotFound()
    if majlis_session.visibility == Visibility.INVITED and not (
        viewer is not None and (viewer.is_moderator or viewer.role == Role.OFFICIAL)
    ):
        raise NotFound()
    return render_template("sessions/session.html", majlis_session=majlis_session)


@bp.route("/staff/")
@roles_required(Role.STAFF)
def staff_home():
    db_session = get_db()
    sessions = session_services.upcoming_sessions(db_session, viewer=current_user, now=utcnow(), limit=50)
    counts = dict(db_session.execute(select(User.role, func.count()).group_by(User.role)).all())
    return render_template("core/staff.html", sessions=sessions, counts=counts, roles=list(Role))


@bp.route("/healthz")
def healthz():
    try:
        ping(get_db())
    except SQLAlchemyError as exc:
        log.error("health check: database unavailable (%s)", type(exc).__name__)
        return jsonify({"status": "unavailable", "database": "down"}), 503, {"Retry-After": "5"}
    return jsonify({"status": "ok", "database": "up"})
