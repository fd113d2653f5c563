"""/api/v1/sessions/<id>/join: a signed Jitsi room token for an entitled user."""

from __future__ import annotations

from flask import current_app, jsonify

from majlis.api import api_user, bp
from majlis.db import get_db
from majlis.jitsi import services
from majlis.sessions.services import get_visible_session
from majlis.timeutil import utcnow


@bp.post("/sessions/<int:session_id>/join")
def join(session_id: int):
    user = api_user()
    db_session = get_db()
    majlis_session = get_visible_session(db_session, session_id, user)  # an outsider learns nothing of an invited one
    token = services.join(db_session, majlis_session, user, settings=services.settings_from_config(current_app.config),
                          now=utcnow())
    return jsonify({"jwt": token.jwt, "domain": token.domain, "room": token.room, "url": token.url,
                    "expires_at": token.expires_at.isoformat(), "moderator": token.moderator,
                    "role": token.role})
