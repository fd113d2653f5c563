"""Migration 0008: the cases opened from questions before it become majlis cases with their question's text."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from majlis import migrations

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_cases_from_questions_keep_working_after_the_migration(empty_database):
    engine = empty_database
    at = NOW.replace(tzinfo=None) if engine.dialect.name == "sqlite" else NOW
    migrations.upgrade(engine, "0004")
    with engine.begin() as connection:
        insert = lambda sql, **values: connection.execute(text(sql), {"at": at, **values})  # noqa: E731
        insert("INSERT INTO areas (id, code, name_ar, name_en) VALUES (1, 'sitra', 'سترة', 'Sitra')")
        insert("INSERT INTO government_bodies (id, code, name_ar, name_en, sla_days, is_active, created_at, "
               "updated_at) VALUES (1, 'works', 'الأشغال', 'Works', 30, true, :at, :at)")
        for user_id, role in ((1, "resident"), (2, "moderator")):
            insert("INSERT INTO users (id, email, name, password_hash, role, area_id, is_verified, is_disabled, "
                   "session_token, created_at, updated_at) VALUES (:id, :email, 'x', 'x', :role, 1, true, false, "
                   ":token, :at, :at)", id=user_id, email=f"u{user_id}@example.com", role=role,
                   token=f"t{user_id}")
        insert("INSERT INTO majlis_sessions (id, kind, title_ar, title_en, description_ar, description_en, "
               "visibility, starts_at, ends_at, status, capacity, confirmed_count, waitlist_count, "
               "registration_opens_at, registration_closes_at, room_name, sequence, live_version, created_at, "
               "updated_at) VALUES (1, 'weekly', 'م', 'M', '', '', 'public', :at, :end, 'ended', 10, 0, 0, :at, "
               ":at, 'room-1', 0, 0, :at, :at)", end=at + timedelta(hours=1))
        insert("INSERT INTO questions (id, session_id, author_id, body, normalized_body, status, is_anonymous, "
               "votes_count, created_at, updated_at) VALUES (1, 1, 1, 'متى يُصلح الرصيف؟', '', 'answered', "
               "false, 0, :at, :at)")
        insert("INSERT INTO cases (id, question_id, session_id, resident_id, body_id, status, due_on, "
               "opened_by_id, opened_at, reopened_count, created_at, updated_at) VALUES (1, 1, 1, 1, 1, "
               "'in_progress', '2026-12-31', 2, :at, 0, :at, :at)")
        insert("INSERT INTO case_updates (id, case_id, author_id, text, old_status, new_status, created_at) "
               "VALUES (1, 1, 2, 'زار الفريق الموقع', 'open', 'in_progress', :at)")
        insert("INSERT INTO registrations (id, session_id, user_id, status, queued_at, created_at, updated_at) "
               "VALUES (1, 1, 1, 'confirmed', :at, :at, :at)")
    migrations.upgrade(engine)
    with engine.connect() as connection:
        row = connection.execute(text("SELECT channel, description, area_id, category_id, place_is_public, "
                                      "status, assigned_at = opened_at FROM cases WHERE id = 1")).one()
        # Rebuilding a table on SQLite (a batch migration) must not take the rows that point at it along.
        kept = connection.execute(text("SELECT (SELECT count(*) FROM case_updates), (SELECT count(*) FROM "
                                       "registrations), (SELECT count(*) FROM questions)")).one()
    assert tuple(row) == ("majlis", "متى يُصلح الرصيف؟", 1, None, False, "in_progress", True)
    assert tuple(kept) == (1, 1, 1)
