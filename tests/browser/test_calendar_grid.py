"""The staff calendar grid and the list filters in Chromium: a real 7-column month at 1280 px that becomes the list of
days at 360 px, the week, the filter forms submitted without script; no sideways scrolling; axe-core clean."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.browser.conftest import axe_violations, horizontal_overflow, sign_in

pytestmark = pytest.mark.browser
BAHRAIN = ZoneInfo("Asia/Bahrain")
SHOTS = "/tmp/majlis-grid"  # noqa: S108 - screenshots to look at after the run


def visit_day():
    """The demo's field visit is ten days ahead, at 17:00 local time."""
    return (datetime.now(BAHRAIN) + timedelta(days=10)).date()


@pytest.mark.parametrize("lang", ["ar", "en"])
@pytest.mark.parametrize("width", [1280, 360])
def test_the_month_is_a_grid_on_a_wide_screen_and_a_list_of_days_on_a_phone(live_server, new_page, width, lang):
    page = new_page(width)
    sign_in(page, live_server, "staff@demo.majlis")
    day = visit_day()
    response = page.goto(f"{live_server}/staff/calendar?month={day:%Y-%m}&lang={lang}")
    assert response.status == 200
    cell = page.locator(f"td.cal-day:has(time[datetime='{day.isoformat()}'])")
    visit = cell.locator(".day-session a")
    assert visit.count() >= 1 and visit.first.is_visible()
    headers = page.locator("table.cal-month thead th")
    assert headers.count() == 7
    if width == 1280:
        assert headers.first.is_visible()
        # Seven columns side by side, in the page's direction (right to left in Arabic), each row aligned.
        first_row = page.locator("table.cal-month tbody tr").first.locator("td")
        xs = [first_row.nth(i).bounding_box()["x"] for i in range(7)]
        assert xs == sorted(xs, reverse=(lang == "ar")) and len(set(xs)) == 7
        column = [h.bounding_box()["x"] for h in headers.all()]
        box = cell.bounding_box()
        assert min(abs(box["x"] - x) for x in column) < 1  # under its weekday's header
        assert page.locator("td.is-outside").count() + page.locator("td.cal-day").count() >= 28
    else:
        assert not headers.first.is_visible()
        assert not page.locator("td.is-empty").first.is_visible()  # only the days with sessions are listed
        assert cell.locator(".cal-full").first.is_visible()  # each with its full date
        box = cell.bounding_box()
        assert box["width"] > width * 0.8  # a full-width card, not a sliver of a grid
    assert horizontal_overflow(page) <= 0
    page.screenshot(path=f"{SHOTS}-month-{lang}-{width}.png", full_page=True)
    assert axe_violations(page) == []


@pytest.mark.parametrize("width", [1280, 360])
def test_the_week_view_fits_and_is_accessible(live_server, new_page, width):
    page = new_page(width)
    sign_in(page, live_server, "staff@demo.majlis")
    day = visit_day()
    page.goto(f"{live_server}/staff/calendar?month={day:%Y-%m}")
    page.locator(".month-nav a[href*='/staff/calendar/week']").click()
    page.goto(f"{live_server}/staff/calendar/week?day={day.isoformat()}")
    assert page.locator(f"td.cal-day:has(time[datetime='{day.isoformat()}']) .day-session").count() >= 1
    page.locator(".month-nav a[rel=next]").click()
    page.wait_for_url("**/staff/calendar/week?day=*")
    assert horizontal_overflow(page) <= 0
    assert axe_violations(page) == []
    page.screenshot(path=f"{SHOTS}-week-{width}.png", full_page=True)


@pytest.mark.parametrize("width", [1280, 360])
def test_the_session_filter_form_works_without_script(live_server, browser, width):
    context = browser.new_context(viewport={"width": width, "height": 800}, locale="ar-BH", java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live_server + "/?lang=en")
        everything = page.locator("ul.cards > li").count()
        assert everything > 1
        page.locator("#filter-kind").select_option("field_visit")
        page.locator("form.list-filters button[type=submit]").click()
        page.wait_for_url("**/?area=&kind=field_visit")
        assert page.locator("ul.cards > li").count() == 1
        assert "field visit" in page.locator("ul.cards > li h3").inner_text().lower()
        assert page.locator("#filter-kind").input_value() == "field_visit"
        assert page.locator(".list-filters-result").inner_text().startswith("1 result")
        assert horizontal_overflow(page) <= 0
        page.locator(".list-filters-result a").click()
        assert page.locator("ul.cards > li").count() == everything
    finally:
        context.close()


@pytest.mark.parametrize("width", [1280, 360])
def test_the_filter_forms_are_accessible(live_server, new_page, width):
    page = new_page(width)
    page.goto(live_server + "/?kind=field_visit")
    assert horizontal_overflow(page) <= 0
    assert axe_violations(page) == []
    page.goto(live_server + "/accountability?category=")
    page.locator("#filter-area").select_option(index=1)
    page.locator("form.period button[type=submit]").click()
    page.wait_for_url("**/accountability?*area=*")
    assert page.locator(".list-filters-result").is_visible()
    assert horizontal_overflow(page) <= 0
    assert axe_violations(page) == []
    sign_in(page, live_server, "moderator@demo.majlis")
    page.goto(live_server + "/cases")
    page.locator("#filter-status").select_option("open")
    page.locator("form.list-filters button[type=submit]").click()
    page.wait_for_url("**/cases?status=open*")
    assert page.locator(".list-filters-result").is_visible()
    assert horizontal_overflow(page) <= 0
    page.screenshot(path=f"{SHOTS}-cases-{width}.png", full_page=True)
    assert axe_violations(page) == []
