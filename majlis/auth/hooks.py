"""How auth's messages reach the account holder: a sender registered by the notifications capability.

Notifications depend on auth (its User, decorators and forms), not the reverse: sign-up and "send me a new code" hand
the code to the sender registered here, and the app factory (`_connect_capabilities` in majlis/__init__.py) registers
notifications' (majlis/notifications/verification.py, which queues the e-mail and renders it at delivery).
Registering again replaces the earlier sender (tests build many apps).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from majlis.auth.models import User

# (db_session, user, *, code, lang, now) -> None: queue the e-mail verification code for the user, in the caller's
# transaction.
CodeSender = Callable[..., object]

_code_senders: list[CodeSender] = []


def provide_code_sender(sender: CodeSender) -> None:
    """Register (or replace) the sender of e-mail verification codes."""
    _code_senders[:] = [sender]


def send_code(db_session: Session, user: User, *, code: str, lang: str, now: datetime) -> None:
    """Hand a fresh verification code to the registered sender (the app factory registers one)."""
    if not _code_senders:
        raise RuntimeError("no sender of verification codes is registered; build the app with create_app()")
    _code_senders[0](db_session, user, code=code, lang=lang, now=now)
