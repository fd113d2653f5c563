"""Narrowing the case list and the accountability figures to an area and a category (and open or closed)."""

import re

import pytest

from tests.followups.conftest import phone_case


def case_links(html: str) -> set[int]:
    return {int(n) for n in re.findall(r'href="/cases/(\d+)"', html)}


@pytest.fixture
def cases(client, office):
    """Three cases: street lighting in Juffair, roads in Juffair, street lighting in Seef."""
    made = {}
    for name, category, area in (("lighting-juffair", "street-lighting", "juffair"),
                                 ("roads-juffair", "roads", "juffair"), ("lighting-seef", "street-lighting", "seef")):
        response = phone_case(client, office, category=category, area_id=office[area].id)
        assert response.status_code == 201, response.get_json()
        made[name] = response.get_json()["id"]
    return made


@pytest.fixture
def moderator(client, office, login_as):
    login_as(office["people"]["moderator"])
    client.get("/?lang=en")
    return client


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_data(as_text=True)


def test_each_filter_narrows_the_case_list_and_the_page_shows_the_choice(moderator, office, cases):
    assert case_links(page(moderator, "/cases")) == set(cases.values())

    html = page(moderator, f"/cases?area={office['juffair'].id}")
    assert case_links(html) == {cases["lighting-juffair"], cases["roads-juffair"]}
    assert f'<option value="{office["juffair"].id}" selected>Juffair</option>' in html
    assert "2 results" in html and '<a href="/cases">Clear filters</a>' in html

    html = page(moderator, "/cases?category=street-lighting")
    assert case_links(html) == {cases["lighting-juffair"], cases["lighting-seef"]}
    assert '<option value="street-lighting" selected>' in html

    html = page(moderator, f"/cases?category=street-lighting&area={office['seef'].id}")
    assert case_links(html) == {cases["lighting-seef"]} and "1 result" in html

    html = page(moderator, f"/cases?category=public-health&area={office['seef'].id}")
    assert case_links(html) == set() and "0 results" in html and "No case matches these filters." in html


def test_the_unfiltered_case_list_has_the_form_but_no_result_line(moderator, cases):
    html = page(moderator, "/cases")
    assert '<form method="get" action="/cases"' in html and '<label for="filter-area">Area</label>' in html
    assert "Clear filters" not in html


def test_the_status_filter_is_kept_with_the_others(moderator, office, cases):
    assert case_links(page(moderator, "/cases?status=closed")) == set()
    html = page(moderator, f"/cases?status=open&area={office['seef'].id}")
    assert case_links(html) == {cases["lighting-seef"]} and '<option value="open" selected>' in html


def test_an_official_sees_only_their_bodys_cases_whatever_the_filter(client, office, cases, login_as):
    login_as(office["people"]["other_official"])  # health: none of the three cases
    assert case_links(page(client, f"/cases?area={office['juffair'].id}")) == set()


@pytest.mark.parametrize("query, reason", [
    ("area=999999", "Choose an area from the list."),
    ("area=juffair", "Choose an area from the list."),
    ("category=no-such", "Choose a category from the list."),
    ("status=pending", "Choose open or closed cases."),
])
def test_a_bad_filter_is_a_400_with_the_reason(moderator, cases, query, reason):
    response = moderator.get(f"/cases?{query}")
    assert response.status_code == 400 and reason in response.get_data(as_text=True)


def test_a_bad_filter_is_explained_in_arabic_too(moderator, cases):
    moderator.get("/?lang=ar")
    response = moderator.get("/cases?category=no-such")
    assert response.status_code == 400 and "اختر تصنيفًا من القائمة." in response.get_data(as_text=True)


def opened(html: str) -> int:
    return int(re.search(r"<dt>Opened</dt><dd>(\d+)</dd>", html)[1])


def test_the_accountability_figures_follow_the_area_and_category(client, office, cases):
    client.get("/?lang=en")
    assert opened(page(client, "/accountability")) == 3
    html = page(client, f"/accountability?area={office['juffair'].id}")
    assert opened(html) == 2 and "Clear filters" in html
    assert f'<option value="{office["juffair"].id}" selected>Juffair</option>' in html
    assert opened(page(client, "/accountability?category=roads")) == 1
    assert opened(page(client, f"/accountability?category=roads&area={office['seef'].id}")) == 0
    by_area = page(client, "/accountability?group_by=area&category=street-lighting")
    assert opened(by_area) == 2
    assert client.get("/accountability?area=0").status_code == 400


def test_the_api_narrows_cases_and_figures_by_area_and_category(client, office, cases):
    """The mobile app filters as the pages do: the same services, the same refusals."""
    staff = office["headers"]["staff"]

    def listed(query: str) -> set[int]:
        response = client.get(f"/api/v1/cases{query}", headers=staff)
        assert response.status_code == 200, response.get_json()
        return {case["id"] for case in response.get_json()["cases"]}

    assert listed("") == set(cases.values())
    assert listed(f"?area={office['juffair'].id}") == {cases["lighting-juffair"], cases["roads-juffair"]}
    assert listed(f"?area={office['juffair'].id}&category=street-lighting") == {cases["lighting-juffair"]}
    assert listed("?category=roads&status=closed") == set()
    refused = client.get("/api/v1/cases?category=nonsense", headers={**staff, "Accept-Language": "ar"})
    assert refused.status_code == 400
    assert refused.get_json()["error"]["field"] == "category"
    assert refused.get_json()["error"]["message"] == "اختر تصنيفًا من القائمة."

    def opened_api(query: str) -> int:
        response = client.get(f"/api/v1/accountability{query}")
        assert response.status_code == 200, response.get_json()
        return response.get_json()["totals"]["opened"]

    assert opened_api("") == 3
    assert opened_api(f"?area={office['juffair'].id}") == 2
    assert opened_api(f"?area={office['seef'].id}&category=roads") == 0
    assert client.get("/api/v1/accountability?area=0").get_json()["error"]["field"] == "area"
    # The page's "as JSON" link carries the filters chosen on the page.
    html = page(client, f"/accountability?area={office['juffair'].id}&category=roads")
    assert "/api/v1/accountability?from=" in html and f"area={office['juffair'].id}&amp;category=roads" in html
