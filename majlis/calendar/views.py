"""Calendar feed URLs (.ics) and the personal feed's secret on the account page."""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from majlis import cache
from majlis.auth.forms import EmptyForm
from majlis.calendar import services
from majlis.db import get_db, unit_of_work
from majlis.enums import Visibility
from majlis.errors import NotFound
from majlis.sessions.models import Series
from majlis.sessions.services import get_visible_session
from majlis.templating import current_lang
from majlis.timeutil import utcnow

bp = Blueprint("calendar", __name__, url_prefix="/calendar")


def feed_context() -> services.FeedContext:
    config = current_app.config
    return services.FeedContext(base_url=config["MAJLIS_BASE_URL"], timezone=config["MAJLIS_TIMEZONE"],
                                lang=current_lang(), organizer_email=config["MAIL_DEFAULT_SENDER"])


def ics_response(body: bytes, *, filename: str, private: bool = False, etag: str | None = None) -> Response:
    """Serve a feed with an ETag (of its bytes unless given), answering 304 to a matching If-None-Match."""
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-cache" if private else "public, no-cache"
    if private:
        response.headers["Referrer-Policy"] = "no-referrer"
    response.set_etag(etag or hashlib.sha256(body).hexdigest()[:32])
    return response.make_conditional(request)


def _built_feed(version: int, series_id: int | None, ctx: services.FeedContext) -> bytes:
    """The public feed's bytes, built once per calendar version, language and series in this worker.

    The caller reads the version before any data (a row loaded earlier would stay in the session as it was), and
    every change a feed shows raises it in its own transaction (majlis.cache), so a stored feed is never older than
    the version it is stored under.
    """
    body = cache.memo("majlis_built_feeds", (series_id, ctx.lang, version),
                      lambda: services.public_feed(get_db(), ctx, series_id=series_id), limit=32)
    return body


@bp.get("/majlis.ics")
def public_feed():
    version = cache.read_version(get_db(), cache.CALENDAR)
    return ics_response(_built_feed(version, None, feed_context()), filename="majlis.ics")


@bp.get("/series/<int:series_id>.ics")
def series_feed(series_id: int):
    version = cache.read_version(get_db(), cache.CALENDAR)  # before the series is read
    series = get_db().get(Series, series_id)
    if series is None or series.visibility != Visibility.PUBLIC:
        raise NotFound()
    return ics_response(_built_feed(version, series_id, feed_context()), filename=f"majlis-series-{series_id}.ics")


@bp.get("/sessions/<int:session_id>.ics")
def session_feed(session_id: int):
    viewer = current_user if current_user.is_authenticated else None
    row = get_visible_session(get_db(), session_id, viewer)
    return ics_response(services.session_feed(row, feed_context()), filename=f"majlis-session-{session_id}.ics")


@bp.get("/feed/<secret>.ics")
def personal_feed(secret: str):
    if len(secret) > 64:
        raise NotFound()
    db_session = get_db()
    user = services.user_for_feed(db_session, secret)
    body = services.personal_feed(db_session, user, feed_context(), now=utcnow())
    return ics_response(body, filename="majlis-personal.ics", private=True)


@bp.post("/personal")
@login_required
def issue_personal_feed():
    if EmptyForm().validate_on_submit():
        with unit_of_work() as db_session:
            services.issue_feed(db_session, current_user, now=utcnow())
        flash(_("Your personal calendar link is ready. Links you shared before no longer work."), "success")
    return redirect(url_for("auth.account") + "#calendar-heading")


@bp.post("/personal/revoke")
@login_required
def revoke_personal_feed():
    if EmptyForm().validate_on_submit():
        with unit_of_work() as db_session:
            services.revoke_feed(db_session, current_user, now=utcnow())
        flash(_("Your personal calendar link was switched off."), "success")
    return redirect(url_for("auth.account") + "#calendar-heading")
