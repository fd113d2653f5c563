"""The session page: what each viewer is offered (registration.services.offer), and the anonymous page kept by state.

Each test reads the page through the app as a resident or a passer-by would, changes something the way the product
does (another resident registers, a moderator approves a question, staff publish minutes), and reads it again.
"""

from datetime import UTC, datetime, timedelta

import pytest

from majlis.db import unit_of_work
from majlis.enums import QuestionStatus, RegistrationStatus, Role, SessionStatus
from majlis.questions.models import Question
from majlis.registration.models import Registration
from majlis.sessions.models import MajlisSession
from tests import factories


@pytest.fixture
def jitsi_app(app):
    app.config.update(JITSI_DOMAIN="meet.capital.example", JITSI_APP_ID="majlis", JITSI_APP_SECRET="s" * 40)
    return app


def _session(db, **overrides):
    with unit_of_work(db):
        return factories.majlis_session(db, **overrides)


def _page(client, session_id, **query) -> str:
    response = client.get(f"/sessions/{session_id}", query_string={"lang": "en", **query})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _signed_in(app, user):
    """A browser of its own for `user`, signed in through the real form."""
    from tests.conftest import form_post

    browser = app.test_client()
    assert form_post(browser, "/login", {"email": user.email, "password": factories.PASSWORD}).status_code == 302
    return browser


def _register(client, db, session_id, user, api_token):
    response = client.post(f"/api/v1/sessions/{session_id}/registrations", headers=api_token(user))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_an_anonymous_reader_gets_no_cookie_and_sees_each_change(client, db, make_user, api_token):
    row = _session(db, capacity=3)
    first = client.get(f"/sessions/{row.id}")
    assert "Set-Cookie" not in first.headers  # nothing stored for a passer-by
    assert "Cookie" in first.headers.get("Vary", "")
    assert 'lang="ar"' in first.get_data(as_text=True)
    english = client.get(f"/sessions/{row.id}?lang=en")  # the choice of language is remembered in the cookie
    assert "3 of 3 free" in english.get_data(as_text=True)
    assert "Sign in to register" in english.get_data(as_text=True)
    assert 'lang="en"' in client.get(f"/sessions/{row.id}").get_data(as_text=True)

    _register(client, db, row.id, make_user(), api_token)
    assert "2 of 3 free" in _page(client, row.id)

    resident = make_user()
    _register(client, db, row.id, resident, api_token)
    with unit_of_work(db):
        question = Question(session_id=row.id, author_id=resident.id, body="Will the park get benches?",
                            normalized_body="will the park get benches", status=QuestionStatus.PENDING,
                            created_at=datetime.now(UTC), updated_at=datetime.now(UTC))
        db.add(question)
    assert "Will the park get benches?" not in _page(client, row.id)  # pending: not public
    moderator = make_user(role=Role.MODERATOR)
    response = client.post(f"/api/v1/questions/{question.id}/moderation", headers=api_token(moderator),
                           json={"action": "approve"})
    assert response.status_code == 200, response.get_json()
    assert "Will the park get benches?" in _page(client, row.id)

    with unit_of_work(db):
        changed = db.get(MajlisSession, row.id)
        changed.status, changed.cancel_reason = SessionStatus.CANCELLED, "A public holiday"
    page = _page(client, row.id)
    assert "This session is cancelled." in page and "A public holiday" in page
    assert "Sign in to register" not in page


def test_a_stale_cookie_or_a_flash_gets_its_own_page(client, db, make_user, login_as):
    row = _session(db)
    resident = make_user()
    login_as(resident)
    assert "Register" in _page(client, row.id)
    client.post("/logout", data={})  # without a CSRF token: refused, the session stays
    page = _page(client, row.id)
    assert "Sign in to register" not in page  # still signed in: never the anonymous page


def test_what_a_resident_is_offered_follows_their_place(jitsi_app, client, db, make_user, api_token):
    now = datetime.now(UTC)
    row = _session(db, capacity=1, starts_at=now + timedelta(minutes=10),
                   registration_opens_at=now - timedelta(days=1), registration_closes_at=now + timedelta(minutes=5))
    seated, waiting, outsider = make_user(), make_user(), make_user()
    _register(client, db, row.id, seated, api_token)
    browser = _signed_in(jitsi_app, waiting)
    page = _page(browser, row.id)
    assert "Join the waiting list" in page and ">Register<" not in page
    assert "Enter the video room" not in page  # the room opens to confirmed registrants only
    _register(client, db, row.id, waiting, api_token)
    page = _page(browser, row.id)
    assert "You are number 1 in line" in page and "Leave the waiting list" in page
    assert "Enter the video room" not in page

    browser = _signed_in(jitsi_app, seated)
    page = _page(browser, row.id)
    assert "Your seat is confirmed." in page and "Cancel my registration" in page
    assert "Enter the video room" in page  # the room is open: 15 minutes before the start
    assert browser.get(f"/sessions/{row.id}/join").status_code == 200

    assert "Enter the video room" not in _page(_signed_in(jitsi_app, outsider), row.id)


def test_registration_not_yet_open_says_when_it_opens(client, db, make_user, login_as):
    now = datetime.now(UTC)
    row = _session(db, starts_at=now + timedelta(days=20), registration_opens_at=now + timedelta(days=3))
    login_as(make_user())
    page = _page(client, row.id)
    assert "Registration opens on" in page
    assert "<form" not in page.split('id="registration-heading"')[1].split("</section>")[0]


def test_staff_are_not_offered_a_seat_but_the_registrants(client, db, make_user, login_as):
    row = _session(db)
    login_as(make_user(role=Role.STAFF))
    page = _page(client, row.id)
    assert "See the registrants" in page and "Join the waiting list" not in page


def test_the_offer_and_register_refuse_for_the_same_reasons(app, db, make_user, now):
    """The page's offer and the action share one rule: whatever the offer refuses, `register` refuses alike."""
    from majlis.errors import MajlisError
    from majlis.jitsi.services import settings_from_config
    from majlis.registration import services

    cases = {
        "closed": {"registration_closes_at": now - timedelta(minutes=1)},
        "not yet": {"registration_opens_at": now + timedelta(hours=1)},
        "cancelled": {"status": SessionStatus.CANCELLED},
        "open": {},
    }
    resident = make_user()
    for name, overrides in cases.items():
        row = _session(db, **overrides)
        with app.test_request_context():
            offered = services.offer(db, row, resident, now=now, room_settings=settings_from_config(app.config))
            try:
                with unit_of_work(db):
                    place = services.register(db, row.id, resident, now=now)
                refusal = None
            except MajlisError as exc:
                refusal, place = exc.code, None
        assert offered.register.code == refusal, name
        if refusal is None:
            assert place.status == RegistrationStatus.CONFIRMED
            assert db.get(Registration, place.id) is not None
