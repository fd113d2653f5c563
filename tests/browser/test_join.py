"""The join page in Chromium: the room embeds through the IFrame API with the token, in Arabic."""

import pytest

from tests.browser.conftest import SOON, axe_violations, horizontal_overflow, sign_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [360, 1280])
def test_the_registered_resident_enters_the_room(live_server, new_page, width):
    page = new_page(width, 740)
    sign_in(page, live_server, "resident@demo.majlis")
    page.goto(f"{live_server}/sessions/{SOON['id']}")
    page.locator(f"a[href='/sessions/{SOON['id']}/join']").click()
    page.wait_for_function("() => window.jitsiCall !== undefined")
    call = page.evaluate("window.jitsiCall")
    room = page.get_attribute("#jitsi-room", "data-room")
    assert call["domain"] == "meet.capital.example" and call["roomName"] == room
    assert call["jwt"].count(".") == 2 and call["lang"] == "ar" and call["displayName"] == "فاطمة علي"
    assert page.locator("#jitsi-room iframe").count() == 1
    assert horizontal_overflow(page) <= 0
    assert axe_violations(page) == []


def test_someone_without_a_seat_sees_why(live_server, new_page):
    page = new_page(360)
    sign_in(page, live_server, "official@demo.majlis")
    response = page.goto(f"{live_server}/sessions/{SOON['id']}/join")
    assert response.status == 403
    assert page.locator("#jitsi-room").count() == 0
    assert axe_violations(page) == []
