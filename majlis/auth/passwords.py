"""The password policy: length, and not one of the passwords attackers try first."""

from __future__ import annotations

MIN_LENGTH = 8
MAX_LENGTH = 128

# The most common passwords in public breach lists (and their local variants); an attacker's first guesses.
COMMON = frozenset(
    """
    12345678 123456789 1234567890 12345678910 11111111 00000000 88888888 87654321 11223344 12341234
    123123123 1q2w3e4r 1qaz2wsx qwertyui qwertyuiop qwerty123 qwerty12 password password1 password12
    password123 passw0rd p@ssw0rd p@ssword iloveyou sunshine princess football baseball superman
    abcd1234 abc12345 abcdefgh aaaaaaaa asdfghjk asdfasdf zxcvbnm1 welcome1 welcome123 letmein1
    admin123 administrator changeme trustno1 whatever dragon12 monkey12 starwars computer internet
    bahrain1 bahrain123 bahrain2026 manama123 majlis123 majlis2026 ramadan1 ramadan123 allah123
    mohammed muhammad mohammad1 ahmed123 ali12345 q1w2e3r4 zaq12wsx 1234qwer qwer1234 987654321
    147258369 159753456 112233445566 123qweasd 1a2b3c4d iloveyou1 lovely12 michael1 jennifer
    """.split()
)


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """Return why a password is refused, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return "too_short"
    if len(password) > MAX_LENGTH:
        return "too_long"
    lowered = password.lower()
    if lowered in COMMON or len(set(password)) < 4:
        return "too_common"
    local_part = email.split("@", 1)[0].lower()
    if (local_part and len(local_part) >= 4 and local_part in lowered) or (name and lowered == name.lower()):
        return "too_personal"
    return None
