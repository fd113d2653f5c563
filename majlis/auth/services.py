"""Accounts: sign-up, verification, sign-in, API tokens. Callers own the transaction."""

from __future__ import annotations

import functools
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from majlis.audit import services as audit
from majlis.auth.models import ApiToken, EmailVerification, User
from majlis.auth.passwords import password_problem
from majlis.core.models import Area, GovernmentBody
from majlis.enums import Role
from majlis.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized, as_id
from majlis.notifications import preferences as notification_preferences
from majlis.notifications import services as notifications
from majlis.security import (
    constant_time_equals,
    hash_password,
    keyed_digest,
    new_token,
    token_digest,
    verify_password,
)

VERIFICATION_TTL = timedelta(minutes=30)
VERIFICATION_MAX_ATTEMPTS = 5
PHONE_RE = re.compile(r"^\+?[0-9]{7,15}$")

_PASSWORD_MESSAGES = {
    "too_short": _l("The password must be at least 8 characters long."),
    "too_long": _l("The password must be at most 128 characters long."),
    "too_common": _l("This password is too easy to guess. Choose a less common one."),
    "too_personal": _l("The password must not contain your e-mail name or be your name."),
}

# A fixed hash to check against when the e-mail is unknown, so both paths cost the same.
_DUMMY_HASH = hash_password("majlis-timing-equaliser")


@dataclass(frozen=True)
class AccountPolicy:
    """Settings from the app's configuration that account services need."""

    verification_required: bool
    secret_key: str
    fast_hash: bool = False
    token_days: int = 90


def normalize_email(raw: str | None) -> str:
    """Validate an e-mail address's form and return it lower-cased; raise InvalidInput."""
    raw = (raw or "").strip()
    try:
        result = validate_email(raw, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput(_l("Enter a valid e-mail address."), field="email") from exc
    return result.normalized.lower()


def _clean_name(raw: str | None) -> str:
    name = " ".join((raw or "").split())
    if not 2 <= len(name) <= 120:
        raise InvalidInput(_l("Enter your name (2 to 120 characters)."), field="name")
    return name


def _clean_phone(raw: str | None) -> str | None:
    if raw is None or not str(raw).strip():
        return None
    phone = re.sub(r"[\s\-()]", "", str(raw))
    if not PHONE_RE.match(phone):
        raise InvalidInput(_l("Enter a valid mobile number (digits, optionally starting with +)."), field="phone")
    return phone


def check_password(password: str | None, *, email: str = "", name: str = "", field: str = "password") -> str:
    if not isinstance(password, str):
        raise InvalidInput(_l("Enter a password."), field=field)
    problem = password_problem(password, email=email, name=name)
    if problem:
        raise InvalidInput(_PASSWORD_MESSAGES[problem], field=field, code="weak_password")
    return password


def find_area(db_session: Session, value) -> Area | None:
    """Look an area up by its id or its code; None for an empty value, InvalidInput for an unknown one."""
    if value is None or value == "":
        return None
    if as_id(value) is not None:
        area = db_session.get(Area, as_id(value))
    elif isinstance(value, str) and not value.strip().isdigit():
        area = db_session.scalar(select(Area).where(Area.code == value.strip().lower()))
    else:
        area = None
    if area is None:
        raise InvalidInput(_l("Choose an area of the governorate from the list."), field="area")
    return area


def email_taken(db_session: Session, email: str) -> bool:
    return db_session.scalar(select(func.count()).select_from(User).where(User.email == email)) > 0


def _add_user(db_session: Session, user: User) -> User:
    """Insert a user; a concurrent sign-up with the same e-mail becomes email_taken, not a 500."""
    try:
        with db_session.begin_nested():
            db_session.add(user)
            db_session.flush()
    except IntegrityError as exc:
        raise Conflict(_l("An account with this e-mail already exists."), code="email_taken", field="email") from exc
    return user


def sign_up(
    db_session: Session,
    *,
    email: str,
    name: str,
    password: str,
    phone: str | None,
    area,
    policy: AccountPolicy,
    now: datetime,
) -> User:
    """Create a resident account; when verification is required, mail a code through the outbox."""
    email = normalize_email(email)
    name = _clean_name(name)
    check_password(password, email=email, name=name)
    phone = _clean_phone(phone)
    area_row = find_area(db_session, area)
    if email_taken(db_session, email):
        raise Conflict(_l("An account with this e-mail already exists."), code="email_taken", field="email")
    user = _add_user(
        db_session,
        User(
            email=email,
            name=name,
            phone=phone,
            area=area_row,
            password_hash=hash_password(password, fast=policy.fast_hash),
            role=Role.RESIDENT,
            is_verified=not policy.verification_required,
            session_token=new_token(),
            created_at=now,
            updated_at=now,
        ),
    )
    if policy.verification_required:
        send_verification_code(db_session, user, policy=policy, now=now)
    audit.record(db_session, actor_id=user.id, action="user.signup", object_type="user", object_id=user.id, now=now)
    return user


def send_verification_code(db_session: Session, user: User, *, policy: AccountPolicy, now: datetime) -> None:
    """Issue a fresh 6-digit code (older ones stop working) and queue it for delivery."""
    for pending in db_session.scalars(
        select(EmailVerification).where(EmailVerification.user_id == user.id, EmailVerification.used_at.is_(None))
    ):
        pending.used_at = now
    code = f"{secrets.randbelow(1_000_000):06d}"
    db_session.add(
        EmailVerification(
            user_id=user.id,
            code_hash=keyed_digest(policy.secret_key, f"verify:{user.id}:{code}"),
            created_at=now,
            expires_at=now + VERIFICATION_TTL,
        )
    )
    from flask_babel import get_locale

    # Rendered at delivery (majlis/auth/notices.py); a new account has no language of its own yet, so the message
    # keeps the one of the page or request that asked for the code.
    notifications.enqueue(db_session, kind="email_verification", user=user, now=now,
                          params={"code": code, "lang": str(get_locale() or "ar")})


def verify_email(db_session: Session, *, email: str, code: str, policy: AccountPolicy, now: datetime) -> User:
    """Mark the account verified when the code matches; count failed attempts."""
    email = normalize_email(email)
    code = (code or "").strip()
    user = db_session.scalar(select(User).where(User.email == email))
    bad_code = InvalidInput(_l("The code is wrong or has expired. Request a new one."), field="code", code="bad_code")
    if user is None:
        raise bad_code
    if user.is_verified:
        return user
    pending = db_session.scalar(
        select(EmailVerification)
        .where(EmailVerification.user_id == user.id, EmailVerification.used_at.is_(None))
        .order_by(EmailVerification.id.desc())
    )
    if pending is None or pending.expires_at <= now or pending.attempts >= VERIFICATION_MAX_ATTEMPTS:
        raise bad_code
    if not constant_time_equals(pending.code_hash, keyed_digest(policy.secret_key, f"verify:{user.id}:{code}")):
        pending.attempts += 1
        db_session.flush()
        raise InvalidInput(bad_code.message, field="code", code="bad_code", commit_anyway=True)
    pending.used_at = now
    user.is_verified = True
    audit.record(db_session, actor_id=user.id, action="user.verify", object_type="user", object_id=user.id, now=now)
    return user


def authenticate(db_session: Session, *, email: str, password: str, policy: AccountPolicy, now: datetime) -> User:
    """Return the user for these credentials; Unauthorized (bad_credentials) otherwise."""
    bad = Unauthorized(_l("The e-mail or password is not correct."), code="bad_credentials")
    try:
        email = normalize_email(email)
    except InvalidInput:
        verify_password(_DUMMY_HASH, password or "")
        raise bad from None
    user = db_session.scalar(select(User).where(User.email == email))
    if user is None:
        verify_password(_DUMMY_HASH, password or "")
        raise bad
    if not verify_password(user.password_hash, password or ""):
        raise bad
    if user.is_disabled:
        raise Forbidden(_l("This account is disabled."), code="account_disabled")
    if policy.verification_required and not user.is_verified:
        raise Forbidden(_l("Confirm your e-mail address with the code we sent you first."), code="email_unverified")
    user.last_login_at = now
    return user


def change_password(db_session: Session, user: User, *, current: str, new: str, policy: AccountPolicy,
                    now: datetime) -> None:
    """Set a new password and end every other session of the user."""
    if not verify_password(user.password_hash, current or ""):
        raise InvalidInput(_l("The current password is not correct."), field="current_password")
    check_password(new, email=user.email, name=user.name, field="new_password")
    user.password_hash = hash_password(new, fast=policy.fast_hash)
    rotate_session_token(user)
    audit.record(db_session, actor_id=user.id, action="user.password", object_type="user", object_id=user.id, now=now)


def rotate_session_token(user: User) -> None:
    """Invalidate every session cookie (and remember-me cookie) issued to the user."""
    user.session_token = new_token()


def create_user(
    db_session: Session,
    *,
    email: str,
    name: str,
    role: Role,
    password: str,
    body_code: str | None = None,
    policy: AccountPolicy,
    now: datetime,
    actor_id: int | None = None,
) -> User:
    """Create a verified, active account with any role (the CLI and admins use this)."""
    email = normalize_email(email)
    name = _clean_name(name)
    check_password(password, email=email, name=name)
    body = None
    if role == Role.OFFICIAL:
        if not body_code:
            raise InvalidInput(_l("An official must belong to a government body."), field="body")
        body = find_body(db_session, body_code)
    elif body_code:
        raise InvalidInput(_l("Only officials belong to a government body."), field="body")
    if email_taken(db_session, email):
        raise Conflict(_l("An account with this e-mail already exists."), code="email_taken", field="email")
    user = _add_user(
        db_session,
        User(
            email=email,
            name=name,
            role=role,
            body=body,
            password_hash=hash_password(password, fast=policy.fast_hash),
            is_verified=True,
            session_token=new_token(),
            created_at=now,
            updated_at=now,
        ),
    )
    audit.record(db_session, actor_id=actor_id, action="user.create", object_type="user", object_id=user.id,
                 to_state=role.value, now=now)
    return user


def find_body(db_session: Session, value) -> GovernmentBody:
    if as_id(value) is not None:
        body = db_session.get(GovernmentBody, as_id(value))
    elif isinstance(value, int):
        body = None
    else:
        body = db_session.scalar(select(GovernmentBody).where(GovernmentBody.code == str(value).strip().lower()))
    if body is None:
        raise NotFound(_l("No government body with this code."), field="body", code="unknown_body")
    return body


def issue_api_token(db_session: Session, user: User, *, label: str, policy: AccountPolicy,
                    now: datetime) -> tuple[str, ApiToken]:
    """Create a bearer token; return it in clear once, with its stored (hashed) record."""
    label = " ".join((label or "").split())
    if len(label) > 100:
        raise InvalidInput(_l("The label must be at most 100 characters."), field="label")
    token = new_token("mj_")
    record = ApiToken(
        user_id=user.id,
        label=label,
        token_hash=token_digest(token),
        prefix=token[:10],
        created_at=now,
        expires_at=now + timedelta(days=policy.token_days),
    )
    db_session.add(record)
    db_session.flush()
    audit.record(db_session, actor_id=user.id, action="token.create", object_type="api_token",
                 object_id=record.id, now=now)
    return token, record


def user_for_token(db_session: Session, token: str, *, now: datetime) -> tuple[User, ApiToken]:
    """Resolve a bearer token; Unauthorized for unknown, expired or revoked ones."""
    record = db_session.scalar(_token_statement(), {"b_hash": token_digest(token or "")})
    if record is None or not token_accepted(revoked_at=record.revoked_at, expires_at=record.expires_at,
                                            user_disabled=record.user.is_disabled, now=now):
        raise Unauthorized(_l("The access token is not valid. Sign in again."), code="invalid_token")
    return record.user, record


def token_accepted(*, revoked_at, expires_at, user_disabled: bool, now: datetime) -> bool:
    """The one rule for a bearer token (also applied before Flask, in majlis/fastpath.py): not revoked, not
    expired, and its user not disabled."""
    return revoked_at is None and expires_at > now and not user_disabled


@functools.cache
def _token_statement():
    # Built once: every API request runs it.
    return select(ApiToken).options(joinedload(ApiToken.user)).where(ApiToken.token_hash == bindparam("b_hash"))


def revoke_api_token(db_session: Session, record: ApiToken, *, actor: User, now: datetime) -> None:
    if record.user_id != actor.id and actor.role != Role.ADMIN:
        raise NotFound()
    if record.revoked_at is None:
        record.revoked_at = now
        audit.record(db_session, actor_id=actor.id, action="token.revoke", object_type="api_token",
                     object_id=record.id, now=now)


def active_tokens(db_session: Session, user: User, *, now: datetime) -> list[ApiToken]:
    return list(
        db_session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None), ApiToken.expires_at > now)
            .order_by(ApiToken.created_at.desc())
        )
    )


# --- privacy ------------------------------------------------------------------------------------------------------


def export_data(db_session: Session, user: User) -> dict:
    """Everything Majlis holds about a resident, for them to download."""
    from majlis.followups.models import Case
    from majlis.questions.models import Question, Vote
    from majlis.registration.models import Registration

    def iso(value):
        return value.isoformat() if value is not None else None

    return {
        "account": {"id": user.id, "email": user.email, "name": user.name, "phone": user.phone,
                    "area": user.area.code if user.area else None, "role": user.role.value,
                    "created_at": iso(user.created_at), "last_login_at": iso(user.last_login_at)},
        "registrations": [{"session_id": r.session_id, "status": r.status.value, "queued_at": iso(r.queued_at),
                           "attended_at": iso(r.attended_at)}
                          for r in db_session.scalars(select(Registration).where(Registration.user_id == user.id))],
        "questions": [{"id": q.id, "session_id": q.session_id, "body": q.body, "status": q.status.value,
                       "anonymous": q.is_anonymous, "created_at": iso(q.created_at)}
                      for q in db_session.scalars(select(Question).where(Question.author_id == user.id))],
        "votes": [v.question_id for v in db_session.scalars(select(Vote).where(Vote.user_id == user.id))],
        "cases": [{"id": c.id, "status": c.status.value, "due_on": c.due_on.isoformat()}
                  for c in db_session.scalars(select(Case).where(Case.resident_id == user.id))],
        "api_tokens": [{"label": t.label, "created_at": iso(t.created_at), "revoked": t.revoked_at is not None}
                       for t in db_session.scalars(select(ApiToken).where(ApiToken.user_id == user.id))],
        "notifications": notification_preferences.export(db_session, user),
    }


def delete_account(db_session: Session, user: User, *, password: str, now: datetime) -> None:
    """Erase a resident's personal data; their questions stay (anonymous) so minutes and cases keep their sense."""
    from majlis.calendar.models import CalendarFeed
    from majlis.questions.models import Question
    from majlis.registration import services as registration
    from majlis.registration.models import Registration
    from majlis.sessions.models import MajlisSession

    if user.role != Role.RESIDENT:
        raise Forbidden(_l("Staff accounts are closed by an administrator."), code="not_self_service")
    if not verify_password(user.password_hash, password or ""):
        raise InvalidInput(_l("The password is not correct."), field="password")
    future = db_session.scalars(select(Registration.session_id).join(
        MajlisSession, MajlisSession.id == Registration.session_id).where(
        Registration.user_id == user.id, Registration.status != "cancelled", MajlisSession.starts_at > now)).all()
    for session_id in future:
        registration.cancel(db_session, session_id, user, now=now)  # seats go to the waiting line
    for question in db_session.scalars(select(Question).where(Question.author_id == user.id)):
        question.is_anonymous = True
    for token in db_session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))):
        token.revoked_at = now
    for feed in db_session.scalars(select(CalendarFeed).where(CalendarFeed.user_id == user.id,
                                                              CalendarFeed.revoked_at.is_(None))):
        feed.revoked_at = now
    user.name = str(_l("Deleted account"))
    user.email = f"deleted-{user.id}-{new_token(nbytes=6).lower()}@deleted.invalid"
    user.phone = None
    notification_preferences.forget(db_session, user)
    user.area_id = None
    user.password_hash = hash_password(new_token())
    user.is_disabled = True
    rotate_session_token(user)
    audit.record(db_session, actor_id=user.id, action="user.delete", object_type="user", object_id=user.id, now=now)
