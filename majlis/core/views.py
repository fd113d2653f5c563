"""The staff desk, the health check and the site's icon."""

from __future__ import annotations

import functools
import logging

from flask import Blueprint, current_app, jsonify, render_template, send_from_directory
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from majlis.auth.decorators import roles_required
from majlis.auth.models import User
from majlis.db import get_database, get_db, ping
from majlis.enums import Role
from majlis.sessions import services as session_services
from majlis.timeutil import utcnow

bp = Blueprint("core", __name__)
log = logging.getLogger(__name__)


def _viewer():
    return current_user if current_user.is_authenticated else None


@bp.route("/staff/")
@roles_required(Role.STAFF)
def staff_home():
    db_session = get_db()
    sessions = session_services.upcoming_sessions(db_session, viewer=current_user, now=utcnow(), limit=50)
    counts = dict(db_session.execute(select(User.role, func.count()).group_by(User.role)).all())
    return render_template("core/staff.html", sessions=sessions, counts=counts, roles=list(Role))


@bp.route("/healthz")
def healthz():
    """503 when the database does not answer; Redis only degrades (rate limits count per worker, live updates poll,
    built bodies are built each time), so a Redis outage shows as `"redis": "degraded"` with 200."""
    try:
        ping(get_database())
    except SQLAlchemyError as exc:
        log.error("health check: database unavailable (%s)", type(exc).__name__)
        return jsonify({"status": "unavailable", "database": "down"}), 503, {"Retry-After": "5"}
    answer = {"status": "ok", "database": "up"}
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url:
        answer["redis"] = "up" if _redis_answers(redis_url) else "degraded"
    return jsonify(answer)


@functools.cache
def _redis_client(url: str):
    import redis

    # Short timeouts: a health check must answer even when Redis's host does not.
    return redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)


def _redis_answers(url: str) -> bool:
    try:
        return bool(_redis_client(url).ping())
    except Exception as exc:  # noqa: BLE001 - any failure is an unreachable Redis
        log.warning("health check: Redis unreachable (%s); running degraded", type(exc).__name__)
        return False


@bp.get("/favicon.ico")
def favicon():
    """The icon browsers ask for at the root whatever the page says (and feed readers, and bookmarks)."""
    return send_from_directory(f"{current_app.static_folder}/icons", "favicon.ico",
                               mimetype="image/vnd.microsoft.icon", max_age=86400)
