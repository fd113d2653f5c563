"""/api/v1/bodies: the government bodies."""

from __future__ import annotations

from flask import jsonify

from majlis.api import api_user, bp
from majlis.api.spec import ANY_USER, documented, ok
from majlis.db import get_db
from majlis.directory import services
from majlis.followups.schemas import Body, BodyList
from majlis.schema_types import N_


@bp.get("/bodies")
@documented(N_("List the government bodies"), who=ANY_USER, tag="directory", responses=ok(BodyList))
def bodies():
    api_user()
    return jsonify({"bodies": [Body.dump(body) for body in services.active_bodies(get_db())]})
