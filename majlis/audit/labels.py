"""The audit log's codes in words: actions, kinds of record and states (the codes stay stored as they are)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

ACTIONS = {
    "attachment.publish": _l("File published with the minutes (or kept for staff)"),
    "attachment.unpublish": _l("File kept for staff only"),
    "case.contact_consent": _l("Resident answered whether the body may contact them"),
    "case.feedback": _l("Resident answered \"was it fixed?\""),
    "case.open": _l("Case opened"),
    "case.overdue": _l("Case became overdue"),
    "case.triage": _l("Request sent to a government body"),
    "case.update": _l("Case updated"),
    "category.create": _l("Category created"),
    "category.update": _l("Category changed"),
    "invitation.create": _l("Invitations sent"),
    "minutes.approve": _l("Minutes approved"),
    "minutes.edit": _l("Minutes draft edited"),
    "minutes.publish": _l("Minutes published"),
    "minutes.revise": _l("Minutes corrected (new revision)"),
    "question.approved": _l("Question approved"),
    "question.rejected": _l("Question rejected"),
    "question.on_air": _l("Question put on air"),
    "question.answered": _l("Question answered"),
    "question.merged": _l("Question merged into another"),
    "question.withdrawn": _l("Question withdrawn"),
    "registration.check_in": _l("Resident checked in at the door"),
    "series.create": _l("Series created"),
    "series.edit": _l("Series changed"),
    "series.end": _l("Series ended"),
    "session.cancel": _l("Session cancelled"),
    "session.create": _l("Session created"),
    "session.update": _l("Session changed"),
    "token.create": _l("API token created"),
    "token.revoke": _l("API token revoked"),
    "user.create": _l("Account created by an administrator"),
    "user.delete": _l("Account deleted"),
    "user.password": _l("Password changed"),
    "user.phone_verify": _l("Mobile number verified"),
    "user.signup": _l("Account signed up"),
    "user.verify": _l("E-mail address confirmed"),
}

OBJECTS = {
    "api_token": _l("API token"),
    "attachment": _l("File"),
    "case": _l("Case"),
    "case_category": _l("Category"),
    "minutes": _l("Minutes"),
    "question": _l("Question"),
    "registration": _l("Registration"),
    "series": _l("Series"),
    "session": _l("Session"),
    "user": _l("Account"),
}

STATES = {
    "draft": _l("Draft"),
    "approved": _l("Approved"),
    "published": _l("Published"),
    "pending": _l("Waiting for review"),
    "on_air": _l("On air"),
    "answered": _l("Answered"),
    "rejected": _l("Rejected"),
    "merged": _l("Merged"),
    "withdrawn": _l("Withdrawn"),
    "submitted": _l("Waiting for triage"),
    "open": _l("Open"),
    "in_progress": _l("In progress"),
    "resolved": _l("Resolved"),
    "declined": _l("Declined"),
    "confirmed": _l("Confirmed"),
    "waitlisted": _l("In the waiting line"),
    "cancelled": _l("Cancelled"),
    "scheduled": _l("Scheduled"),
    "live": _l("Live now"),
    "ended": _l("Ended"),
    "replaced_unconfirmed": _l("Replaced (never confirmed)"),
    "resident": _l("Resident"),
    "moderator": _l("Moderator (Governor's office)"),
    "staff": _l("Staff"),
    "official": _l("Official of a government body"),
    "admin": _l("Administrator"),
}


def label(table: dict, code: str | None) -> str:
    """The words for a code, or the code itself when it has none (a new action shows up rather than vanishing)."""
    if not code:
        return ""
    found = table.get(code)
    return str(found) if found is not None else code
