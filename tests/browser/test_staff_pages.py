"""Staff planning pages in a real browser: right-to-left, no sideways scrolling at 360 px, no serious axe faults."""

import pytest

from tests.browser.conftest import axe_violations, horizontal_overflow

pytestmark = pytest.mark.browser

STAFF_PAGES = ["/staff/series", "/staff/series/1", "/staff/calendar", "/staff/sessions/1", "/staff/sessions/new",
               "/staff/series/new"]
WIDTHS = [360, 1280]


def sign_in_as_staff(page, live_server):
    page.goto(live_server + "/login")
    page.locator("input[name=email]").fill("staff@demo.majlis")
    page.locator("input[name=password]").fill("majlis-demo-2026")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(live_server + "/")


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", STAFF_PAGES)
def test_staff_page_is_rtl_fits_and_is_accessible(live_server, new_page, path, width):
    page = new_page(width)
    sign_in_as_staff(page, live_server)
    response = page.goto(live_server + path)
    assert response.status == 200
    assert page.get_attribute("html", "dir") == "rtl" and page.get_attribute("html", "lang") == "ar"
    assert page.locator("h1").count() == 1
    assert horizontal_overflow(page) <= 0
    assert axe_violations(page) == []


@pytest.mark.parametrize("width", WIDTHS)
def test_the_month_with_sessions_fits_a_phone(live_server, new_page, width):
    page = new_page(width)
    sign_in_as_staff(page, live_server)
    page.goto(live_server + "/staff/calendar")
    page.locator(".month-nav a[rel=next]").click()  # the demo's sessions start in the coming days
    assert page.locator(".day-session").count() >= 4
    assert horizontal_overflow(page) <= 0
    assert axe_violations(page) == []


def test_series_form_errors_are_announced_next_to_the_fields(live_server, new_page):
    page = new_page(360)
    sign_in_as_staff(page, live_server)
    page.goto(live_server + "/staff/series/new")
    page.locator("#title_ar").fill("مجلس تجريبي")
    page.locator("#title_en").fill("Trial majlis")
    page.locator("#rrule").fill("EVERY TUESDAY")
    page.locator("#first_start").fill("2027-03-02T19:00")
    page.locator("#capacity").fill("0")
    # The service checks one rule at a time: first the recurrence rule, then, once that is fixed, the seats.
    for name in ("rrule", "capacity"):
        page.locator("main form button[type=submit]").click()
        control = page.locator(f"#{name}")
        assert control.get_attribute("aria-invalid") == "true"
        assert f"{name}-error" in control.get_attribute("aria-describedby").split()
        assert page.locator(f"#{name}-error").inner_text()
        assert horizontal_overflow(page) <= 0
        assert axe_violations(page) == []
        page.locator("#rrule").fill("FREQ=WEEKLY;BYDAY=TU")
        assert page.locator("#title_en").input_value() == "Trial majlis"  # what was typed is kept
