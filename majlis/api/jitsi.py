"""/api/v1/sessions/<id>/join: a signed Jitsi room token for an entitled user."""

from __future__ import annotations

from flask import current_app, jsonify

from majlis.api import api_user, bp
from majlis.api.spec import ENTITLED, documented, ok
from majlis.db import get_db
from majlis.jitsi import services
from majlis.jitsi.schemas import RoomToken
from majlis.schema_types import N_
from majlis.sessions.services import get_visible_session
from majlis.timeutil import utcnow


@bp.post("/sessions/<int:session_id>/join")
@documented(N_("Get a token for the session's video room"), who=ENTITLED, tag="registrations",
            forbidden=["not_registered"],
            description="The token's role: moderator (the Governor's office), participant (a seat, an invitation, or "
                        "a question on air until shortly after its answer), or visitor (view-only, with "
                        "JITSI_VISITORS) for the waiting line and public viewing.",
            responses=ok(RoomToken),
            errors={409: ["session_cancelled", "not_open_yet", "session_ended", "no_room"],
                    503: ["jitsi_not_configured"]})
def join(session_id: int):
    user = api_user()
    db_session = get_db()
    majlis_session = get_visible_session(db_session, session_id, user)  # an outsider learns nothing of an invited one
    token = services.join(db_session, majlis_session, user, settings=services.settings_from_config(current_app.config),
                          now=utcnow())
    return jsonify(RoomToken.dump(token))
