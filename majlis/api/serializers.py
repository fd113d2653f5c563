"""Turn models into the JSON shapes of CONTRACT.md."""

from __future__ import annotations

from majlis.auth.models import User
from majlis.core.models import GovernmentBody


def user_to_dict(user: User) -> dict:
    return {"id": user.id, "email": user.email, "name": user.name, "role": user.role.value,
            "verified": user.is_verified}


def body_to_dict(body: GovernmentBody) -> dict:
    return {"id": body.id, "name_ar": body.name_ar, "name_en": body.name_en}
