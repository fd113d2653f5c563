"""Pages in a real browser: right-to-left Arabic, usable at 360 px and 1280 px, no serious accessibility faults."""

import pytest

from tests.browser.conftest import axe_violations, horizontal_overflow

pytestmark = pytest.mark.browser

PUBLIC_PAGES = ["/", "/signup", "/login", "/verify", "/sessions/1", "/no-such-page"]
WIDTHS = [360, 1280]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_page_is_rtl_fits_and_is_accessible(live_server, new_page, path, width):
    page = new_page(width)
    page.goto(live_server + path)
    assert page.get_attribute("html", "dir") == "rtl" and page.get_attribute("html", "lang") == "ar"
    assert horizontal_overflow(page) <= 0
    assert axe_violations(page) == []


@pytest.mark.parametrize("width", WIDTHS)
def test_english_pages_are_left_to_right_and_accessible(live_server, new_page, width):
    page = new_page(width)
    page.goto(live_server + "/login?lang=en")
    assert page.get_attribute("html", "dir") == "ltr" and page.get_attribute("html", "lang") == "en"
    page.goto(live_server + "/")
    assert page.get_attribute("html", "lang") == "en"  # remembered
    assert horizontal_overflow(page) <= 0
    assert axe_violations(page) == []


def test_home_lists_the_demo_sessions_with_hijri_dates(live_server, new_page):
    page = new_page(360)
    page.goto(live_server + "/")
    cards = page.locator(".cards .card")
    assert cards.count() >= 6
    weekly = cards.filter(has_text="المجلس الأسبوعي").first
    assert "هـ" in weekly.locator(".hijri").inner_text()


def test_a_resident_signs_up_and_reaches_the_account_page_on_a_phone(live_server, new_page, tmp_path):
    page = new_page(360, 740)
    page.goto(live_server + "/signup")
    page.get_by_label("الاسم الكامل").fill("زينب حسن")
    page.get_by_label("البريد الإلكتروني").fill("zainab@example.com")
    page.get_by_label("رقم الهاتف النقال").fill("+97333445566")
    page.get_by_label("منطقة").select_option("sanabis")
    page.get_by_label("كلمة المرور", exact=True).fill("Sanabis-garden-42")
    page.get_by_label("أعد إدخال كلمة المرور").fill("Sanabis-garden-42")
    page.get_by_role("button", name="التسجيل").click()
    page.wait_for_url(live_server + "/")
    page.goto(live_server + "/account")
    assert "zainab@example.com" in page.content()
    assert horizontal_overflow(page) <= 0
    assert axe_violations(page) == []
    page.screenshot(path=str(tmp_path / "account-360.png"), full_page=True)


def test_signup_errors_are_announced_next_to_the_field(live_server, new_page):
    page = new_page(360)
    page.goto(live_server + "/signup")
    page.get_by_label("الاسم الكامل").fill("زينب حسن")
    page.get_by_label("البريد الإلكتروني").fill("zainab2@example.com")
    page.get_by_label("كلمة المرور", exact=True).fill("12345678")
    page.get_by_label("أعد إدخال كلمة المرور").fill("12345678")
    page.get_by_role("button", name="التسجيل").click()
    password = page.get_by_label("كلمة المرور", exact=True)
    assert password.get_attribute("aria-invalid") == "true"
    error_id = password.get_attribute("aria-describedby").split()[-1]
    assert page.locator(f"#{error_id}").inner_text()
    assert axe_violations(page) == []


@pytest.mark.parametrize("width", WIDTHS)
def test_staff_desk_in_the_browser(live_server, new_page, width):
    page = new_page(width)
    page.goto(live_server + "/login")
    page.get_by_label("البريد الإلكتروني").fill("staff@demo.majlis")
    page.get_by_label("كلمة المرور").fill("majlis-demo-2026")
    page.get_by_role("button", name="تسجيل الدخول").click()
    page.wait_for_url(live_server + "/")
    page.goto(live_server + "/staff/")
    assert page.locator("h1").inner_text() == "لوحة الموظفين"
    assert horizontal_overflow(page) <= 0
    assert axe_violations(page) == []
