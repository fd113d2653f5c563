"""/api/v1/series and /api/v1/sessions: planning and reading the schedule."""

from __future__ import annotations

from dataclasses import replace

from flask import current_app, jsonify, request, url_for

from majlis import cache
from majlis.api import api_viewer, bp, json_body, json_bytes, require_role
from majlis.api.spec import DAY_OR_EMPTY, NOT_MODIFIED, PUBLIC_READ, STAFF, documented, ok, query
from majlis.db import get_db, unit_of_work
from majlis.enums import Role
from majlis.schema_types import INT32_MAX, N_
from majlis.sessions import schemas, services
from majlis.timeutil import local_zone, utcnow

SESSION_LIST_PARAMS = (
    query("from", DAY_OR_EMPTY, N_("First local day (inclusive)")),
    query("to", DAY_OR_EMPTY, N_("Last local day (inclusive)")),
    query("series", {"type": "integer", "minimum": 1, "maximum": INT32_MAX}, N_("Only this series' sessions")),
    query("area", {"type": "string"}, N_("Only sessions held in this area (an area's id); empty: any")),
    query("kind", {"type": "string"}, N_("Only sessions of this kind (weekly, coordinating, special, field_visit); "
                                          "empty: any")),
)


def _horizon():
    from datetime import timedelta

    return timedelta(weeks=current_app.config["MAJLIS_HORIZON_WEEKS"])


@bp.get("/series")
@documented(N_("List the series"), who=PUBLIC_READ, tag="schedule", public=True,
            description="Invited-only series are listed for moderators, staff and officials.",
            responses=ok(schemas.SeriesList))
def list_series():
    return jsonify({"series": [schemas.Series.dump(s) for s in services.visible_series(get_db(), api_viewer())]})


@bp.post("/series")
@documented(N_("Create a series and its occurrences"), who=STAFF, tag="schedule", body=schemas.SeriesInput,
            forbidden=["forbidden"], responses=ok(schemas.Series, "The series", status=201, location=True),
            errors={400: ["invalid_input"]},
            refusals=("title_ar", "title_en", "rrule", "first_start", "reminder_minutes", "ends_on", "capacity",
                      "format", "place", "place.name_ar", "place.name_en", "place.address", "place.area_id",
                      "place.lat", "place.lon", "in_person_capacity"))
def create_series():
    staff = require_role(Role.STAFF)
    data = json_body()
    with unit_of_work() as db_session:
        series = services.create_series(db_session, data, actor=staff, zone=local_zone(), now=utcnow(),
                                        horizon=_horizon())
    return jsonify(schemas.Series.dump(series)), 201, {"Location": url_for("api.get_series", series_id=series.id)}


@bp.get("/series/<int:series_id>")
@documented(N_("Get one series"), who=PUBLIC_READ, tag="schedule", public=True, responses=ok(schemas.Series))
def get_series(series_id: int):
    return jsonify(schemas.Series.dump(services.get_visible_series(get_db(), series_id, api_viewer())))


@bp.get("/sessions")
@documented(N_("List sessions"), who=PUBLIC_READ, tag="schedule", public=True, params=SESSION_LIST_PARAMS,
            responses=(ok(schemas.SessionList), NOT_MODIFIED), errors={400: ["invalid_input"]},
            refusals=("from", "to", "area", "kind"))
def list_sessions():
    viewer = api_viewer()
    query_ = services.session_query(request.args, local_zone())
    viewer_class = services.list_class(viewer.role if viewer is not None else None)
    # The area and kind as asked: checked (an area must exist) when a body is built, so that a kept answer or a 304
    # opens no database session (see cache.read_version); a refused value is never kept, so it is refused every time.
    asked = (request.args.get("area") or "", request.args.get("kind") or "")

    def build() -> bytes:
        db_session = get_db()
        filtered = replace(query_, filters=services.session_filters(db_session, request.args))
        rows = services.list_sessions(db_session, filtered, viewer_class=viewer_class)
        return json_bytes({"sessions": [schemas.Session.dump(row) for row in rows]})

    # The same for every viewer of a class; private all the same (a token's class may see more than the public).
    return cache.conditional_read(cache.SESSIONS, ("list", viewer_class, query_, asked), build,
                                  mimetype="application/json", cache_control="private, no-cache")


@bp.post("/sessions")
@documented(N_("Create a one-off session"), who=STAFF, tag="schedule", body=schemas.SessionInput,
            forbidden=["forbidden"], responses=ok(schemas.Session, "The session", status=201, location=True),
            errors={400: ["invalid_input"]},
            refusals=("title_ar", "title_en", "starts_at", "capacity", "format", "place", "place.name_ar",
                      "place.name_en", "place.address", "place.area_id", "place.lat", "in_person_capacity",
                      "registration_opens_at", "registration_closes_at", "stream_url"))
def create_session():
    staff = require_role(Role.STAFF)
    data = json_body()
    with unit_of_work() as db_session:
        row = services.create_one_off(db_session, data, actor=staff, zone=local_zone(), now=utcnow())
    return jsonify(schemas.Session.dump(row)), 201, {"Location": url_for("api.get_session", session_id=row.id)}


@bp.get("/sessions/<int:session_id>")
@documented(N_("Get one session"), who=PUBLIC_READ, tag="schedule", public=True, responses=ok(schemas.Session))
def get_session(session_id: int):
    row = services.get_visible_session(get_db(), session_id, api_viewer())
    return jsonify(schemas.Session.dump(row))


@bp.patch("/sessions/<int:session_id>")
@documented(N_("Move a session or change its seats or registration window"), who=STAFF, tag="schedule",
            body=schemas.SessionPatch, forbidden=["forbidden"], responses=ok(schemas.Session, "The session"),
            errors={400: ["invalid_input"], 409: ["session_cancelled", "seats_taken"]},
            refusals=("starts_at", "ends_at", "capacity", "format", "place", "place.name_ar", "place.name_en",
                      "place.address", "place.area_id", "place.lat", "in_person_capacity", "registration_opens_at",
                      "registration_closes_at", "stream_url"))
def update_session(session_id: int):
    staff = require_role(Role.STAFF)
    data = json_body()
    with unit_of_work() as db_session:
        row = services.get_session(db_session, session_id)
        services.update_session(db_session, row, data, actor=staff, zone=local_zone(), now=utcnow())
    return jsonify(schemas.Session.dump(row))


@bp.post("/sessions/<int:session_id>/cancel")
@documented(N_("Cancel a session"), who=STAFF, tag="schedule", forbidden=["forbidden"], body=schemas.CancelInput,
            responses=ok(schemas.Session, "The session, status cancelled"),
            errors={400: ["invalid_input"], 409: ["session_cancelled", "session_ended"]},
            refusals=("reason",))
def cancel_session(session_id: int):
    staff = require_role(Role.STAFF)
    data = json_body()
    with unit_of_work() as db_session:
        row = services.get_session(db_session, session_id)
        services.cancel_session(db_session, row, reason=data.get("reason"), actor=staff, now=utcnow())
    return jsonify(schemas.Session.dump(row))


@bp.get("/export/calendar.ics")
@documented(N_("Export the calendar (iCalendar)"), who=STAFF, tag="schedule", params=SESSION_LIST_PARAMS,
            forbidden=["forbidden"],
            responses=(ok({"type": "string", "description": "RFC 5545 text"}, "The feed, with an ETag",
                          media_type="text/calendar"), NOT_MODIFIED),
            errors={400: ["invalid_input"]},
            refusals=("from", "to"))
def export_calendar():
    from majlis.calendar.services import export_calendar as export
    from majlis.calendar.services import feed_context, ics_response

    staff = require_role(Role.STAFF)
    query_ = services.session_query(request.args, local_zone())
    _count, body = export(get_db(), query_, feed_context(), viewer=staff)
    return ics_response(body, filename="majlis-export.ics", private=True)
