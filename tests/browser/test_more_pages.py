"""The rest of the pages in Chromium: right to left, no sideways scrolling at 360 px, no serious axe fault."""

import pytest

from tests.browser.conftest import HISTORY, SOON, axe_violations, horizontal_overflow, sign_in

pytestmark = pytest.mark.browser

PAGES = {
    None: ["/accountability", "/archive", "/archive?q=الطريق", "/sessions/{held}/minutes"],
    "resident@demo.majlis": ["/account", "/cases", "/cases/{case}", "/sessions/{soon}"],
    "official@demo.majlis": ["/cases", "/cases/{case}"],
    "moderator@demo.majlis": ["/sessions/{soon}/moderate", "/staff/agenda"],
    "staff@demo.majlis": ["/staff/sessions/{held}/minutes", "/staff/sessions/{soon}/registrants",
                          "/staff/sessions/{soon}/invitations"],
    "admin@demo.majlis": ["/admin/audit"],
}
CASES = [(who, path) for who, paths in PAGES.items() for path in paths]


@pytest.mark.parametrize("width", [360, 1280])
@pytest.mark.parametrize("who, path", CASES)
def test_page_fits_and_is_accessible(live_server, new_page, who, path, width):
    page = new_page(width)
    if who:
        sign_in(page, live_server, who)
    url = live_server + path.format(held=HISTORY["session"], case=HISTORY["case"], soon=SOON["id"])
    response = page.goto(url)
    assert response.status == 200, url
    assert page.get_attribute("html", "dir") == "rtl"
    assert horizontal_overflow(page) <= 0, url
    assert axe_violations(page) == [], url
