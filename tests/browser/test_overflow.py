"""The session page for residents without a seat, in Chromium: the stream, following as a viewer, the on-air
call-in, and a seat from the line arriving live; at 360 and 1280 px, in Arabic and English, accessible."""

import pytest

from tests.browser.conftest import (
    FOLLOWER_PASSWORD,
    LIVE,
    OVERFLOW,
    axe_violations,
    horizontal_overflow,
    sign_in,
)

pytestmark = pytest.mark.browser
SHOTS = "/tmp/majlis-video"  # noqa: S108 - screenshots to look at after the run


def _page(new_page, live_server, width, email, lang):
    page = new_page(width, 900)
    sign_in(page, live_server, email, FOLLOWER_PASSWORD)
    page.goto(f"{live_server}/sessions/{OVERFLOW['id']}?lang={lang}")
    return page


@pytest.mark.parametrize("lang", ["ar", "en"])
@pytest.mark.parametrize("width", [360, 1280])
def test_the_line_watches_the_stream(live_server, new_page, width, lang):
    page = _page(new_page, live_server, width, "follower@demo.majlis", lang)
    frame = page.locator(".stream iframe")
    assert frame.count() == 1
    assert frame.get_attribute("src") == "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"
    assert frame.get_attribute("title")
    box = frame.bounding_box()
    assert box["width"] <= width and abs(box["height"] - box["width"] * 9 / 16) < 2  # 16:9, within the page
    assert horizontal_overflow(page) <= 0
    page.screenshot(path=f"{SHOTS}-stream-{lang}-{width}.png", full_page=True)
    assert axe_violations(page) == []


@pytest.mark.parametrize("lang", ["ar", "en"])
@pytest.mark.parametrize("width", [360, 1280])
def test_the_on_air_author_is_asked_to_join_to_speak(live_server, new_page, width, lang):
    page = _page(new_page, live_server, width, "caller@demo.majlis", lang)
    assert page.locator(".on-air a.button").count() == 1
    assert page.locator(".stream iframe").count() == 0
    assert horizontal_overflow(page) <= 0
    page.screenshot(path=f"{SHOTS}-on-air-{lang}-{width}.png", full_page=True)
    assert axe_violations(page) == []


@pytest.mark.parametrize("width", [360, 1280])
def test_with_visitors_the_line_follows_as_viewers(live_server, new_page, width):
    app = LIVE["app"]
    app.config["JITSI_VISITORS"] = True
    try:
        page = _page(new_page, live_server, width, "follower@demo.majlis", "ar")
        link = page.locator(f"#viewer-part a[href='/sessions/{OVERFLOW['id']}/join']")
        assert link.count() == 1 and page.locator(".stream iframe").count() == 0
        page.screenshot(path=f"{SHOTS}-visitor-ar-{width}.png", full_page=True)
        assert axe_violations(page) == []
        link.click()
        page.wait_for_function("() => window.jitsiCall !== undefined")
        assert page.evaluate("window.jitsiCall.jwt").count(".") == 2
    finally:
        app.config["JITSI_VISITORS"] = False


def test_a_seat_from_the_line_arrives_without_reloading(live_server, new_page):
    from datetime import UTC, datetime

    from majlis.db import get_database, unit_of_work
    from majlis.sessions.models import MajlisSession
    from majlis.sessions.services import update_session
    from majlis.timeutil import local_zone

    page = _page(new_page, live_server, 360, "follower@demo.majlis", "en")
    assert page.locator(".stream iframe").count() == 1
    page.evaluate("window.reloadMarker = 1")
    app = LIVE["app"]
    with app.app_context(), unit_of_work(get_database(app).session_factory()) as db_session:
        row = db_session.get(MajlisSession, OVERFLOW["id"])
        update_session(db_session, row, {"capacity": 2}, actor=None, zone=local_zone(), now=datetime.now(UTC))
    try:
        page.locator("#viewer-part .state-confirmed").wait_for(timeout=15000)
        assert page.evaluate("window.reloadMarker") == 1  # the same page, updated in place
        assert page.locator(f"#viewer-part a[href='/sessions/{OVERFLOW['id']}/join']").count() == 1
        assert page.locator(".stream iframe").count() == 0
        page.screenshot(path=f"{SHOTS}-promoted-en-360.png", full_page=True)
        assert axe_violations(page) == []
    finally:
        with app.app_context(), unit_of_work(get_database(app).session_factory()) as db_session:
            from sqlalchemy import select

            from majlis.auth.models import User
            from majlis.enums import RegistrationStatus
            from majlis.registration.models import Registration

            follower = db_session.scalar(select(User.id).where(User.email == "follower@demo.majlis"))
            registration = db_session.scalar(select(Registration).where(Registration.user_id == follower,
                                                                        Registration.session_id == OVERFLOW["id"]))
            registration.status = RegistrationStatus.WAITLISTED  # back in line for the other tests
            row = db_session.get(MajlisSession, OVERFLOW["id"])
            row.capacity, row.confirmed_count, row.waitlist_count = 1, 1, row.waitlist_count + 1
