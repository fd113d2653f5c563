"""The e-mail verification code: queued when auth asks (majlis/auth/hooks.py), rendered at delivery."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from majlis.auth.models import User
from majlis.notifications import services
from majlis.notifications.rendering import Message, RenderContext, Skip, renders


def enqueue_verification_code(db_session: Session, user: User, *, code: str, lang: str, now: datetime) -> None:
    """Queue the verification code for the user's address, in the language of the page that asked for it."""
    services.enqueue(db_session, kind="email_verification", user=user, now=now, params={"code": code, "lang": lang})


@renders("email_verification")
def _verification_code(ctx: RenderContext, params: dict) -> Message:
    if ctx.recipient.is_verified:
        raise Skip("the account is verified already")
    return Message(subject=_("Your Majlis verification code"),
                   text=_("Your verification code is %(code)s. It is valid for 30 minutes.", code=params["code"]))
