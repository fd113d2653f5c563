"""Accounts' JSON: limits (auth/services.py imports them), request models and the one serializer of a user."""

from typing import Any

from majlis.enums import Role
from majlis.schema_types import INT32_MAX, N_, Id, Instant, Model, described, enum_of, schema, text

EMAIL_MAX = 254
NAME_MIN, NAME_MAX = 2, 120  # after collapsing white space
PASSWORD_MIN, PASSWORD_MAX = 8, 128
PHONE_MAX = 32
CODE_MAX = 64
LABEL_MAX = 100

NewPassword = text(N_("8 to 128 characters, not a common password, not your e-mail name"), min_length=PASSWORD_MIN,
                   max_length=PASSWORD_MAX)
Code = text(N_("The 6-digit code"), max_length=CODE_MAX)


class SignUpInput(Model):
    email: text(fmt="email", max_length=EMAIL_MAX)
    name: text(N_("2 to 120 characters after collapsing white space"), min_length=NAME_MIN, max_length=NAME_MAX)
    password: NewPassword
    phone: text(N_("Digits, optionally starting with +; spaces, dashes and brackets are ignored"),
                max_length=PHONE_MAX) | None = None
    area: schema({"type": ["integer", "string", "null"], "minimum": 1, "maximum": INT32_MAX,
                  "description": N_("An area of the governorate, by id or code")}) = None


class VerifyInput(Model):
    email: text(fmt="email")
    code: Code


class ResendInput(Model):
    email: text(fmt="email", max_length=EMAIL_MAX)


class TokenInput(Model):
    email: str
    password: str
    label: text(N_("At most 100 characters; to recognise the token later"), max_length=LABEL_MAX) = None


class PasswordInput(Model):
    current_password: str
    new_password: NewPassword


class User(Model):
    id: Id
    email: text(fmt="email")
    name: str
    role: enum_of(Role)
    verified: bool

    @staticmethod
    def dump(user) -> dict[str, Any]:
        return {"id": user.id, "email": user.email, "name": user.name, "role": user.role.value,
                "verified": user.is_verified}


class Token(Model):
    token: described(str, "Shown once; only a hash is stored")
    expires_at: Instant
