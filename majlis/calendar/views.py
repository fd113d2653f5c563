"""Calendar feed URLs (.ics) and the personal feed's secret on the account page."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from majlis import cache
from majlis.auth.decorators import login_required
from majlis.auth.forms import EmptyForm
from majlis.calendar import services
from majlis.db import get_db, unit_of_work
from majlis.errors import NotFound
from majlis.sessions.services import get_public_series, get_visible_session
from majlis.timeutil import utcnow

bp = Blueprint("calendar", __name__, url_prefix="/calendar")


PUBLIC_FEED_CACHE = "public, max-age=300"  # a proxy or CDN may carry a public feed for five minutes


def _public_feed_response(series_id: int | None, filename: str) -> Response:
    """A public feed, answered from the calendar's version (304, or the body built once for it)."""
    ctx = services.feed_context()
    response = cache.conditional_read(
        cache.CALENDAR, ("feed", series_id, ctx.lang, ctx.base_url),
        lambda: services.public_feed(get_db(), ctx, series_id=series_id),
        mimetype="text/calendar", cache_control=PUBLIC_FEED_CACHE)
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@bp.get("/majlis.ics")
def public_feed():
    """Serve the public calendar of all public sessions."""
    return _public_feed_response(None, "majlis.ics")


@bp.get("/series/<int:series_id>.ics")
def series_feed(series_id: int):
    """Serve the public calendar of one public series."""
    get_public_series(get_db(), series_id)
    return _public_feed_response(series_id, f"majlis-series-{series_id}.ics")


@bp.get("/sessions/<int:session_id>.ics")
def session_feed(session_id: int):
    """Serve one session the viewer may see as an .ics file."""
    viewer = current_user if current_user.is_authenticated else None
    row = get_visible_session(get_db(), session_id, viewer)
    return services.ics_response(services.session_feed(row, services.feed_context()),
                                 filename=f"majlis-session-{session_id}.ics")


@bp.get("/feed/<secret>.ics")
def personal_feed(secret: str):
    """Serve a personal calendar feed by its secret link."""
    if len(secret) > 64:
        raise NotFound()
    db_session = get_db()
    user = services.user_for_feed(db_session, secret)
    body = services.personal_feed(db_session, user, services.feed_context(), now=utcnow())
    return services.ics_response(body, filename="majlis-personal.ics", private=True)


@bp.post("/personal")
@login_required
def issue_personal_feed():
    """Make a new personal calendar link, switching off the previous one."""
    if EmptyForm().validate_on_submit():
        with unit_of_work() as db_session:
            services.issue_feed(db_session, current_user, now=utcnow())
        flash(_("Your personal calendar link is ready. Links you shared before no longer work."), "success")
    return redirect(url_for("auth.account") + "#calendar-heading")


@bp.post("/personal/revoke")
@login_required
def revoke_personal_feed():
    """Switch off the user's personal calendar link."""
    if EmptyForm().validate_on_submit():
        with unit_of_work() as db_session:
            services.revoke_feed(db_session, current_user, now=utcnow())
        flash(_("Your personal calendar link was switched off."), "success")
    return redirect(url_for("auth.account") + "#calendar-heading")
