"""Cached hot reads (majlis/cache.py): conditional answers from the scope's version, and never a stale one.

Each test reads through the app, changes something the way a user does (the API, another app instance on the same
database, the scheduler's bulk update, a restore), and reads again.
"""

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from majlis import cache, create_app
from majlis.db import get_database, unit_of_work
from majlis.enums import Role, SessionStatus, Visibility
from majlis.sessions import lifecycle
from majlis.sessions.models import MajlisSession
from tests import factories

ONE_RESPONSE_HEADERS = {"x-request-id", "date"}


@pytest.fixture
def sessions(db):
    with unit_of_work(db):
        public = factories.majlis_session(db, title_en="Open majlis")
        invited = factories.majlis_session(db, title_en="Closed coordination", visibility=Visibility.INVITED)
    return public, invited


def _headers(response) -> dict:
    return {name.lower(): value for name, value in response.headers if name.lower() not in ONE_RESPONSE_HEADERS}


def _summaries(body: bytes) -> list[str]:
    return sorted(str(event["SUMMARY"]) for event in Calendar.from_ical(body).walk("VEVENT"))


def test_feed_answers_304_and_head_from_its_etag(app, client, sessions):
    first = client.get("/calendar/majlis.ics")
    second = client.get("/calendar/majlis.ics")
    assert second.status_code == first.status_code == 200
    assert second.data == first.data
    assert _headers(second) == _headers(first)
    assert second.headers["X-Request-ID"] != first.headers["X-Request-ID"]
    assert second.headers["Content-Security-Policy"].startswith("default-src 'self'")

    etag = first.headers["ETag"]
    conditional = client.get("/calendar/majlis.ics", headers={"If-None-Match": etag})
    assert conditional.status_code == 304
    assert conditional.data == b""
    assert conditional.headers["ETag"] == etag

    head = client.head("/calendar/majlis.ics")
    assert head.status_code == 200 and head.data == b""
    assert head.headers["Content-Length"] == first.headers["Content-Length"]


def test_feed_shows_a_change_at_once_even_one_made_by_another_app_instance(app, app_config, client, db, sessions,
                                                                             api_token):
    public, _ = sessions
    before = client.get("/calendar/majlis.ics")
    assert "Open majlis" not in before.get_data(as_text=True)  # Arabic by default
    assert client.get("/calendar/majlis.ics", headers={"If-None-Match": before.headers["ETag"]}).status_code == 304

    other = create_app(app_config)  # a second worker or host on the same database
    with unit_of_work(db):
        staff = factories.user(db, role=Role.STAFF)
    moved = (public.starts_at + timedelta(days=1)).astimezone(UTC)
    response = other.test_client().patch(f"/api/v1/sessions/{public.id}", headers=api_token(staff),
                                         json={"starts_at": moved.isoformat()})
    assert response.status_code == 200, response.get_json()
    get_database(other).engine.dispose()

    after = client.get("/calendar/majlis.ics", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200  # not the 304 of the old feed
    starts = [event.decoded("DTSTART").astimezone(UTC) for event in Calendar.from_ical(after.data).walk("VEVENT")]
    assert moved.replace(microsecond=0) in [start.replace(microsecond=0) for start in starts]


def test_the_schedulers_bulk_updates_raise_the_versions(client, db, sessions):
    public, _ = sessions
    client.get("/calendar/majlis.ics")
    client.get("/calendar/majlis.ics")
    with unit_of_work(db):
        # A guarded bulk update, as the scheduler's start job runs it (no ORM flush involved).
        assert lifecycle.mark_live(db, public.id, now=public.starts_at + timedelta(minutes=1))
    versions = _versions(db)
    assert versions[cache.CALENDAR] >= 1 and versions[cache.SESSIONS] >= 1


def test_other_languages_get_their_own_feed(client, sessions):
    arabic = client.get("/calendar/majlis.ics")
    english = client.get("/calendar/majlis.ics?lang=en")
    assert "Open majlis" in _summaries(english.data)
    assert "Open majlis" not in _summaries(arabic.data)
    # The ?lang= choice is remembered in the cookie; a request with the cookie gets English, not the stored Arabic.
    again = client.get("/calendar/majlis.ics")
    assert "Open majlis" in _summaries(again.data)


def test_session_list_counts_a_registration_at_once(client, db, sessions, api_token):
    public, _ = sessions
    with unit_of_work(db):
        reader, resident = factories.user(db), factories.user(db)
    headers = api_token(reader)

    def seats():
        body = client.get("/api/v1/sessions", headers=headers).get_json()
        return next(s["confirmed_count"] for s in body["sessions"] if s["id"] == public.id)

    assert seats() == 0
    assert seats() == 0
    response = client.post(f"/api/v1/sessions/{public.id}/registrations", headers=api_token(resident))
    assert response.status_code == 201
    assert seats() == 1


def test_session_list_is_per_viewer_class_and_checks_the_token_every_time(client, db, sessions, api_token):
    public, invited = sessions
    with unit_of_work(db):
        staff, resident, official = (factories.user(db, role=Role.STAFF), factories.user(db),
                                     factories.user(db, role=Role.OFFICIAL))
    staff_headers, resident_headers = api_token(staff), api_token(resident)

    def ids(headers):
        response = client.get("/api/v1/sessions", headers=headers)
        assert response.status_code == 200
        return {s["id"] for s in response.get_json()["sessions"]}

    assert ids(staff_headers) == {public.id, invited.id}
    assert ids(staff_headers) == {public.id, invited.id}
    assert ids(resident_headers) == {public.id}  # not the staff's stored list
    assert ids(resident_headers) == {public.id}
    assert ids(api_token(official)) == {public.id, invited.id}

    # A revoked token stops working at once, although its list is stored.
    assert client.delete("/api/v1/auth/token", headers=resident_headers).status_code == 204
    refused = client.get("/api/v1/sessions", headers=resident_headers)
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "invalid_token"

    # So does a token whose user has been disabled, and one that has expired.
    other_headers = api_token(factories_user(db))
    assert ids(other_headers) == {public.id}
    _disable_last_user(db)
    assert client.get("/api/v1/sessions", headers=other_headers).status_code == 401
    late_headers = api_token(factories_user(db))
    assert ids(late_headers) == {public.id}
    _expire_tokens(db)
    assert client.get("/api/v1/sessions", headers=late_headers).status_code == 401
    assert client.get("/api/v1/sessions", headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    anonymous = client.get("/api/v1/sessions")  # no token at all: the public's list, as the website shows it
    assert anonymous.status_code == 200 and {s["id"] for s in anonymous.get_json()["sessions"]} == {public.id}


def test_list_etag_and_query_filters(client, db, sessions, api_token):
    public, _ = sessions
    with unit_of_work(db):
        reader = factories.user(db)
    headers = api_token(reader)
    first = client.get("/api/v1/sessions", headers=headers)
    etag = first.headers["ETag"]
    assert client.get("/api/v1/sessions", headers={**headers, "If-None-Match": etag}).status_code == 304
    day = public.starts_at.date()
    later = (day + timedelta(days=30)).isoformat()
    assert client.get(f"/api/v1/sessions?from={later}", headers=headers).get_json() == {"sessions": []}
    with unit_of_work(db):
        db.get(MajlisSession, public.id).title_en = "Renamed majlis"
    renamed = client.get("/api/v1/sessions", headers={**headers, "If-None-Match": etag})
    assert renamed.status_code == 200
    assert "Renamed majlis" in {s["title_en"] for s in renamed.get_json()["sessions"]}


def test_versions_move_only_for_what_each_read_shows(app, client, db, sessions, api_token):
    public, _ = sessions
    with unit_of_work(db):
        resident = factories.user(db)
        stamp = db.get(MajlisSession, public.id).updated_at
    start = _versions(db)
    client.post(f"/api/v1/sessions/{public.id}/registrations", headers=api_token(resident))
    after_registration = _versions(db)
    assert after_registration[cache.SESSIONS] == start[cache.SESSIONS] + 1  # the seat counter is listed
    assert after_registration[cache.CALENDAR] == start[cache.CALENDAR]  # ... but not in any feed
    db.rollback()
    assert db.get(MajlisSession, public.id).updated_at == stamp  # so the feed's DTSTAMP stays put

    with unit_of_work(db):
        from majlis.sessions import live

        live.bump(db, public.id)  # a question approved: watchers care, lists and feeds do not
    assert _versions(db) == after_registration

    with unit_of_work(db):
        row = db.get(MajlisSession, public.id)
        row.status = SessionStatus.CANCELLED
        row.cancel_reason = "عطلة"
    cancelled = _versions(db)
    assert cancelled[cache.CALENDAR] == after_registration[cache.CALENDAR] + 1
    db.rollback()
    assert db.get(MajlisSession, public.id).updated_at > stamp  # the last change a calendar shows


def test_restore_moves_versions_past_what_workers_built(app, runner, client, db, sessions, tmp_path):
    public, _ = sessions
    client.get("/calendar/majlis.ics")
    target = tmp_path / "backup.db"
    assert runner.invoke(args=["backup", str(target)]).exit_code == 0
    with unit_of_work(db):
        db.get(MajlisSession, public.id).title_ar = "عنوان بعد النسخة"
    changed = client.get("/calendar/majlis.ics")
    assert "عنوان بعد النسخة" in changed.get_data(as_text=True)
    before_restore = _versions(db)
    db.close()
    assert runner.invoke(args=["restore", str(target), "--yes"]).exit_code == 0
    after_restore = _versions(db)
    assert all(after_restore[s] > before_restore.get(s, 0) for s in cache.SCOPES)
    restored = client.get("/calendar/majlis.ics")
    assert "عنوان بعد النسخة" not in restored.get_data(as_text=True)


def _versions(db) -> dict[str, int]:
    db.rollback()
    with db.get_bind().connect() as connection:
        found = cache.versions_of(connection)
    return {scope: found.get(scope, 0) for scope in cache.SCOPES}


def factories_user(db):
    with unit_of_work(db):
        return factories.user(db)


def _disable_last_user(db):
    from sqlalchemy import select

    from majlis.auth.models import User

    with unit_of_work(db):
        user = db.scalars(select(User).order_by(User.id.desc()).limit(1)).one()
        user.is_disabled = True


def _expire_tokens(db):
    from sqlalchemy import update

    from majlis.auth.models import ApiToken

    with unit_of_work(db):
        db.execute(update(ApiToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))


def test_a_change_rolled_back_with_a_savepoint_still_raises_the_version_of_what_commits(db, sessions):
    public, _ = sessions
    start = _versions(db)
    with unit_of_work(db):
        try:
            with db.begin_nested():
                db.get(MajlisSession, public.id).title_en = "Never shown"
                db.flush()
                raise RuntimeError("the savepoint is rolled back")
        except RuntimeError:
            pass
        db.get(MajlisSession, public.id).title_en = "Shown"
    after = _versions(db)
    assert after[cache.CALENDAR] == start[cache.CALENDAR] + 1
    assert after[cache.SESSIONS] == start[cache.SESSIONS] + 1
