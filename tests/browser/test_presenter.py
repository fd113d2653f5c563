"""The presenter ("big screen") view in Chromium: it follows the queue by itself when a moderator puts a question on
air, reads right to left in Arabic, passes axe-core, and fits 1280 and 360 px (screenshots to look at in /tmp)."""

import pytest

from tests.browser.conftest import SOON, axe_violations, horizontal_overflow, sign_in

pytestmark = pytest.mark.browser
SHOTS = "/tmp/majlis-presenter"  # noqa: S108 - screenshots to look at after the run
TEXT = "متى تُستكمل صيانة جسر الشيخ عيسى قبل موسم الأمطار؟"


def test_presenter_view_follows_the_question_put_on_air(live_server, new_page):
    resident = new_page(360, 740)
    sign_in(resident, live_server, "resident@demo.majlis")
    resident.goto(f"{live_server}/sessions/{SOON['id']}")
    resident.locator("#question-body").fill(TEXT)
    resident.locator("form.ask button[type=submit]").click()
    resident.wait_for_url(f"{live_server}/sessions/{SOON['id']}#questions-heading")

    moderator = new_page(1280)
    sign_in(moderator, live_server, "moderator@demo.majlis")
    moderator.goto(f"{live_server}/sessions/{SOON['id']}/moderate")
    card = moderator.locator("article.question", has=moderator.locator(".question-body", has_text="جسر الشيخ عيسى"))
    card.locator("button[data-shortcut=a]").click()
    moderator.wait_for_load_state()

    screen = new_page(1280, 720)
    sign_in(screen, live_server, "moderator@demo.majlis")
    # Reached from the console's link, as a moderator would.
    moderator_console = f"{live_server}/sessions/{SOON['id']}/moderate"
    screen.goto(moderator_console)
    screen.locator(f"a[href='/sessions/{SOON['id']}/present']").click()
    screen.wait_for_url(f"{live_server}/sessions/{SOON['id']}/present")
    assert screen.locator("html").get_attribute("dir") == "rtl"
    screen.locator(".present-top li", has_text="جسر الشيخ عيسى").wait_for()
    screen.evaluate("window.notReloaded = true")

    card = moderator.locator("article.question", has=moderator.locator(".question-body", has_text="جسر الشيخ عيسى"))
    card.locator("button[data-shortcut=o]").click()

    # The big screen changes by itself: the question is on air, out of the waiting list, and nothing reloaded.
    screen.locator(".present-on-air .present-current", has_text="جسر الشيخ عيسى").wait_for(timeout=10_000)
    assert screen.locator(".present-top li", has_text="جسر الشيخ عيسى").count() == 0
    assert screen.evaluate("window.notReloaded") is True
    size = screen.evaluate("getComputedStyle(document.querySelector('.present-current-body')).fontSize")
    assert float(size.removesuffix("px")) >= 40  # readable across a hall at 1280 px
    assert horizontal_overflow(screen) <= 0
    assert axe_violations(screen) == []
    screen.screenshot(path=f"{SHOTS}-ar-1280.png", full_page=True)


@pytest.mark.parametrize(("lang", "width"), [("ar", 360), ("en", 360), ("en", 1280)])
def test_presenter_view_fits_and_passes_axe(live_server, new_page, lang, width):
    page = new_page(width, 740 if width == 360 else 720)
    sign_in(page, live_server, "moderator@demo.majlis")
    page.goto(f"{live_server}/sessions/{SOON['id']}/present?lang={lang}")
    assert page.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
    assert horizontal_overflow(page) <= 0
    assert axe_violations(page) == []
    page.screenshot(path=f"{SHOTS}-{lang}-{width}.png", full_page=True)


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_question_order_toggle_without_script(live_server, new_page, lang):
    page = new_page(360, 740)
    page.goto(f"{live_server}/sessions/{SOON['id']}?lang={lang}")
    page.locator(".sort-choice a").nth(1).click()
    page.wait_for_url(f"**/sessions/{SOON['id']}?sort=recent#questions-heading")
    assert page.locator(".sort-choice a[aria-current]").count() == 1
    assert page.locator(".sort-choice a").nth(1).get_attribute("aria-current") == "true"
    assert horizontal_overflow(page) <= 0
    assert axe_violations(page) == []
    page.screenshot(path=f"{SHOTS}-sort-{lang}-360.png", full_page=True)
