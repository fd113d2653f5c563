"""The follow-up pages in Chromium, Arabic and English, 360 and 1280 px: the dashboard's SVG charts, the request
form, the triage queue, "was it fixed?", the case forms and open data; no serious or critical axe-core fault, no
sideways scrolling. Screenshots of the dashboard, the request form and the triage queue go to
/tmp/majlis-cases-*.png."""

import pytest

from tests.browser.conftest import CASES, axe_violations, horizontal_overflow, sign_in

pytestmark = pytest.mark.browser

PAGES = [
    (None, "/accountability"),
    (None, "/accountability?group_by=month"),
    (None, "/accountability?group_by=channel"),
    (None, "/open-data"),
    (None, "/cases/{resolved}/feedback?outcome=not_fixed&token={token}"),
    ("resident@demo.majlis", "/requests/new"),
    ("resident@demo.majlis", "/cases/{resolved}"),
    ("resident@demo.majlis", "/cases/{anonymous}"),
    ("official@demo.majlis", "/cases/{anonymous}"),
    ("moderator@demo.majlis", "/staff/requests"),
    ("moderator@demo.majlis", "/cases/new"),
    ("staff@demo.majlis", "/staff/categories"),
]
SHOTS = {"/accountability": "dashboard", "/requests/new": "request-form", "/staff/requests": "triage-queue",
         "/cases/{anonymous}": "anonymous-case"}


@pytest.mark.parametrize("lang", ["ar", "en"])
@pytest.mark.parametrize("width", [360, 1280])
@pytest.mark.parametrize("who, path", PAGES)
def test_page_fits_and_is_accessible(live_server, new_page, who, path, width, lang):
    page = new_page(width)
    if who:
        sign_in(page, live_server, who)
    url = live_server + path.format(**CASES)
    response = page.goto(url + ("&" if "?" in url else "?") + f"lang={lang}")
    assert response.status == 200, url
    assert page.get_attribute("html", "dir") == ("rtl" if lang == "ar" else "ltr")
    assert horizontal_overflow(page) <= 0, url
    assert axe_violations(page) == [], url
    if path in SHOTS:
        shot = SHOTS[path] + (f"-{who.split('@')[0]}" if path == "/cases/{anonymous}" else "")
        page.screenshot(path=f"/tmp/majlis-cases-{shot}-{lang}-{width}.png", full_page=True)  # noqa: S108


@pytest.mark.parametrize("lang", ["ar", "en"])
@pytest.mark.parametrize("width", [360, 1280])
def test_the_dashboard_charts_are_drawn_inside_their_frames(live_server, new_page, width, lang):
    page = new_page(width)
    page.goto(f"{live_server}/accountability?lang={lang}")
    charts = page.locator("svg.chart")
    assert charts.count() == 5
    boxes = page.evaluate("""() => [...document.querySelectorAll('svg.chart')].map(svg => {
        const frame = svg.getBoundingClientRect();
        const outside = [...svg.querySelectorAll('rect, text')].filter(shape => {
            const box = shape.getBoundingClientRect();
            return box.left < frame.left - 1 || box.right > frame.right + 1 || box.width < 0;
        }).map(shape => shape.outerHTML);
        return {bars: svg.querySelectorAll('rect').length, inside: outside.length === 0, outside,
                title: svg.querySelector('title').textContent};
    })""")
    assert [box for box in boxes if not box["inside"]] == []
    assert sum(box["bars"] for box in boxes) >= 10 and all(box["title"] for box in boxes)
    # Right to left, the bars grow from the right edge of their chart.
    first_bar = page.evaluate("""() => {
        const svg = document.querySelector('#chart-closed'), bar = svg.querySelector('rect');
        const frame = svg.getBoundingClientRect(), box = bar.getBoundingClientRect();
        return {fromLeft: box.left - frame.left, fromRight: frame.right - box.right};
    }""")
    if lang == "ar":
        assert abs(first_bar["fromRight"]) < 1.5, first_bar
    else:
        assert abs(first_bar["fromLeft"]) < 1.5, first_bar
    # Each chart is followed by the table of its figures.
    assert page.locator(".chart-section svg.chart + .table-scroll > table").count() == 5


def test_a_resident_sends_a_request_and_answers_not_fixed_from_the_link(live_server, new_page):
    page = new_page(360)
    sign_in(page, live_server, "resident@demo.majlis")
    page.goto(live_server + "/requests/new?lang=en")
    page.select_option("#category", "water-leak")
    page.fill("#description", "Water has been leaking from the main pipe on road 41 since this morning")
    page.locator("form.narrow-form button[type=submit]").click()
    page.wait_for_url(f"{live_server}/cases/*")
    assert "Waiting to be sent to a body" in page.content()
    visitor = new_page(360)
    visitor.goto(f"{live_server}/cases/{CASES['resolved']}/feedback?outcome=partly_fixed&token={CASES['token']}"
                 "&lang=en")
    assert visitor.locator("input[value=partly_fixed]").is_checked()
    visitor.locator("label.choice", has_text="4").click()
    visitor.locator(".feedback-form button[type=submit]").click()
    assert "was recorded" in visitor.content()
