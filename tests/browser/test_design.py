"""The visual system in a real browser: our own font from our own origin (nothing fetched elsewhere), chevrons that
point the reading direction's way, and GOV.UK-style error summaries; accessible at 360 and 1280 px."""

import pytest

from tests.browser.conftest import axe_violations, horizontal_overflow, sign_in

pytestmark = pytest.mark.browser

MIRRORED = "matrix(-1, 0, 0, 1, 0, 0)"


@pytest.mark.parametrize("lang", ["ar", "en"])
@pytest.mark.parametrize("path", ["/", "/login", "/archive"])
def test_the_page_and_its_font_come_from_our_own_origin(live_server, new_page, path, lang):
    page = new_page(360)
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{live_server}{path}?lang={lang}")
    page.evaluate("document.fonts.ready.then(() => true)")
    assert requested and all(url.startswith(live_server + "/") for url in requested), requested
    assert any("/static/fonts/ibm-plex-sans-arabic/" in url for url in requested)
    loaded = page.evaluate("[...document.fonts].filter(f => f.status === 'loaded').map(f => f.family)")
    assert any("Plex Arabic" in family for family in loaded)
    heading_font = page.evaluate("getComputedStyle(document.querySelector('h1')).fontFamily")
    assert heading_font.startswith('"Plex Arabic"')
    assert axe_violations(page) == []


@pytest.mark.parametrize("width", [360, 1280])
def test_previous_and_next_chevrons_point_the_way_of_the_reading_direction(live_server, new_page, width):
    page = new_page(width)
    sign_in(page, live_server, "staff@demo.majlis")
    chevrons = """() => ({
        next: getComputedStyle(document.querySelector('a[rel=next]'), '::after').transform,
        prev: getComputedStyle(document.querySelector('a[rel=prev]'), '::before').transform,
        nextShown: getComputedStyle(document.querySelector('a[rel=next]'), '::after').display})"""
    page.goto(live_server + "/staff/calendar?lang=ar")
    arabic = page.evaluate(chevrons)
    assert arabic["nextShown"] == "inline-block"
    # Drawn pointing right; in Arabic "next" points left (mirrored), "previous" right.
    assert arabic["next"] == MIRRORED and arabic["prev"] == "none"
    assert horizontal_overflow(page) <= 0
    assert axe_violations(page) == []
    page.goto(live_server + "/staff/calendar?lang=en")
    english = page.evaluate(chevrons)
    assert english["next"] == "none" and english["prev"] == MIRRORED
    assert axe_violations(page) == []


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_a_form_with_errors_opens_with_a_summary_that_leads_to_each_field(live_server, new_page, lang):
    page = new_page(360)
    page.goto(f"{live_server}/signup?lang={lang}")
    page.locator("main form button[type=submit]").last.click()
    summary = page.locator(".error-summary[role=alert]")
    assert summary.count() == 1
    assert summary.locator("h2").inner_text() == ("توجد مشكلة" if lang == "ar" else "There is a problem")
    email_link = summary.locator("a[href='#email']")
    assert email_link.count() == 1
    assert email_link.inner_text().endswith(page.locator("#email-error").inner_text())
    email_link.click()
    assert page.evaluate("document.activeElement.id") == "email"
    assert horizontal_overflow(page) <= 0
    assert axe_violations(page) == []
