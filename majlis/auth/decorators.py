"""Role checks for page views."""

from __future__ import annotations

from functools import wraps

from flask import current_app, has_request_context, request
from flask_login import current_user
from flask_login import login_required as _flask_login_required

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

        wrapped.private_page = True
        return wrapped

    return decorator


def login_required(view):
    """Flask-Login's login_required, marking the page private (not for search engines)."""
    wrapped = _flask_login_required(view)
    wrapped.private_page = True
    return wrapped


def is_private_page() -> bool:
    """Whether this request's page is shown only to a signed-in person: it is `noindex` (search engines never sign
    in, and what they would find there is someone's own)."""
    if not has_request_context() or not request.endpoint:
        return False
    return bool(getattr(current_app.view_functions.get(request.endpoint), "private_page", False))
