"""Impersonation: names that hide or reorder text, names of the office and the bodies, look-alike addresses."""

import re

import pytest
from sqlalchemy import select

from majlis.auth.models import User
from tests.conftest import form_post

GOOD = {"email": "fatima.ali@example.com", "name": "فاطمة علي", "password": "Sanabis-garden-42"}


def signup(client, lang="ar", **changes):
    return client.post("/api/v1/auth/signup", json={**GOOD, **changes}, headers={"Accept-Language": lang})


@pytest.mark.parametrize("name", [
    "\u202e\u202e\u202e",                 # right-to-left overrides only
    "\u2066\u2067\u2068\u2069",           # isolates only
    "مكتب\u202eظفاحملا",                   # an override that shows "المحافظ" backwards as forwards
    "Ali\u202d Hasan",                     # one embedded control is enough
    "\u200b\u200b\u200b",                  # zero-width spaces
    "\u3164\u3164",                        # Hangul fillers: letters that show as nothing
    "\u2800\u2800\u2800",                  # blank braille cells
    "\u00ad\u200d\u2060",                  # soft hyphen, zero-width joiner, word joiner
    "ا\u200b",                             # one visible letter and an invisible one
    "Ali\x07Hasan",                        # a control character
])
def test_names_without_visible_text_or_with_direction_controls_are_refused(client, db, name):
    arabic, english = signup(client, name=name), signup(client, "en", name=name)
    assert arabic.status_code == english.status_code == 400
    assert arabic.get_json()["error"]["field"] == "name"
    assert re.search("[\u0600-\u06ff]", arabic.get_json()["error"]["message"])
    assert english.get_json()["error"]["message"].isascii()
    assert db.scalar(select(User.id)) is None


@pytest.mark.parametrize("name", [
    "مكتب المحافظ", "مَكتب  المحافظ", "مكتب\u200bالمحافظ", "المحافظ", "Governor's Office", "GOVERNORS OFFICE",
    "ｔｈｅ ｇｏｖｅｒｎｏｒ", "Capital Governorate — Governor's office",
])
def test_the_offices_names_are_reserved(client, db, name):
    response = signup(client, name=name)
    assert response.status_code == 400
    assert (response.get_json()["error"]["code"], response.get_json()["error"]["field"]) == ("name_reserved", "name")
    assert db.scalar(select(User.id)) is None


@pytest.mark.parametrize("name", ["هيئة الكهرباء والماء", "هيئه الكهرباء و الماء", "electricity and water authority",
                                  "Electricity & Water Authority"])
def test_a_government_bodys_names_are_reserved(client, db, make_body, name):
    make_body(name_ar="هيئة الكهرباء والماء", name_en="Electricity and Water Authority")
    response = signup(client, name=name)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "name_reserved"


@pytest.mark.parametrize("name", ["فاطمة علي", "Zoë O'Brien", "مهر\u200cداد", "علي عبد المحافظ",
                                  "Governor Street Bakery"])
def test_ordinary_names_are_accepted(client, db, name):
    assert signup(client, name=name).status_code == 201


def test_the_signup_page_shows_the_name_error_beside_the_field(client, db):
    response = form_post(client, "/signup", {**GOOD, "name": "مكتب المحافظ", "confirm": GOOD["password"]})
    assert response.status_code == 400
    assert 'id="name-error"' in response.get_data(as_text=True)
    assert db.scalar(select(User.id)) is None


def test_the_office_may_still_name_its_own_accounts(runner, db):
    """The CLI creates the office's staff and moderator accounts; only residents' names are checked."""
    result = runner.invoke(args=["create-user", "office@example.com", "--name", "مكتب المحافظ", "--role", "moderator",
                                 "--password", "Sakhir-gate-2026"])
    assert result.exit_code == 0, result.output
    refused = runner.invoke(args=["create-user", "fake@example.com", "--name", "مكتب المحافظ", "--role", "resident",
                                  "--password", "Resident-pass-26"])
    assert refused.exit_code == 1 and "name_reserved" in refused.output
    bidi = runner.invoke(args=["create-user", "odd@example.com", "--name", "\u202eفلان", "--role", "staff",
                               "--password", "Staff-pass-2026x"])
    assert bidi.exit_code == 1 and "invalid_name" in bidi.output


@pytest.mark.parametrize("lookalike", ["ｆａｔｉｍａ．ａｌｉ＠ｅｘａｍｐｌｅ．ｃｏｍ", "FATIMA.ALI@EXAMPLE.COM",
                                       "ﬁ@example.com"])
def test_a_compatible_spelling_of_an_address_is_the_same_address(client, db, make_user, lookalike):
    make_user(email="fatima.ali@example.com")
    make_user(email="fi@example.com")
    response = signup(client, email=lookalike)
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "email_taken"


def test_addresses_are_stored_folded_and_sign_in_works_with_any_spelling(client, db):
    created = signup(client, email="ＦＡＴＩＭＡ.Ali@Example.com")
    assert created.status_code == 201 and created.get_json()["email"] == "fatima.ali@example.com"
    token = client.post("/api/v1/auth/token", json={"email": "ｆａｔｉｍａ．ａｌｉ＠ｅｘａｍｐｌｅ．ｃｏｍ",
                                                     "password": GOOD["password"]})
    assert token.status_code == 201


def test_the_migration_folds_stored_addresses(database_url, tmp_path):
    """Addresses stored before (lower-cased only) are folded by migration 0005, so their owners can still sign in."""
    from sqlalchemy import text

    from majlis import migrations
    from majlis.db import make_engine
    from tests.test_db import _drop_pg_database, _fresh_pg_database

    url = (_fresh_pg_database(database_url, "majlis_fold_check") if database_url.startswith("postgresql")
           else f"sqlite:///{tmp_path / 'fold.db'}")
    engine = make_engine(url)
    try:
        migrations.upgrade(engine, "0003")
        with engine.begin() as connection:
            for n, email in enumerate(["straße@example.com", "ｋ@example.com", "plain@example.com"], 1):
                connection.execute(text(
                    "INSERT INTO users (email, name, password_hash, role, is_verified, is_disabled, session_token, "
                    "created_at, updated_at) VALUES (:email, 'n', 'h', 'resident', true, false, :token, "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), {"email": email, "token": f"t{n}"})
        migrations.upgrade(engine)
        with engine.connect() as connection:
            stored = sorted(connection.execute(text("SELECT email FROM users")).scalars())
        assert stored == ["k@example.com", "plain@example.com", "strasse@example.com"]
    finally:
        engine.dispose()
        if url.startswith("postgresql"):
            _drop_pg_database(url)

