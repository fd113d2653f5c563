"""The account's messages, rendered at delivery: the e-mail verification code."""

from __future__ import annotations

from flask_babel import gettext as _

from majlis.notifications.rendering import Message, RenderContext, Skip, renders


@renders("email_verification")
def _verification_code(ctx: RenderContext, params: dict) -> Message:
    if ctx.recipient.is_verified:
        raise Skip("the account is verified already")
    return Message(subject=_("Your Majlis verification code"),
                   text=_("Your verification code is %(code)s. It is valid for 30 minutes.", code=params["code"]))
