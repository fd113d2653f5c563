"""Role checks for page views."""

from __future__ import annotations

from functools import wraps

from flask_login import current_user

from majlis.auth import permissions
from majlis.enums import Role
from majlis.errors import Forbidden, Unauthorized


def roles_required(*roles: Role):
    """Allow only signed-in users with one of these roles (admins always pass)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                raise Unauthorized()
            if not permissions.has_role(current_user, *roles):
                raise Forbidden()
            return view(*args, **kwargs)

        return wrapped

    return decorator
