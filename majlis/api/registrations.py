"""/api/v1/sessions/<id>/registrations: seats and the waiting line."""

from __future__ import annotations

from flask import jsonify, request

from majlis.api import api_user, bp, json_body, require_role
from majlis.api.spec import ANY_USER, NO_CONTENT, RESIDENT, STAFF_OR_MODERATOR, documented, ok
from majlis.db import get_db, unit_of_work
from majlis.enums import Role
from majlis.errors import NotFound
from majlis.registration import schemas, services
from majlis.schema_types import N_
from majlis.sessions.services import get_visible_session
from majlis.timeutil import utcnow


@bp.post("/sessions/<int:session_id>/registrations")
@documented(N_("Register for a session"), who=RESIDENT, tag="registrations", forbidden=["residents_only"],
            body=schemas.RegisterInput, body_required=False,
            responses=ok(schemas.Registration, "A seat, or a place in the pool's waiting line", status=201),
            errors={400: ["invalid_input"], 409: ["already_registered", "registration_closed", "session_cancelled"]},
            refusals=("mode",))
def register(session_id: int):
    user = api_user()
    # The body is optional ({"mode": ...}); without one, the session's first pool (online, or the hall's).
    mode = json_body().get("mode") if request.content_length else None
    with unit_of_work() as db_session:
        place = services.register(db_session, session_id, user, now=utcnow(), mode=mode)
    return jsonify(schemas.Registration.dump(place)), 201


@bp.get("/sessions/<int:session_id>/registrations/me")
@documented(N_("Read my registration for a session"), who=ANY_USER, tag="registrations",
            responses=ok(schemas.Registration), errors={404: ["not_registered"]})
def my_registration(session_id: int):
    user = api_user()
    place = services.place_in(get_db(), session_id, user)
    if place is None:
        raise NotFound(code="not_registered")
    return jsonify(schemas.Registration.dump(place))


@bp.delete("/sessions/<int:session_id>/registrations/me")
@documented(N_("Give up my seat or place in line"), who=ANY_USER, tag="registrations", responses=NO_CONTENT,
            errors={404: ["not_registered"], 409: ["session_started"]})
def cancel_registration(session_id: int):
    user = api_user()
    with unit_of_work() as db_session:
        services.cancel(db_session, session_id, user, now=utcnow())
    return "", 204


@bp.get("/sessions/<int:session_id>/registrations")
@documented(N_("List a session's registrants"), who=STAFF_OR_MODERATOR, tag="registrations",
            forbidden=["forbidden"], responses=ok(schemas.RegistrantList))
def list_registrations(session_id: int):
    viewer = require_role(Role.STAFF, Role.MODERATOR)
    db_session = get_db()
    majlis_session = get_visible_session(db_session, session_id, viewer)
    from_room = services.attendance_from_room(db_session, majlis_session)
    return jsonify({"registrations": [
        schemas.Registrant.dump(r, position, attended=services.attended(r, from_room))
        for r, position in services.active_registrations(db_session, majlis_session)
    ]})


@bp.post("/sessions/<int:session_id>/check-in")
@documented(N_("Check a resident in at the door"), who=STAFF_OR_MODERATOR, tag="registrations",
            forbidden=["forbidden"], body=schemas.CheckInInput,
            responses=ok(schemas.CheckIn, "The resident, checked in"),
            errors={400: ["invalid_input"], 404: ["unknown_code"],
                    409: ["already_checked_in", "not_confirmed", "session_cancelled"]},
            refusals=("code",))
def check_in(session_id: int):
    viewer = require_role(Role.STAFF, Role.MODERATOR)
    data = json_body()
    with unit_of_work() as db_session:
        majlis_session = get_visible_session(db_session, session_id, viewer)
        registration = services.check_in(db_session, majlis_session, data.get("code"), actor=viewer, now=utcnow())
        answer = schemas.CheckIn.dump(registration)
    return jsonify(answer)
