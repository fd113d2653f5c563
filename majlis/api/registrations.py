"""/api/v1/sessions/<id>/registrations: seats and the waiting line."""

from __future__ import annotations

from flask import jsonify, request

from majlis.api import api_user, bp, json_body, require_role
from majlis.db import get_db, unit_of_work
from majlis.enums import Role
from majlis.errors import NotFound
from majlis.registration import services
from majlis.sessions.services import get_visible_session
from majlis.timeutil import utcnow


def place_to_dict(place: services.Place) -> dict:
    answer = {"id": place.id, "session_id": place.session_id, "status": place.status.value,
              "position": place.position, "mode": place.mode.value}
    if place.check_in_code is not None:
        answer["check_in_code"] = place.check_in_code
    return answer


@bp.post("/sessions/<int:session_id>/registrations")
def register(session_id: int):
    user = api_user()
    # The body is optional ({"mode": ...}); without one, the session's first pool (online, or the hall's).
    mode = json_body().get("mode") if request.content_length else None
    with unit_of_work() as db_session:
        place = services.register(db_session, session_id, user, now=utcnow(), mode=mode)
    return jsonify(place_to_dict(place)), 201


@bp.get("/sessions/<int:session_id>/registrations/me")
def my_registration(session_id: int):
    user = api_user()
    db_session = get_db()
    majlis_session = db_session.get(services.MajlisSession, session_id)
    place = services.place_of(db_session, majlis_session, user) if majlis_session else None
    if place is None:
        raise NotFound(code="not_registered")
    return jsonify(place_to_dict(place))


@bp.delete("/sessions/<int:session_id>/registrations/me")
def cancel_registration(session_id: int):
    user = api_user()
    with unit_of_work() as db_session:
        services.cancel(db_session, session_id, user, now=utcnow())
    return "", 204


@bp.get("/sessions/<int:session_id>/registrations")
def list_registrations(session_id: int):
    viewer = require_role(Role.STAFF, Role.MODERATOR)
    db_session = get_db()
    majlis_session = get_visible_session(db_session, session_id, viewer)
    from_room = services.attendance_from_room(db_session, majlis_session)
    return jsonify({"registrations": [
        {"user_id": r.user_id, "name": r.user.name, "status": r.status.value, "position": position,
         "attended": services.attended(r, from_room), "joined_at": _iso(r.joined_at), "left_at": _iso(r.left_at),
         "minutes_present": r.seconds_present // 60 if r.joined_at else None, "mode": r.mode.value,
         "checked_in_at": _iso(r.checked_in_at)}
        for r, position in services.active_registrations(db_session, majlis_session)
    ]})


@bp.post("/sessions/<int:session_id>/check-in")
def check_in(session_id: int):
    viewer = require_role(Role.STAFF, Role.MODERATOR)
    data = json_body()
    with unit_of_work() as db_session:
        majlis_session = get_visible_session(db_session, session_id, viewer)
        registration = services.check_in(db_session, majlis_session, data.get("code"), actor=viewer, now=utcnow())
        answer = check_in_to_dict(registration)
    return jsonify(answer)


def check_in_to_dict(registration) -> dict:
    return {"user_id": registration.user_id, "name": registration.user.name,
            "checked_in_at": _iso(registration.checked_in_at)}


def _iso(instant):
    return instant.isoformat() if instant is not None else None
