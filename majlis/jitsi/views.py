"""The join page: the session's Jitsi room embedded through the IFrame API, with the user's token."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_login import current_user

from majlis.auth.decorators import login_required
from majlis.db import get_db
from majlis.errors import MajlisError
from majlis.jitsi import services
from majlis.sessions.services import get_visible_session
from majlis.templating import current_lang
from majlis.timeutil import utcnow

bp = Blueprint("jitsi", __name__)


@bp.get("/sessions/<int:session_id>/join")
@login_required
def join_page(session_id: int):
    """Show the session's video room to an entitled user, with a signed room token."""
    settings = services.settings_from_config(current_app.config)
    token = problem = None
    status = 200
    db_session = get_db()
    majlis_session = get_visible_session(db_session, session_id, current_user)
    try:
        token = services.join(db_session, majlis_session, current_user, settings=settings, now=utcnow())
    except MajlisError as exc:
        if exc.status == 404:
            raise
        problem, status = exc, exc.status
    return render_template(
        "jitsi/join.html", majlis_session=majlis_session, token=token, problem=problem,
        external_api=services.external_api_url(current_app.config, settings), lang_code=current_lang(),
        not_configured=settings.profile is None,
    ), status
