"""Jitsi tokens checked by a second, independent JWT implementation (joserfc) with zero leeway."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt as jose_jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import OctKey, RSAKey

from majlis.jitsi.tokens import JitsiNotConfigured, JitsiSettings, Participant, issue
from majlis.sessions.services import new_room_name

START = datetime(2027, 1, 5, 16, 0, tzinfo=UTC)
END = START + timedelta(minutes=90)
SECRET = "s3cret-for-tests-" + "x" * 32
SELF_HOSTED = JitsiSettings(domain="meet.capital.example", app_id="majlis", app_secret=SECRET, sub="meet.jitsi")
RESIDENT = Participant(id=7, name="فاطمة علي", email="fatima@example.com", moderator=False)
MODERATOR = Participant(id=3, name="مكتب المحافظ", email="office@example.com", moderator=True)


@pytest.fixture(scope="module")
def jaas():
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = private.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    app_id = "vpaas-magic-cookie-0123456789abcdef"
    settings = JitsiSettings(domain="meet.jit.si", jaas_app_id=app_id, jaas_kid=f"{app_id}/4f2a1b",
                             private_key=pem)
    return settings, RSAKey.import_key(public)


def decode_hs(token: str):
    return jose_jwt.decode(token, OctKey.import_key(SECRET), algorithms=["HS256"])


def check_rules(decoded, *, room, at: datetime, expect_moderator: bool):
    header, claims = decoded.header, decoded.claims
    assert header["typ"] == "JWT"  # exactly, case-sensitive
    assert claims["aud"] == "jitsi" and isinstance(claims["aud"], str)
    assert all(type(claims[name]) is int for name in ("iat", "nbf", "exp"))
    assert claims["room"] == room
    # Every field a string, except the two flags Jitsi's modules compare with `true`.
    flags = {"lobby_bypass", "visitor"}
    assert all(isinstance(value, str) for name, value in claims["context"]["user"].items() if name not in flags)
    assert all(claims["context"]["user"][name] is True for name in flags & set(claims["context"]["user"]))
    assert claims["context"]["user"]["moderator"] == ("true" if expect_moderator else "false")
    # zero leeway, like Prosody, checked at the moment the token is used
    jose_jwt.JWTClaimsRegistry(now=int(at.timestamp()), leeway=0,
                               aud={"essential": True, "value": "jitsi"}).validate(claims)
    assert claims["nbf"] <= int(at.timestamp()) < claims["exp"]


def test_self_hosted_resident_token():
    room = new_room_name()
    now = START - timedelta(minutes=5)
    token = issue(SELF_HOSTED, RESIDENT, room=room, starts_at=START, ends_at=END, now=now)
    decoded = decode_hs(token.jwt)
    check_rules(decoded, room=room, at=now, expect_moderator=False)
    assert decoded.header["alg"] == "HS256"
    claims = decoded.claims
    assert (claims["iss"], claims["sub"]) == ("majlis", "meet.jitsi")
    assert claims["nbf"] == int((START - timedelta(minutes=15, seconds=30)).timestamp())
    assert claims["exp"] == int((END + timedelta(minutes=30)).timestamp())
    assert claims["context"]["user"] == {"id": "7", "name": "فاطمة علي", "moderator": "false"}
    assert token.url == f"https://meet.capital.example/{room}" and token.domain == "meet.capital.example"
    assert token.expires_at == END + timedelta(minutes=30)


def test_the_email_is_left_out_unless_asked_for():
    """The token's user is shown to every participant and sent to 8x8: no address unless JITSI_TOKEN_EMAIL=1."""
    with_avatar = Participant(id=7, name="فاطمة علي", email="fatima@example.com", moderator=False,
                              avatar="https://majlis.example.gov/static/avatar.png")
    plain = decode_hs(issue(SELF_HOSTED, with_avatar, room="majlis-abc", starts_at=START, ends_at=END,
                            now=START).jwt).claims["context"]["user"]
    assert "email" not in plain
    assert plain["name"] == "فاطمة علي" and plain["avatar"] == "https://majlis.example.gov/static/avatar.png"
    asked = replace(SELF_HOSTED, token_email=True)
    with_email = decode_hs(issue(asked, with_avatar, room="majlis-abc", starts_at=START, ends_at=END,
                                 now=START).jwt).claims["context"]["user"]
    assert with_email == {**plain, "email": "fatima@example.com"}


def test_jaas_tokens_leave_the_email_out_too(jaas):
    settings, public_key = jaas
    token = issue(settings, RESIDENT, room="majlis-abc", starts_at=START, ends_at=END, now=START)
    user = jose_jwt.decode(token.jwt, public_key, algorithms=["RS256"]).claims["context"]["user"]
    assert "email" not in user and user["name"] == RESIDENT.name


def test_moderator_token():
    decoded = decode_hs(issue(SELF_HOSTED, MODERATOR, room="majlis-abc", starts_at=START, ends_at=END,
                              now=START).jwt)
    check_rules(decoded, room="majlis-abc", at=START, expect_moderator=True)


def test_the_time_window_edges():
    issued_at = START - timedelta(minutes=20)  # fetched early: iat before the window opens
    token = issue(SELF_HOSTED, RESIDENT, room="majlis-abc", starts_at=START, ends_at=END, now=issued_at).jwt
    claims = decode_hs(token).claims
    first_valid = START - timedelta(minutes=15, seconds=30)
    last_valid = END + timedelta(minutes=30) - timedelta(seconds=1)
    for moment, valid in ((first_valid - timedelta(seconds=1), False), (first_valid, True), (last_valid, True),
                          (last_valid + timedelta(seconds=1), False)):
        try:
            jose_jwt.JWTClaimsRegistry(now=int(moment.timestamp()), leeway=0).validate(claims)
            accepted = True
        except Exception:  # noqa: BLE001 - any refusal
            accepted = False
        assert accepted is valid, moment


def test_wrong_key_is_rejected():
    token = issue(SELF_HOSTED, RESIDENT, room="majlis-abc", starts_at=START, ends_at=END, now=START).jwt
    with pytest.raises(BadSignatureError):
        jose_jwt.decode(token, OctKey.import_key("another-secret-" + "y" * 32), algorithms=["HS256"])


def test_jaas_token(jaas):
    settings, public_key = jaas
    room = new_room_name()
    token = issue(settings, RESIDENT, room=room, starts_at=START, ends_at=END, now=START)
    decoded = jose_jwt.decode(token.jwt, public_key, algorithms=["RS256"])
    check_rules(decoded, room=room, at=START, expect_moderator=False)
    assert decoded.header["alg"] == "RS256" and decoded.header["kid"] == settings.jaas_kid
    claims = decoded.claims
    assert (claims["iss"], claims["sub"]) == ("chat", settings.jaas_app_id)
    assert settings.jaas_kid.split("/")[0] == claims["sub"]
    assert claims["context"]["features"] == {"livestreaming": "false", "recording": "false",
                                             "transcription": "false", "outbound-call": "false"}
    assert token.domain == "8x8.vc" and token.room == f"{settings.jaas_app_id}/{room}"
    assert token.url == f"https://8x8.vc/{settings.jaas_app_id}/{room}"
    moderator = jose_jwt.decode(issue(settings, MODERATOR, room=room, starts_at=START, ends_at=END, now=START).jwt,
                                public_key, algorithms=["RS256"])
    assert set(moderator.claims["context"]["features"].values()) == {"true"}


def test_room_names_are_lowercase_ascii_and_unguessable():
    import re

    names = {new_room_name() for _ in range(200)}
    assert len(names) == 200
    assert all(re.fullmatch(r"[a-z0-9-]+", name) and len(name) >= 24 for name in names)


def test_unconfigured_settings_refuse_to_sign():
    with pytest.raises(JitsiNotConfigured):
        issue(JitsiSettings(domain="meet.jit.si"), RESIDENT, room="r", starts_at=START, ends_at=END, now=START)
