"""/api/v1 minutes and the archive."""

from __future__ import annotations

from flask import current_app, jsonify, request, url_for
from flask_babel import lazy_gettext as _l

from majlis.api import api_viewer, bp, json_body, require_role
from majlis.db import get_db, unit_of_work
from majlis.enums import Role
from majlis.errors import InvalidInput
from majlis.minutes import attachments, services
from majlis.sessions.services import get_visible_session
from majlis.timeutil import utcnow


def view_to_dict(view: services.View, attachments=()) -> dict:
    return {"status": view.status.value, "body": view.body,
            "published_at": view.published_at.isoformat() if view.published_at else None,
            "sha256": view.sha256, "revision": view.revision, "reason": view.reason,
            "attachments": [attachment_to_dict(row) for row in attachments]}


def attachment_to_dict(row) -> dict:
    url = current_app.config["MAJLIS_BASE_URL"] + url_for("api.get_attachment", session_id=row.session_id,
                                                          attachment_id=row.id)
    return {"id": row.id, "kind": row.kind.value, "sha256": row.sha256, "size": row.size, "url": url,
            "content_type": row.content_type, "public": row.is_public}


def _current(db_session, session_id: int, viewer) -> dict:
    majlis_session = get_visible_session(db_session, session_id, viewer)
    return view_to_dict(services.view(db_session, majlis_session, viewer),
                        services.attachments_for(db_session, majlis_session, viewer))


@bp.get("/sessions/<int:session_id>/minutes")
def get_minutes(session_id: int):
    viewer = api_viewer()
    db_session = get_db()
    majlis_session = get_visible_session(db_session, session_id, viewer)
    view = services.view(db_session, majlis_session, viewer, revision=request.args.get("revision"))
    return jsonify(view_to_dict(view, services.attachments_for(db_session, majlis_session, viewer)))


@bp.get("/sessions/<int:session_id>/attachments/<int:attachment_id>")
def get_attachment(session_id: int, attachment_id: int):
    """The file: staff always; others once it is published with the minutes."""
    from majlis.minutes.views import attachment_response

    return attachment_response(get_db(), session_id, attachment_id, api_viewer())


@bp.patch("/sessions/<int:session_id>/attachments/<int:attachment_id>")
def publish_attachment(session_id: int, attachment_id: int):
    """Staff choose whether a recording (or a transcript kept out of the text) is published with the minutes."""
    staff = require_role(Role.STAFF)
    data = json_body()
    if set(data) != {"public"} or not isinstance(data["public"], bool):
        raise InvalidInput(_l("Send {\"public\": true} or {\"public\": false}."), field="public")
    with unit_of_work() as db_session:
        get_visible_session(db_session, session_id, staff)
        row = attachments.set_public(db_session, session_id, attachment_id, staff, public=data["public"],
                                     now=utcnow())
    return jsonify(attachment_to_dict(row))


@bp.put("/sessions/<int:session_id>/minutes")
def put_minutes(session_id: int):
    staff = require_role(Role.STAFF)
    data = json_body()
    with unit_of_work() as db_session:
        majlis_session = get_visible_session(db_session, session_id, staff)
        services.edit_draft(db_session, majlis_session, staff, body=data.get("body"), now=utcnow())
    return jsonify(_current(get_db(), session_id, staff))


@bp.post("/sessions/<int:session_id>/minutes/approve")
def approve_minutes(session_id: int):
    staff = require_role(Role.STAFF)
    with unit_of_work() as db_session:
        services.approve(db_session, get_visible_session(db_session, session_id, staff), staff, now=utcnow())
    return jsonify(_current(get_db(), session_id, staff))


@bp.post("/sessions/<int:session_id>/minutes/publish")
def publish_minutes(session_id: int):
    staff = require_role(Role.STAFF)
    with unit_of_work() as db_session:
        services.publish(db_session, get_visible_session(db_session, session_id, staff), staff, now=utcnow())
    return jsonify(_current(get_db(), session_id, staff))


@bp.post("/sessions/<int:session_id>/minutes/revisions")
def revise_minutes(session_id: int):
    staff = require_role(Role.STAFF)
    data = json_body()
    with unit_of_work() as db_session:
        services.revise(db_session, get_visible_session(db_session, session_id, staff), staff,
                        body=data.get("body"), reason=data.get("reason"), now=utcnow())
    return jsonify(_current(get_db(), session_id, staff)), 201


@bp.get("/archive")
def archive():
    viewer = api_viewer()
    hits = services.search(get_db(), request.args.get("q", ""), viewer=viewer)
    return jsonify({"results": [{"session_id": hit.majlis_session.id, "title": hit.majlis_session.title_ar,
                                 "title_en": hit.majlis_session.title_en,
                                 "starts_at": hit.majlis_session.starts_at.isoformat(), "snippet": hit.snippet,
                                 "highlights": [piece.text for piece in hit.pieces if piece.is_match]}
                                for hit in hits]})
