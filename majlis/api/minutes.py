"""/api/v1 minutes and the archive."""

from __future__ import annotations

from flask import current_app, jsonify, request, url_for
from flask_babel import lazy_gettext as _l

from majlis.api import api_viewer, bp, json_body, parsed, require_role
from majlis.api.spec import MINUTES_READERS, PUBLIC_READ, STAFF, documented, ok, query
from majlis.db import get_db, unit_of_work
from majlis.enums import Role
from majlis.minutes import attachments, schemas, services
from majlis.schema_types import N_
from majlis.sessions.services import get_visible_session
from majlis.timeutil import utcnow

MINUTES_OK = ok(schemas.Minutes, "The minutes")


def _attachment(row) -> dict:
    url = current_app.config["MAJLIS_BASE_URL"] + url_for("api.get_attachment", session_id=row.session_id,
                                                          attachment_id=row.id)
    return schemas.Attachment.dump(row, url)


def _minutes(view, rows) -> dict:
    return schemas.Minutes.dump(view, [_attachment(row) for row in rows])


def _current(db_session, session_id: int, viewer) -> dict:
    majlis_session = get_visible_session(db_session, session_id, viewer)
    return _minutes(services.view(db_session, majlis_session, viewer),
                    services.attachments_for(db_session, majlis_session, viewer))


@bp.get("/sessions/<int:session_id>/minutes")
@documented(N_("Read a session's minutes"), who=MINUTES_READERS, tag="minutes", public=True,
            description="Without `revision`: the latest published revision, or for staff the draft or approved text "
                        "(then `published_at` and `revision` are null).",
            params=(query("revision", {"type": "integer", "minimum": 1},
                          N_("A published revision; default the latest")),),
            responses=MINUTES_OK, errors={400: ["invalid_input"], 404: ["no_minutes", "no_revision"]},
            refusals=("revision",))
def get_minutes(session_id: int):
    viewer = api_viewer()
    db_session = get_db()
    majlis_session = get_visible_session(db_session, session_id, viewer)
    view = services.view(db_session, majlis_session, viewer, revision=request.args.get("revision"))
    return jsonify(_minutes(view, services.attachments_for(db_session, majlis_session, viewer)))


@bp.get("/sessions/<int:session_id>/attachments/<int:attachment_id>")
@documented(N_("Download a recording, transcript or chat log"), who=MINUTES_READERS, tag="minutes", public=True,
            description="Staff always; others once it is published with published minutes. From an S3 store the "
                        "answer is a redirect to a short-lived link.",
            responses=(ok({"type": "string", "contentMediaType": "application/octet-stream"}, "The file",
                          media_type="application/octet-stream"),
                       ok(None, "A short-lived link to the file in the S3-compatible store", status=302)),
            errors={404: ["no_attachment"]})
def get_attachment(session_id: int, attachment_id: int):
    """Serve the file: staff always; others once it is published with the minutes."""
    from majlis.minutes.views import attachment_response

    return attachment_response(get_db(), session_id, attachment_id, api_viewer())


@bp.patch("/sessions/<int:session_id>/attachments/<int:attachment_id>")
@documented(N_("Publish an attachment with the minutes, or keep it for staff"), who=STAFF, tag="minutes",
            forbidden=["forbidden"], body=schemas.PublishAttachmentInput, responses=ok(schemas.Attachment),
            errors={400: ["invalid_input"], 404: ["no_attachment"], 409: ["transcript_in_minutes"]})
def publish_attachment(session_id: int, attachment_id: int):
    """Let staff choose whether a recording (or a transcript kept out of the text) is published with the minutes."""
    staff = require_role(Role.STAFF)
    choice = parsed(schemas.PublishAttachmentInput, json_body(), field="public",
                    message=_l("Send {\"public\": true} or {\"public\": false}."))
    with unit_of_work() as db_session:
        get_visible_session(db_session, session_id, staff)
        row = attachments.set_public(db_session, session_id, attachment_id, staff, public=choice.public,
                                     now=utcnow())
    return jsonify(_attachment(row))


@bp.put("/sessions/<int:session_id>/minutes")
@documented(N_("Write the draft minutes"), who=STAFF, tag="minutes", forbidden=["forbidden"],
            body=schemas.DraftInput, responses=MINUTES_OK, errors={400: ["invalid_input"], 409: ["minutes_locked"]},
            refusals=("body",))
def put_minutes(session_id: int):
    staff = require_role(Role.STAFF)
    data = json_body()
    with unit_of_work() as db_session:
        majlis_session = get_visible_session(db_session, session_id, staff)
        services.edit_draft(db_session, majlis_session, staff, body=data.get("body"), now=utcnow())
    return jsonify(_current(get_db(), session_id, staff))


@bp.post("/sessions/<int:session_id>/minutes/approve")
@documented(N_("Approve the minutes"), who=STAFF, tag="minutes", forbidden=["forbidden"], responses=MINUTES_OK,
            errors={404: ["no_minutes"], 409: ["illegal_transition"]})
def approve_minutes(session_id: int):
    staff = require_role(Role.STAFF)
    with unit_of_work() as db_session:
        services.approve(db_session, get_visible_session(db_session, session_id, staff), staff, now=utcnow())
    return jsonify(_current(get_db(), session_id, staff))


@bp.post("/sessions/<int:session_id>/minutes/publish")
@documented(N_("Publish the minutes"), who=STAFF, tag="minutes", forbidden=["forbidden"], responses=MINUTES_OK,
            errors={404: ["no_minutes"], 409: ["illegal_transition"]})
def publish_minutes(session_id: int):
    staff = require_role(Role.STAFF)
    with unit_of_work() as db_session:
        services.publish(db_session, get_visible_session(db_session, session_id, staff), staff, now=utcnow())
    return jsonify(_current(get_db(), session_id, staff))


@bp.post("/sessions/<int:session_id>/minutes/revisions")
@documented(N_("Publish a corrected revision of the minutes"), who=STAFF, tag="minutes", forbidden=["forbidden"],
            body=schemas.RevisionInput,
            responses=ok(schemas.Minutes, "The minutes with the new published revision", status=201),
            errors={400: ["invalid_input"], 404: ["no_minutes"], 409: ["illegal_transition"]},
            refusals=("body", "reason"))
def revise_minutes(session_id: int):
    staff = require_role(Role.STAFF)
    data = json_body()
    with unit_of_work() as db_session:
        services.revise(db_session, get_visible_session(db_session, session_id, staff), staff,
                        body=data.get("body"), reason=data.get("reason"), now=utcnow())
    return jsonify(_current(get_db(), session_id, staff)), 201


@bp.get("/archive")
@documented(N_("Search the published minutes"), who=PUBLIC_READ, tag="minutes", public=True,
            description="Minutes and transcripts, on the database's full-text index; Arabic spelling variants "
                        "(hamza, taa marbuta, alef maqsura, diacritics, tatweel) match; ranked.",
            params=(query("q", {"type": "string"}, N_("Words to look for, in Arabic or English; spelling variants "
                                                      "match")),),
            responses=ok(schemas.ArchiveResults))
def archive():
    viewer = api_viewer()
    hits = services.search(get_db(), request.args.get("q", ""), viewer=viewer)
    return jsonify({"results": [schemas.ArchiveResult.dump(hit) for hit in hits]})
