"""Staff planning pages: series, one-off sessions, the month view, moving and cancelling occurrences."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("planning", __name__, url_prefix="/staff")
