"""Minutes pages: the public record, the staff editor, the archive search, and the moderators' notes."""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from majlis.auth.decorators import roles_required
from majlis.auth.forms import EmptyForm
from majlis.db import get_db, unit_of_work
from majlis.enums import Role
from majlis.errors import InvalidInput, MajlisError, as_id
from majlis.minutes import attachments, services
from majlis.sessions.services import get_visible_session
from majlis.timeutil import utcnow

bp = Blueprint("minutes", __name__)


def _viewer():
    return current_user if current_user.is_authenticated else None


@bp.get("/sessions/<int:session_id>/minutes")
def minutes_page(session_id: int):
    """Show a session's minutes as the viewer may read them."""
    db_session = get_db()
    majlis_session = get_visible_session(db_session, session_id, _viewer())
    view = services.view(db_session, majlis_session, _viewer(), revision=request.args.get("revision"))
    minutes = services.minutes_of(db_session, majlis_session)
    return render_template("minutes/minutes.html", majlis_session=majlis_session, view=view,
                           revisions=services.revisions(db_session, minutes),
                           attachments=services.attachments_for(db_session, majlis_session, _viewer()))


@bp.get("/sessions/<int:session_id>/minutes.<any(md, json):fmt>")
def minutes_download(session_id: int, fmt: str):
    """Send a session's minutes as Markdown or JSON."""
    db_session = get_db()
    majlis_session = get_visible_session(db_session, session_id, _viewer())
    view = services.view(db_session, majlis_session, _viewer(), revision=request.args.get("revision"))
    name = f"majlis-minutes-{session_id}" + (f"-r{view.revision}" if view.revision else "")
    if fmt == "json":
        body = json.dumps({"session_id": session_id, "title_ar": majlis_session.title_ar,
                           "title_en": majlis_session.title_en, "starts_at": majlis_session.starts_at.isoformat(),
                           "status": view.status.value, "revision": view.revision, "body": view.body,
                           "sha256": view.sha256}, ensure_ascii=False, indent=2)
        mimetype = "application/json"
    else:
        body, mimetype = view.body, "text/markdown"
    return Response(body.encode("utf-8"), headers={"Content-Type": f"{mimetype}; charset=utf-8",
                                                   "Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


@bp.route("/staff/sessions/<int:session_id>/minutes", methods=["GET", "POST"])
@roles_required(Role.STAFF)
def minutes_editor(session_id: int):
    """Show the minutes editor to staff and save, approve or publish from it."""
    db_session = get_db()
    majlis_session = get_visible_session(db_session, session_id, current_user)
    if request.method == "POST" and EmptyForm().validate_on_submit():
        action = request.form.get("action")
        try:
            with unit_of_work() as db_session:
                majlis_session = get_visible_session(db_session, session_id, current_user)
                if action == "save":
                    services.edit_draft(db_session, majlis_session, current_user, body=request.form.get("body"),
                                        now=utcnow())
                elif action == "approve":
                    services.approve(db_session, majlis_session, current_user, now=utcnow())
                elif action == "publish":
                    if not request.form.get("confirm"):  # publishing is for everyone and for good: asked first
                        raise InvalidInput(_("Tick the box to confirm that the minutes are to be published."),
                                           field="confirm")
                    services.publish(db_session, majlis_session, current_user, now=utcnow())
                elif action == "revise":
                    services.revise(db_session, majlis_session, current_user, body=request.form.get("body"),
                                    reason=request.form.get("reason"), now=utcnow())
                elif action in ("publish_attachment", "withhold_attachment"):
                    attachments.set_public(db_session, session_id, as_id(request.form.get("attachment")) or 0,
                                           current_user, public=action == "publish_attachment", now=utcnow())
        except MajlisError as exc:
            flash(str(exc.message), "error")
        else:
            flash(_editor_done(action), "success")
        return redirect(url_for("minutes.minutes_editor", session_id=session_id))
    minutes = services.minutes_of(db_session, majlis_session)
    return render_template("minutes/editor.html", majlis_session=majlis_session, minutes=minutes, form=EmptyForm(),
                           revisions=services.revisions(db_session, minutes) if minutes else [],
                           attachments=services.attachments_for(db_session, majlis_session, current_user))


def _editor_done(action: str | None) -> str:
    """What the editor's action did, said after it (not a bare "saved")."""
    return {
        "save": _("The draft is saved."),
        "approve": _("The minutes are approved: the text is locked until it is published."),
        "publish": _("The minutes are published: anyone can read them now, and find them in the archive."),
        "revise": _("The correction is published as a new revision; the earlier one stays readable."),
        "publish_attachment": _("The file is published with the minutes."),
        "withhold_attachment": _("The file is kept for staff only."),
    }.get(action or "", _("Saved."))


@bp.get("/sessions/<int:session_id>/attachments/<int:attachment_id>")
def attachment_download(session_id: int, attachment_id: int):
    """Serve a recording, transcript or chat log: staff always; others once published with the minutes."""
    return attachment_response(get_db(), session_id, attachment_id, _viewer())


def attachment_response(db_session, session_id: int, attachment_id: int, viewer):
    """Serve the file of an attachment the viewer may have (the folder's file, or a short-lived link to the S3
    object)."""
    from flask import send_file

    from majlis import storage

    majlis_session = get_visible_session(db_session, session_id, viewer)
    row = services.attachment_for(db_session, majlis_session, attachment_id, viewer)
    store = storage.from_config(current_app.config, current_app.instance_path)
    name = f"majlis-{session_id}-{row.kind.value}-{row.id}.{attachments.EXTENSIONS[row.kind]}"
    if isinstance(store, storage.FolderStorage):
        response = send_file(store.path(row.storage_key), mimetype=row.content_type, as_attachment=True,
                             download_name=name, conditional=True, etag=row.sha256)
    else:
        response = redirect(store.presigned_url(row.storage_key, filename=name))
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/archive")
def archive():
    """Search the published minutes the viewer may read."""
    query = request.args.get("q", "").strip()
    hits = services.search(get_db(), query, viewer=_viewer())
    return render_template("minutes/archive.html", query=query, hits=hits)


@bp.post("/sessions/<int:session_id>/notes")
@roles_required(Role.MODERATOR, Role.STAFF)
def save_notes(session_id: int):
    """Autosave the moderators' notes (JSON for the console's script, a redirect for the plain form)."""
    if not EmptyForm().validate_on_submit():
        return jsonify({"error": {"code": "csrf_failed", "message": _("Reload the page."), "field": None}}), 400
    with unit_of_work() as db_session:
        majlis_session = get_visible_session(db_session, session_id, current_user)
        note = services.save_notes(db_session, majlis_session, current_user, body=request.form.get("body"),
                                   now=utcnow())
    if request.headers.get("X-Requested-With") == "autosave":
        return jsonify({"saved_at": note.updated_at.isoformat()})
    flash(_("Notes saved."), "success")
    return redirect(url_for("questions.console", session_id=session_id) + "#notes-heading")
