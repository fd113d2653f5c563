"""/api/v1/bodies: the government bodies."""

from __future__ import annotations

from flask import jsonify
from sqlalchemy import select

from majlis.api import api_user, bp
from majlis.api.serializers import body_to_dict
from majlis.db import get_db
from majlis.directory.models import GovernmentBody


@bp.get("/bodies")
def bodies():
    api_user()
    rows = get_db().scalars(select(GovernmentBody).where(GovernmentBody.is_active).order_by(GovernmentBody.id))
    return jsonify({"bodies": [body_to_dict(body) for body in rows]})
