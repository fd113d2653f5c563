"""Home page, one session's page, the staff desk and the health check."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from majlis.auth.decorators import roles_required
from majlis.auth.forms import EmptyForm
from majlis.auth.models import User
from majlis.calendar import links
from majlis.db import get_database, get_db, ping
from majlis.enums import Role, Visibility
from majlis.errors import MajlisError
from majlis.registration import services as registration_services
from majlis.registration.invitations import invitation_state
from majlis.sessions import services as session_services
from majlis.sessions.models import MajlisSession
from majlis.templating import current_lang
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
    db_session = get_db()
    viewer = _viewer()
    majlis_session = session_services.get_visible_session(db_session, session_id, viewer)
    place = registration_services.place_of(db_session, majlis_session, viewer) if viewer else None
    invitation = invitation_state(db_session, majlis_session, viewer) if viewer else None
    now = utcnow()
    from majlis.questions import services as question_services
    from majlis.questions.views import question_list_context

    may_ask = viewer is not None and question_services.may_ask(db_session, majlis_session, viewer) and \
        majlis_session.registration_opens_at <= now < majlis_session.ends_at and \
        majlis_session.status.value != "cancelled"
    from majlis.minutes.services import minutes_of

    minutes = minutes_of(db_session, majlis_session)
    return render_template(
        "sessions/session.html", majlis_session=majlis_session, calendar=_calendar_links(majlis_session),
        minutes_status=minutes.status.value if minutes else None,
        may_ask=may_ask, **{k: v for k, v in question_list_context(majlis_session, viewer).items()
                            if k in ("questions", "voted", "viewer")},
        place=place, form=EmptyForm(), now=now, invitation=invitation,
        window_open=majlis_session.registration_opens_at <= now < majlis_session.registration_closes_at,
        room_open=_room_open(majlis_session, now),
    )


def _room_open(row: MajlisSession, now) -> bool:
    from majlis.jitsi.services import check_window, settings_from_config

    try:
        check_window(row, settings_from_config(current_app.config), now)
    except MajlisError:
        return False
    return True


def _calendar_links(row: MajlisSession) -> dict:
    base = current_app.config["MAJLIS_BASE_URL"]
    lang = current_lang()
    title = row.title_en if lang == "en" else row.title_ar
    page = f"{base}/sessions/{row.id}"
    session_ics = base + url_for("calendar.session_feed", session_id=row.id)
    feed = base + (url_for("calendar.series_feed", series_id=row.series_id)
                   if row.series_id and row.visibility == Visibility.PUBLIC else url_for("calendar.public_feed"))
    return {
        "ics": session_ics,
        "subscribe": links.webcal(feed),
        "subscribe_google": links.google_subscribe(feed),
        "google": links.google_add(title=title, starts_at=row.starts_at, ends_at=row.ends_at, details=page,
                                   timezone=current_app.config["MAJLIS_TIMEZONE"]),
        "outlook": links.outlook_add(title=title, starts_at=row.starts_at, ends_at=row.ends_at, details=page),
    }


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
        ping(get_database())
    except SQLAlchemyError as exc:
        log.error("health check: database unavailable (%s)", type(exc).__name__)
        return jsonify({"status": "unavailable", "database": "down"}), 503, {"Retry-After": "5"}
    return jsonify({"status": "ok", "database": "up"})
