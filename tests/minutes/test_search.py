"""The archive's search on the database's full-text index: Arabic spelling variants, ranking, escaped highlights."""

from datetime import UTC, datetime, timedelta

import pytest

from majlis.db import unit_of_work
from majlis.enums import MinutesStatus, Role, Visibility
from majlis.minutes import fulltext, services
from majlis.minutes.models import Minutes
from tests import factories

DAY = datetime(2027, 3, 2, 16, 0, tzinfo=UTC)


def published(db, body: str, *, days: int = 0, visibility=Visibility.PUBLIC, title="المجلس الأسبوعي"):
    """A session whose minutes are published with this text (through the service that indexes them)."""
    with unit_of_work(db):
        staff = factories.user(db, role=Role.STAFF)
        row = factories.majlis_session(db, starts_at=DAY + timedelta(days=days), title_ar=title,
                                       title_en="Weekly majlis", visibility=visibility)
        db.add(Minutes(session_id=row.id, status=MinutesStatus.APPROVED, body=body, compiled_at=DAY))
        db.flush()
        services.publish(db, row, staff, now=DAY)
    return row


def found(db, query: str, viewer=None) -> list[int]:
    return [hit.majlis_session.id for hit in services.search(db, query, viewer=viewer)]


@pytest.mark.parametrize("written, sought", [
    ("إنارة الشوارع", "انارة"),  # hamza below on alef
    ("أنارة", "إنارة"),
    ("شؤون البلديات", "شئون"),  # hamza on waw, on yaa
    ("المسؤول", "مسئول"),
    ("مدرسة البنات", "مدرسه"),  # taa marbuta
    ("مستشفى السلمانية", "مستشفي"),  # alef maqsura
    ("الطَّرِيقُ السريع", "طريق"),  # diacritics and the definite article
    ("المـــحافظ", "المحافظ"),  # tatweel
    ("والإنارة", "انارة"),  # prefixes before the article
    ("١٢ شارعاً", "12"),  # Arabic-Indic digits
])
def test_spelling_variants_meet(db, written, sought):
    row = published(db, f"ناقش المجلس {written} في المنطقة.")
    other = published(db, "محضر عن موضوع آخر تماما.", days=1)
    assert found(db, sought) == [row.id]
    assert other.id not in found(db, sought)


def test_every_word_is_needed_and_the_best_match_comes_first(db):
    many = published(db, "إنارة الشارع. " * 5 + "طلب إنارة الشارع الرئيسي في الحي.")
    once = published(db, "ذكر أحد الحضور إنارة الشارع مرة واحدة ضمن مواضيع كثيرة أخرى عن الصحة والتعليم والإسكان "
                         "والطرق والمدارس والحدائق والأسواق.", days=1)
    lamp_only = published(db, "إنارة الحديقة فقط.", days=2)
    results = found(db, "أنارة الشارع")
    assert results == [many.id, once.id] and lamp_only.id not in results


def test_snippets_show_the_original_words_marked_and_stay_escaped(app, client, db):
    row = published(db, "<script>alert(1)</script> قال المحافظ إن إنارة الشوارع في مدينة عيسى تكتمل قريبا.")
    hits = services.search(db, "انارة الشوارع", viewer=None)
    marked = [piece.text for piece in hits[0].pieces if piece.is_match]
    assert marked == ["إنارة", "الشوارع"]
    html = client.get("/archive?q=انارة الشوارع").get_data(as_text=True)
    assert "<mark>إنارة</mark> <mark>الشوارع</mark>" in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    api = client.get("/api/v1/archive?q=انارة", headers=_token(app, db)).get_json()["results"][0]
    assert api["session_id"] == row.id and api["highlights"] == ["إنارة"] and "إنارة الشوارع" in api["snippet"]


def _token(app, db):

    from majlis.auth import services as auth_services
    from majlis.auth.services import AccountPolicy

    with unit_of_work(db):
        user = factories.user(db)
    with app.test_request_context(), unit_of_work(db):
        token, _ = auth_services.issue_api_token(db, user, label="t",
                                                 policy=AccountPolicy.from_config(app.config),
                                                 now=datetime.now(UTC))
    return {"Authorization": f"Bearer {token}"}


def test_a_match_in_the_title_only_shows_the_opening(db):
    row = published(db, "نص المحضر يبدأ هنا.", title="مجلس مدينة حمد")
    hits = services.search(db, "حمد", viewer=None)
    assert [hit.majlis_session.id for hit in hits] == [row.id]
    assert hits[0].snippet.startswith("نص المحضر يبدأ هنا.")


def test_a_correction_is_searched_instead_of_the_text_it_replaced(db):
    row = published(db, "وعد بصيانة الجسر.")
    with unit_of_work(db):
        staff = factories.user(db, role=Role.STAFF)
        services.revise(db, db.merge(row), staff, body="وعد بصيانة النفق.", reason="تصحيح الاسم", now=DAY)
    assert found(db, "الجسر") == [] and found(db, "النفق") == [row.id]


def test_invitation_only_minutes_are_found_only_by_those_who_see_such_sessions(db):
    row = published(db, "تنسيق مع وزارة الأشغال.", visibility=Visibility.INVITED)
    with unit_of_work(db):
        resident, official = factories.user(db), factories.user(db, role=Role.OFFICIAL)
    assert found(db, "الاشغال", resident) == [] and found(db, "الاشغال", None) == []
    assert found(db, "الاشغال", official) == [row.id]


@pytest.mark.parametrize("query", ["", "؟!", '"*) OR (', "' & !", "NEAR(a b)", "a:*", "\\"])
def test_odd_queries_are_safe(db, query):
    published(db, "محضر")
    assert isinstance(services.search(db, query, viewer=None), list)


def test_the_index_text_has_one_word_per_word_of_the_original():
    text = "قال: المحافظُ (في 2027) — إنارة‌ الشوارع؛ well-known e-mail@example.com ﷺ"
    assert len(fulltext.index_text("", "", text).split(" ")) == len(list(fulltext.WORD.finditer(text)))


def test_the_migration_indexes_the_minutes_already_published_and_later_ones(database_url, tmp_path):
    from sqlalchemy import text

    from majlis import create_app, migrations
    from majlis.db import get_database, make_engine
    from tests.test_db import _drop_pg_database, _fresh_pg_database

    if database_url.startswith("postgresql"):
        url = _fresh_pg_database(database_url, "majlis_search_migration")
    else:
        url = f"sqlite:///{tmp_path / 'before-search.db'}"
    engine = make_engine(url)
    app = None
    at = DAY.replace(tzinfo=None) if url.startswith("sqlite") else DAY
    try:
        migrations.upgrade(engine, "0004")
        with engine.begin() as connection:  # minutes published before the index existed
            connection.execute(text(
                "INSERT INTO majlis_sessions (kind, title_ar, title_en, description_ar, description_en, visibility, "
                "starts_at, ends_at, status, capacity, confirmed_count, waitlist_count, registration_opens_at, "
                "registration_closes_at, room_name, sequence, live_version, created_at, updated_at) VALUES "
                "('weekly', 'المجلس', 'Majlis', '', '', 'public', :at, :at2, 'ended', 10, 0, 0, :at0, :at, "
                "'majlis-migrationcheck000000000', 0, 0, :at, :at)"), {"at": at, "at2": at + timedelta(hours=1),
                                                                       "at0": at - timedelta(days=7)})
            connection.execute(text(
                "INSERT INTO minutes (session_id, status, body, compiled_at, published_at, created_at, updated_at) "
                "VALUES (1, 'published', 'وعد المحافظ إنارة شارع البديع', :at, :at, :at, :at)"), {"at": at})
            connection.execute(text(
                "INSERT INTO minutes_revisions (minutes_id, number, body, sha256, created_at) VALUES "
                "(1, 1, 'وعد المحافظ إنارة شارع البديع', 'x', :at)"), {"at": at})
        migrations.upgrade(engine)
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(tmp_path / "i"),
                          "MAIL_BACKEND": "null"})
        db = get_database(app).session_factory()
        assert found(db, "انارة البديع") == [1]
        later = published(db, "محضر جديد عن أنارة الحدائق", days=3)
        assert found(db, "انارة") == [later.id, 1] or found(db, "انارة") == [1, later.id]
        assert found(db, "الحدائق") == [later.id]
        db.close()
    finally:
        if app is not None:
            get_database(app).engine.dispose()
        engine.dispose()
        if url.startswith("postgresql"):
            _drop_pg_database(url)
