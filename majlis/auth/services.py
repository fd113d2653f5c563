"""Accounts: sign-up, verification, sign-in, API tokens. Callers own the transaction."""

from __future__ import annotations

import functools
import re
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from majlis.audit import services as audit
from majlis.auth import account_data, hooks, names, throttle
from majlis.auth.models import ApiToken, EmailVerification, User
from majlis.auth.passwords import password_problem
from majlis.auth.schemas import LABEL_MAX, NAME_MAX, NAME_MIN
from majlis.directory.models import Area, GovernmentBody
from majlis.enums import Role
from majlis.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized, as_id
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
# A new code goes to an address at most once a minute and five times a day (sign-ups and re-sends together).
RESEND_INTERVAL = timedelta(minutes=1)
CODES_PER_DAY = 5
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
    # An unconfirmed account stops holding its address after this long (see is_expired_signup).
    unverified_ttl: timedelta = timedelta(hours=24)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> AccountPolicy:
        """Read the account settings from the app's configuration."""
        return cls(
            verification_required=config["MAJLIS_EMAIL_VERIFICATION"] == "required",
            secret_key=config["SECRET_KEY"],
            fast_hash=config["MAJLIS_FAST_PASSWORD_HASH"],
            token_days=config["MAJLIS_API_TOKEN_DAYS"],
            unverified_ttl=timedelta(hours=config["MAJLIS_UNVERIFIED_HOURS"]),
        )

    def throttle_key(self, email: str) -> str:
        return throttle.key_for(self.secret_key, email)


def _given_text(value, field: str) -> str:
    """Return text as given (None as ""); anything else (a number, a list: only JSON can send one) is refused."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(field=field)
    return value


def _as_given(value) -> str:
    """Return a field's text as given, or "" when it is not text (its own check has refused it)."""
    return value if isinstance(value, str) else ""


def normalize_email(raw: str | None) -> str:
    """Validate an e-mail address's form and return it NFKC-normalised and case-folded; raise InvalidInput.

    Every look-up and every stored address goes through here, so a full-width or otherwise compatible spelling
    of an address (ｆａｔｉｍａ＠ｅｘａｍｐｌｅ．ｃｏｍ) is the same address.
    """
    raw = unicodedata.normalize("NFKC", _given_text(raw, "email")).strip().casefold()
    try:
        result = validate_email(raw, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput(_l("Enter a valid e-mail address."), field="email") from exc
    return unicodedata.normalize("NFKC", result.normalized).casefold()


def _clean_name(raw: str | None, db_session: Session | None = None) -> str:
    """A display name: collapsed white space, 2 to 120 characters, visible, without direction controls.

    With a database session it must also not be the office's or a government body's name (residents' names).
    """
    name = " ".join(_given_text(raw, "name").split())
    if not NAME_MIN <= len(name) <= NAME_MAX:
        raise InvalidInput(_l("Enter your name (%(minimum)s to %(maximum)s characters).", minimum=NAME_MIN,
                              maximum=NAME_MAX), field="name")
    if names.has_bidi_controls(name) or names.has_control_characters(name):
        raise InvalidInput(_l("The name must not contain text-direction or other control characters."),
                           field="name", code="invalid_name")
    if names.visible_length(name) < 2:
        raise InvalidInput(_l("Enter your name in visible letters."), field="name", code="invalid_name")
    if db_session is not None:
        bodies = tuple(n for row in db_session.execute(select(GovernmentBody.name_ar, GovernmentBody.name_en))
                       for n in row)
        if names.is_reserved(name, bodies):
            raise InvalidInput(_l("This name belongs to the Governor's office or a government body. "
                                  "Enter your own name."), field="name", code="name_reserved")
    return name


def _clean_phone(raw: str | None) -> str | None:
    if not _given_text(raw, "phone").strip():
        return None
    phone = re.sub(r"[\s\-()]", "", raw)
    if not PHONE_RE.match(phone):
        raise InvalidInput(_l("Enter a valid mobile number (digits, optionally starting with +)."), field="phone")
    return phone


def check_password(password: str | None, *, email: str = "", name: str = "", field: str = "password") -> str:
    """Refuse a password that is missing or too weak for this account (InvalidInput on the field)."""
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
    """Tell whether an account already holds this (normalised) e-mail address."""
    return db_session.scalar(select(func.count()).select_from(User).where(User.email == email)) > 0


def is_expired_signup(user: User, policy: AccountPolicy, now: datetime) -> bool:
    """Tell whether an account is an unconfirmed sign-up past its time: it no longer holds its address."""
    return (policy.verification_required and not user.is_verified
            and user.created_at <= now - policy.unverified_ttl)


def _unconfirmed_holder(db_session: Session, email: str, policy: AccountPolicy) -> User | None:
    """The unconfirmed account holding an address, which a new sign-up replaces; None if none does."""
    if not policy.verification_required:
        return None  # without verification every account is a real one (and may sign in)
    return db_session.scalar(select(User).where(User.email == email, User.is_verified.is_(False))
                             .with_for_update())


def _take_over(db_session: Session, user: User, *, now: datetime) -> None:
    """Clear what an unconfirmed account held before its address is given to a new sign-up."""
    user.session_token = new_token()
    user.is_disabled = False
    user.locale = None
    user.last_login_at = None
    user.created_at = now
    user.updated_at = now
    db_session.execute(update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                       .values(revoked_at=now).execution_options(synchronize_session=False))


def _add_user(db_session: Session, user: User) -> User:
    """Insert a user; a concurrent sign-up with the same e-mail becomes email_taken, not a 500."""
    try:
        with db_session.begin_nested():
            db_session.add(user)
            db_session.flush()
    except IntegrityError as exc:
        raise Conflict(_l("An account with this e-mail already exists."), code="email_taken", field="email") from exc
    return user


def signup_problems(db_session: Session, *, email, name, password, phone, area) -> list[InvalidInput]:
    """List everything wrong with a sign-up's details at once (each field checked on its own), so a form can say it all
    in one go; `sign_up` refuses with the first of them."""
    return _signup_checks(db_session, email=email, name=name, password=password, phone=phone, area=area)[0]


def _signup_checks(db_session: Session, *, email, name, password, phone, area) -> tuple[list[InvalidInput], dict]:
    problems: list[InvalidInput] = []
    values: dict = {}
    checks = (
        ("email", lambda: normalize_email(email)),
        ("name", lambda: _clean_name(name, db_session)),
        # the password is compared with the address and the name as given when they are not valid
        ("password", lambda: check_password(password, email=values.get("email", _as_given(email)),
                                            name=values.get("name", _as_given(name)))),
        ("phone", lambda: _clean_phone(phone)),
        ("area", lambda: find_area(db_session, area)),
    )
    for key, check in checks:
        try:
            values[key] = check()
        except InvalidInput as exc:
            problems.append(exc)
    return problems, values


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
    """Create a resident account; when verification is required, mail a code through the outbox.

    An address held by an account that was never confirmed is not taken: the new sign-up replaces that account
    (its name, password and details) and a fresh code goes to the address, whose owner alone can confirm it.
    """
    problems, values = _signup_checks(db_session, email=email, name=name, password=password, phone=phone, area=area)
    if problems:
        raise problems[0]
    email, name, phone, area_row = values["email"], values["name"], values["phone"], values["area"]
    holder = _unconfirmed_holder(db_session, email, policy)
    if holder is not None:
        _take_over(db_session, holder, now=now)
        holder.name, holder.phone, holder.area, holder.role, holder.body = name, phone, area_row, Role.RESIDENT, None
        holder.password_hash = hash_password(password, fast=policy.fast_hash)
        db_session.flush()
        if may_send_code(db_session, holder, now=now):
            send_verification_code(db_session, holder, policy=policy, now=now)
        audit.record(db_session, actor_id=holder.id, action="user.signup", object_type="user", object_id=holder.id,
                     to_state="replaced_unconfirmed", now=now)
        return holder
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

    # Queued and rendered by notifications (majlis/auth/hooks.py); a new account has no language of its own yet, so
    # the message keeps the one of the page or request that asked for the code.
    hooks.send_code(db_session, user, code=code, lang=str(get_locale() or "ar"), now=now)


def may_send_code(db_session: Session, user: User, *, now: datetime) -> bool:
    """Tell whether a new code may go to the user's address now (at most one a minute, CODES_PER_DAY a day)."""
    recent = db_session.execute(
        select(func.count(), func.max(EmailVerification.created_at))
        .where(EmailVerification.user_id == user.id, EmailVerification.created_at > now - timedelta(days=1))
    ).one()
    count, latest = recent
    return count < CODES_PER_DAY and (latest is None or latest <= now - RESEND_INTERVAL)


def resend_verification_code(db_session: Session, *, email: str, policy: AccountPolicy, now: datetime) -> bool:
    """Send a fresh code to an account waiting for confirmation; return whether one was queued.

    The caller answers the same whatever this returns: nothing tells whether the address has an account.
    """
    email = normalize_email(email)
    if not policy.verification_required:
        return False
    user = db_session.scalar(select(User).where(User.email == email))
    if user is None or user.is_verified or user.is_disabled or is_expired_signup(user, policy, now):
        return False
    if not may_send_code(db_session, user, now=now):
        return False
    send_verification_code(db_session, user, policy=policy, now=now)
    return True


def verify_email(db_session: Session, *, email: str, code: str, policy: AccountPolicy, now: datetime) -> User:
    """Mark the account verified when the code matches; every failure counts toward the account's throttle.

    An unknown address, an account already confirmed (or past its time) and a wrong code get the same answer.
    """
    email = normalize_email(email)
    code = _given_text(code, "code").strip()
    key = policy.throttle_key(email)
    throttle.check(db_session, key, now=now)
    user = db_session.scalar(select(User).where(User.email == email))

    def refuse():
        throttle.record_failure(db_session, key, now=now)
        return InvalidInput(_l("The code is wrong or has expired. Request a new one."), field="code",
                            code="bad_code", commit_anyway=True)

    if user is None or user.is_verified or is_expired_signup(user, policy, now):
        raise refuse()
    pending = db_session.scalar(
        select(EmailVerification)
        .where(EmailVerification.user_id == user.id, EmailVerification.used_at.is_(None))
        .order_by(EmailVerification.id.desc())
    )
    if pending is None or pending.expires_at <= now or pending.attempts >= VERIFICATION_MAX_ATTEMPTS:
        raise refuse()
    if not constant_time_equals(pending.code_hash, keyed_digest(policy.secret_key, f"verify:{user.id}:{code}")):
        pending.attempts += 1
        db_session.flush()
        raise refuse()
    pending.used_at = now
    user.is_verified = True
    throttle.reset(db_session, key)
    audit.record(db_session, actor_id=user.id, action="user.verify", object_type="user", object_id=user.id, now=now)
    return user


def authenticate(db_session: Session, *, email: str, password: str, policy: AccountPolicy, now: datetime) -> User:
    """Return the user for these credentials; Unauthorized (bad_credentials) otherwise.

    A locked account (TooManyAttempts, 429) is refused before the password is hashed; each failure counts toward
    the address's throttle, whether or not an account has it, and a success clears the count. Credentials that are
    not text at all are refused before anything is counted.
    """
    if not isinstance(email, str) or not isinstance(password, str):
        raise Unauthorized(_l("The e-mail or password is not correct."), code="bad_credentials")
    try:
        email = normalize_email(email)
    except InvalidInput:
        email = unicodedata.normalize("NFKC", email or "").strip().casefold()  # no account has it; still counted
    key = policy.throttle_key(email)
    throttle.check(db_session, key, now=now)
    user = db_session.scalar(select(User).where(User.email == email))
    if user is not None and is_expired_signup(user, policy, now):
        user = None  # an unconfirmed sign-up past its time holds nothing, not even its password
    if not verify_password(user.password_hash if user is not None else _DUMMY_HASH, password or "") or user is None:
        throttle.record_failure(db_session, key, now=now)
        raise Unauthorized(_l("The e-mail or password is not correct."), code="bad_credentials", commit_anyway=True)
    throttle.reset(db_session, key)
    if user.is_disabled:
        raise Forbidden(_l("This account is disabled."), code="account_disabled")
    if policy.verification_required and not user.is_verified:
        raise Forbidden(_l("Confirm your e-mail address with the code we sent you first."), code="email_unverified")
    user.last_login_at = now
    return user


def check_current_password(db_session: Session, user: User, password: str | None, *, policy: AccountPolicy,
                           now: datetime, field: str = "current_password") -> None:
    """Confirm the signed-in user's password before a sensitive change; failures count toward the throttle.

    A stolen session must not become a way to guess the password: 429 while the account is locked.
    """
    if not isinstance(password, str):  # missing, or not text: nothing to try, nothing counted
        raise InvalidInput(field=field)
    key = policy.throttle_key(user.email)
    throttle.check(db_session, key, now=now)
    if not verify_password(user.password_hash, password or ""):
        throttle.record_failure(db_session, key, now=now)
        raise InvalidInput(_l("The current password is not correct."), field=field, code="wrong_password",
                           commit_anyway=True)
    throttle.reset(db_session, key)


def change_password(db_session: Session, user: User, *, current: str, new: str, policy: AccountPolicy,
                    now: datetime, keep_token: ApiToken | None = None) -> int:
    """Set a new password; end every browser session and revoke every API token of the user.

    The caller keeps the session making the change by signing it in again; `keep_token` is the bearer token making
    it, which stays valid. Return how many tokens were revoked.
    """
    check_current_password(db_session, user, current, policy=policy, now=now)
    check_password(new, email=user.email, name=user.name, field="new_password")
    user.password_hash = hash_password(new, fast=policy.fast_hash)
    rotate_session_token(user)
    revoked = revoke_all_tokens(db_session, user, now=now, keep=keep_token)
    audit.record(db_session, actor_id=user.id, action="user.password", object_type="user", object_id=user.id,
                 data={"tokens_revoked": revoked}, now=now)
    return revoked


def revoke_all_tokens(db_session: Session, user: User, *, now: datetime, keep: ApiToken | None = None) -> int:
    """Revoke the user's API tokens, all of them or all but `keep`; return how many."""
    statement = update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    if keep is not None:
        statement = statement.where(ApiToken.id != keep.id)
    result = db_session.execute(statement.values(revoked_at=now).execution_options(synchronize_session="fetch"))
    return result.rowcount or 0


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
    """Create a verified, active account with any role (the CLI and admins use this).

    A resident's name must not be the office's or a body's; an address held by an unconfirmed sign-up is taken over.
    """
    email = normalize_email(email)
    name = _clean_name(name, db_session if role == Role.RESIDENT else None)
    check_password(password, email=email, name=name)
    body = None
    if role == Role.OFFICIAL:
        if not body_code:
            raise InvalidInput(_l("An official must belong to a government body."), field="body")
        body = find_body(db_session, body_code)
    elif body_code:
        raise InvalidInput(_l("Only officials belong to a government body."), field="body")
    holder = _unconfirmed_holder(db_session, email, policy)
    if holder is not None:
        _take_over(db_session, holder, now=now)
        holder.name, holder.role, holder.body, holder.phone, holder.area = name, role, body, None, None
        holder.password_hash = hash_password(password, fast=policy.fast_hash)
        holder.is_verified = True
        audit.record(db_session, actor_id=actor_id, action="user.create", object_type="user", object_id=holder.id,
                     to_state=role.value, now=now)
        return holder
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
    """Find a government body by id or code; raise NotFound when there is none."""
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
    label = " ".join(_given_text(label, "label").split())
    if len(label) > LABEL_MAX:
        raise InvalidInput(_l("The label must be at most %(n)s characters.", n=LABEL_MAX), field="label")
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
    """Apply the one rule for a bearer token (also applied before Flask, in majlis/fastpath.py): not revoked, not
    expired, and its user not disabled."""
    return revoked_at is None and expires_at > now and not user_disabled


@functools.cache
def _token_statement():
    # Built once: every API request runs it.
    return select(ApiToken).options(joinedload(ApiToken.user)).where(ApiToken.token_hash == bindparam("b_hash"))


def revoke_api_token(db_session: Session, record: ApiToken, *, actor: User, now: datetime) -> None:
    """Revoke an API token of the actor's own (or any, for an administrator); 404 otherwise."""
    if record.user_id != actor.id and actor.role != Role.ADMIN:
        raise NotFound()
    if record.revoked_at is None:
        record.revoked_at = now
        audit.record(db_session, actor_id=actor.id, action="token.revoke", object_type="api_token",
                     object_id=record.id, now=now)


def active_tokens(db_session: Session, user: User, *, now: datetime) -> list[ApiToken]:
    """List the user's API tokens that are neither revoked nor expired, newest first."""
    return list(
        db_session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None), ApiToken.expires_at > now)
            .order_by(ApiToken.created_at.desc())
        )
    )


# --- privacy ------------------------------------------------------------------------------------------------------


def count_by_role(db_session: Session) -> dict[Role, int]:
    """Count the accounts of each role (roles without accounts are left out)."""
    return dict(db_session.execute(select(User.role, func.count()).group_by(User.role)).all())


def export_data(db_session: Session, user: User) -> dict:
    """Gather everything Majlis holds about a resident, for them to download."""
    def iso(value):
        return value.isoformat() if value is not None else None

    return {
        "account": {"id": user.id, "email": user.email, "name": user.name, "phone": user.phone,
                    "area": user.area.code if user.area else None, "role": user.role.value,
                    "created_at": iso(user.created_at), "last_login_at": iso(user.last_login_at)},
        **account_data.export_all(db_session, user),
    }


def export_account_data(db_session: Session, user: User) -> dict:
    """Export the user's API tokens (labels and dates, never the secrets)."""
    return {"api_tokens": [{"label": t.label, "created_at": t.created_at.isoformat(),
                            "revoked": t.revoked_at is not None}
                           for t in db_session.scalars(select(ApiToken).where(ApiToken.user_id == user.id))]}


def erase_account_data(db_session: Session, user: User, *, now: datetime) -> None:
    """Revoke the user's live API tokens."""
    for token in db_session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))):
        token.revoked_at = now


def delete_account(db_session: Session, user: User, *, password: str, policy: AccountPolicy, now: datetime) -> None:
    """Erase a resident's personal data; their questions stay (anonymous) so minutes and cases keep their sense."""
    if user.role != Role.RESIDENT:
        raise Forbidden(_l("Staff accounts are closed by an administrator."), code="not_self_service")
    check_current_password(db_session, user, password, policy=policy, now=now, field="password")
    account_data.erase_all(db_session, user, now=now)  # every capability's part, registrations first
    user.name = str(_l("Deleted account"))
    user.email = f"deleted-{user.id}-{new_token(nbytes=6).lower()}@deleted.invalid"
    user.phone = None
    user.area_id = None
    user.password_hash = hash_password(new_token())
    user.is_disabled = True
    rotate_session_token(user)
    audit.record(db_session, actor_id=user.id, action="user.delete", object_type="user", object_id=user.id, now=now)


def purge_expired_signups(db_session: Session, *, policy: AccountPolicy, now: datetime) -> int:
    """Delete unconfirmed sign-ups past their time, and forgotten throttle rows; return how many accounts went.

    An account that somehow gathered records of its own (a registration, a question) is kept: deleting it would
    take them along, and it holds its address no longer anyway (see is_expired_signup).
    """
    throttle.purge(db_session, now=now)
    if not policy.verification_required:
        return 0
    expired = db_session.scalars(select(User).where(
        User.is_verified.is_(False), User.created_at <= now - policy.unverified_ttl)).all()
    deleted = 0
    for user in expired:
        try:
            with db_session.begin_nested():
                db_session.delete(user)
                db_session.flush()
        except IntegrityError:
            continue
        deleted += 1
    return deleted


def users_by_id(db_session: Session, ids: set[int | None]) -> dict[int, User]:
    """Load the users with these ids in one query, keyed by id."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {user.id: user for user in db_session.scalars(select(User).where(User.id.in_(wanted)))}


def own_api_token(db_session: Session, user: User, token_id: int) -> ApiToken:
    """Return one of the user's own API tokens; 404 for any other."""
    record = db_session.get(ApiToken, token_id)
    if record is None or record.user_id != user.id:
        raise NotFound()
    return record


def get_user(db_session: Session, user_id: int) -> User | None:
    """Return the user with this id, or None."""
    return db_session.get(User, user_id)


def user_by_email(db_session: Session, email: str) -> User | None:
    """Return the account holding this (already normalised) e-mail address, or None."""
    return db_session.scalar(select(User).where(User.email == email))


def user_by_session_token(db_session: Session, session_token: str) -> User | None:
    """Return the enabled user a sign-in cookie's session token belongs to, or None."""
    user = db_session.scalar(select(User).where(User.session_token == session_token))
    return user if user is not None and not user.is_disabled else None
