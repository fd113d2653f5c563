"""Who holds which standing: the one place where roles are grouped and asked about.

Every rule that depends on a role asks here (services, views, templates through the `User` properties), so a role
added or regrouped changes in one place.
"""

from __future__ import annotations

from majlis.enums import Role

# The governor's office: moderates the questions, opens cases, enters the room as a Jitsi moderator.
OFFICE_ROLES = frozenset({Role.MODERATOR, Role.STAFF, Role.ADMIN})
# Plans sessions, edits minutes, sees registrants and exports.
STAFF_ROLES = frozenset({Role.STAFF, Role.ADMIN})
# See every session listed, invitation-only ones included (officials attend the coordinating majlis).
SEE_ALL_SESSIONS = OFFICE_ROLES | {Role.OFFICIAL}


def has_role(user, *roles: Role) -> bool:
    """Whether the user holds one of `roles`; administrators hold them all."""
    return user is not None and (user.role in roles or user.role == Role.ADMIN)


def is_office(user) -> bool:
    """A member of the governor's office (moderator, staff or administrator)."""
    return user is not None and user.role in OFFICE_ROLES


def is_staff(user) -> bool:
    return user is not None and user.role in STAFF_ROLES


def is_official(user) -> bool:
    return user is not None and user.role == Role.OFFICIAL


def is_resident(user) -> bool:
    return user is not None and user.role == Role.RESIDENT


def sees_all_sessions(role: Role | str | None) -> bool:
    """Whether a role sees invitation-only sessions listed (by the role alone: lists are cached per class)."""
    return role is not None and Role(role) in SEE_ALL_SESSIONS
