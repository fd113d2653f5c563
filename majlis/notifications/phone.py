"""A verified mobile number: a 6-digit code goes by SMS to the number, and the number is the user's once they type
it back. Codes expire, each allows a few attempts, and a user may ask for only so many an hour."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from majlis.audit import services as audit
from majlis.auth.models import User
from majlis.errors import InvalidInput, MajlisError
from majlis.notifications import services as outbox
from majlis.notifications.models import PhoneVerification
from majlis.notifications.rendering import Message, RenderContext, Skip, renders
from majlis.security import constant_time_equals, keyed_digest

CODE_TTL = timedelta(minutes=10)
MAX_ATTEMPTS = 5
MAX_CODES_PER_HOUR = 5
E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
# Arabic-Indic and Eastern Arabic-Indic digits, as a phone's Arabic keyboard types them.
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


class TooManyCodes(MajlisError):
    status = 429
    code = "too_many_codes"
    default_message = _l("You asked for several codes already. Wait an hour and try again.")


def normalize_phone(raw) -> str:
    """A mobile number in E.164 (`+97333123456`); spaces, dashes, brackets and a leading 00 are forgiven."""
    if not isinstance(raw, str):
        raise InvalidInput(_l("Enter the number with its country code, for example +97333123456."), field="phone")
    phone = re.sub(r"[\s\-().\u200e\u200f]", "", raw.translate(_DIGITS))
    if phone.startswith("00"):
        phone = "+" + phone[2:]
    if not E164.match(phone):
        raise InvalidInput(_l("Enter the number with its country code, for example +97333123456."), field="phone")
    return phone


def _digest(secret: str, user: User, phone: str, code: str) -> str:
    return keyed_digest(secret, f"phone:{user.id}:{phone}:{code}")


def request_code(db_session: Session, user: User, phone, *, secret: str, lang: str, now: datetime) -> str:
    """Send a fresh code to the number by SMS (earlier codes stop working); return the number as stored."""
    phone = normalize_phone(phone)
    asked = db_session.scalar(select(func.count()).select_from(PhoneVerification).where(
        PhoneVerification.user_id == user.id, PhoneVerification.created_at > now - timedelta(hours=1)))
    if asked >= MAX_CODES_PER_HOUR:
        raise TooManyCodes()
    for pending in db_session.scalars(select(PhoneVerification).where(
            PhoneVerification.user_id == user.id, PhoneVerification.used_at.is_(None))):
        pending.used_at = now
    code = f"{secrets.randbelow(1_000_000):06d}"
    db_session.add(PhoneVerification(user_id=user.id, phone=phone, code_hash=_digest(secret, user, phone, code),
                                     created_at=now, expires_at=now + CODE_TTL))
    # Addressed to the number being proved, not to a verified one; in the language of the page that asked.
    outbox.enqueue(db_session, kind="phone_verification", user=user, now=now,
                   params={"code": code, "to": phone, "lang": lang})
    return phone


def verify_code(db_session: Session, user: User, code, *, secret: str, now: datetime) -> str:
    """Make the number the code was sent to the user's verified number; count a wrong code against its attempts."""
    bad_code = InvalidInput(_l("The code is wrong or has expired. Ask for a new one."), field="code", code="bad_code")
    code = code.strip().translate(_DIGITS) if isinstance(code, str) else ""
    pending = db_session.scalar(select(PhoneVerification).where(
        PhoneVerification.user_id == user.id, PhoneVerification.used_at.is_(None))
        .order_by(PhoneVerification.id.desc()))
    if pending is None or pending.expires_at <= now or pending.attempts >= MAX_ATTEMPTS:
        raise bad_code
    if not constant_time_equals(pending.code_hash, _digest(secret, user, pending.phone, code)):
        pending.attempts += 1
        db_session.flush()
        raise InvalidInput(bad_code.message, field="code", code="bad_code", commit_anyway=True)
    pending.used_at = now
    user.phone, user.phone_verified_at = pending.phone, now
    audit.record(db_session, actor_id=user.id, action="user.phone_verify", object_type="user", object_id=user.id,
                 now=now)
    return pending.phone


def pending_number(db_session: Session, user: User, *, now: datetime) -> str | None:
    """The number a code was sent to and may still be typed back (for the account page's second step)."""
    return db_session.scalar(select(PhoneVerification.phone).where(
        PhoneVerification.user_id == user.id, PhoneVerification.used_at.is_(None),
        PhoneVerification.expires_at > now, PhoneVerification.attempts < MAX_ATTEMPTS)
        .order_by(PhoneVerification.id.desc()))


@renders("phone_verification")
def _code(ctx: RenderContext, params: dict) -> Message:
    if ctx.recipient.phone == params["to"] and ctx.recipient.phone_verified_at is not None:
        raise Skip("the number is verified already")
    text = _("Your Majlis code is %(code)s. It is valid for 10 minutes.", code=params["code"])
    return Message(subject=_("Your Majlis code"), text=text, headline=text)
