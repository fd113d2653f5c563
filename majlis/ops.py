"""Operations endpoints outside any capability: the health check and the site's icon."""

from __future__ import annotations

import functools
import logging

from flask import Blueprint, current_app, jsonify, send_from_directory
from sqlalchemy.exc import SQLAlchemyError

from majlis.db import get_database, ping

bp = Blueprint("ops", __name__)
log = logging.getLogger(__name__)


@bp.route("/healthz")
def healthz():
    """Report whether the database and Redis answer: 503 without the database, 200 with Redis only degraded.

    Redis only degrades (rate limits count per worker, live updates poll, built bodies are built each time), so a
    Redis outage shows as `"redis": "degraded"` with 200.
    """
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
    """Serve the icon browsers ask for at the root whatever the page says (and feed readers, and bookmarks)."""
    return send_from_directory(f"{current_app.static_folder}/icons", "favicon.ico",
                               mimetype="image/vnd.microsoft.icon", max_age=86400)
