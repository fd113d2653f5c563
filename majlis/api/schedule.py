"""/api/v1/series and /api/v1/sessions: planning and reading the schedule."""

from __future__ import annotations

from flask import current_app, jsonify, request, url_for
from sqlalchemy import select

from majlis import cache
from majlis.api import api_viewer, bp, json_body, json_bytes, require_role
from majlis.api.serializers import series_to_dict, session_to_dict
from majlis.auth import permissions
from majlis.db import get_db, unit_of_work
from majlis.enums import Role
from majlis.errors import NotFound
from majlis.sessions import services
from majlis.sessions.models import MajlisSession, Series
from majlis.timeutil import local_zone, utcnow


def _horizon():
    from datetime import timedelta

    return timedelta(weeks=current_app.config["MAJLIS_HORIZON_WEEKS"])


@bp.get("/series")
def list_series():
    viewer = api_viewer()
    statement = select(Series).order_by(Series.id)
    if not permissions.sees_all_sessions(viewer.role if viewer is not None else None):
        statement = statement.where(Series.visibility == "public")
    return jsonify({"series": [series_to_dict(s) for s in get_db().scalars(statement)]})


@bp.post("/series")
def create_series():
    staff = require_role(Role.STAFF)
    data = json_body()
    with unit_of_work() as db_session:
        series = services.create_series(db_session, data, actor=staff, zone=local_zone(), now=utcnow(),
                                        horizon=_horizon())
    return jsonify(series_to_dict(series)), 201, {"Location": url_for("api.get_series", series_id=series.id)}


@bp.get("/series/<int:series_id>")
def get_series(series_id: int):
    viewer = api_viewer()
    series = get_db().get(Series, series_id)
    role = viewer.role if viewer is not None else None
    if series is None or (series.visibility.value != "public" and not permissions.sees_all_sessions(role)):
        raise NotFound()
    return jsonify(series_to_dict(series))


@bp.get("/sessions")
def list_sessions():
    viewer = api_viewer()
    query = services.session_query(request.args, local_zone())
    viewer_class = services.list_class(viewer.role if viewer is not None else None)

    def build() -> bytes:
        rows = services.list_sessions(get_db(), query, viewer_class=viewer_class)
        return json_bytes({"sessions": [session_to_dict(row) for row in rows]})

    # The same for every viewer of a class; private all the same (a token's class may see more than the public).
    return cache.conditional_read(cache.SESSIONS, ("list", viewer_class, query), build, mimetype="application/json",
                                  cache_control="private, no-cache")


@bp.post("/sessions")
def create_session():
    staff = require_role(Role.STAFF)
    data = json_body()
    with unit_of_work() as db_session:
        row = services.create_one_off(db_session, data, actor=staff, zone=local_zone(), now=utcnow())
    return jsonify(session_to_dict(row)), 201, {"Location": url_for("api.get_session", session_id=row.id)}


@bp.get("/sessions/<int:session_id>")
def get_session(session_id: int):
    row = services.get_visible_session(get_db(), session_id, api_viewer())
    return jsonify(session_to_dict(row))


@bp.patch("/sessions/<int:session_id>")
def update_session(session_id: int):
    staff = require_role(Role.STAFF)
    data = json_body()
    with unit_of_work() as db_session:
        row = _session_or_404(db_session, session_id)
        services.update_session(db_session, row, data, actor=staff, zone=local_zone(), now=utcnow())
    return jsonify(session_to_dict(row))


@bp.post("/sessions/<int:session_id>/cancel")
def cancel_session(session_id: int):
    staff = require_role(Role.STAFF)
    data = json_body()
    with unit_of_work() as db_session:
        row = _session_or_404(db_session, session_id)
        services.cancel_session(db_session, row, reason=data.get("reason"), actor=staff, now=utcnow())
    return jsonify(session_to_dict(row))


def _session_or_404(db_session, session_id: int) -> MajlisSession:
    row = db_session.get(MajlisSession, session_id)
    if row is None:
        raise NotFound()
    return row


@bp.get("/export/calendar.ics")
def export_calendar():
    from majlis.calendar import services as calendar_services
    from majlis.calendar.services import feed_context, ics_response

    staff = require_role(Role.STAFF)
    query = services.session_query(request.args, local_zone())
    rows = services.list_sessions(get_db(), query, viewer=staff, limit=5000)
    return ics_response(calendar_services.export_feed(rows, feed_context()), filename="majlis-export.ics",
                        private=True)
