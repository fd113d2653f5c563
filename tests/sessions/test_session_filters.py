"""Narrowing the public list of upcoming sessions to an area (the place's) and a kind."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from majlis.db import unit_of_work
from majlis.enums import SeriesKind, SessionFormat, Visibility
from tests import factories

NOW = datetime.now(UTC)


def session_links(html: str) -> set[int]:
    return {int(n) for n in re.findall(r'href="/sessions/(\d+)"', html)}


@pytest.fixture
def listed(db):
    """A weekly majlis online, a field visit in Juffair, a weekly majlis held in Seef, an invited one in Juffair."""
    with unit_of_work(db):
        juffair = factories.area(db, code="juffair", name_en="Juffair", name_ar="الجفير")
        seef = factories.area(db, code="seef", name_en="Seef", name_ar="السيف")
        place = {"format": SessionFormat.HYBRID, "in_person_capacity": 20, "place_name_ar": "قاعة",
                 "place_name_en": "Hall"}
        rows = {
            "online": factories.majlis_session(db, starts_at=NOW + timedelta(days=1)),
            "visit": factories.majlis_session(db, starts_at=NOW + timedelta(days=2), kind=SeriesKind.FIELD_VISIT,
                                              title_en="Visit to Juffair", place_area_id=juffair.id, **place),
            "in_seef": factories.majlis_session(db, starts_at=NOW + timedelta(days=3), place_area_id=seef.id,
                                                **place),
            "invited": factories.majlis_session(db, starts_at=NOW + timedelta(days=4), place_area_id=juffair.id,
                                                kind=SeriesKind.COORDINATING, visibility=Visibility.INVITED,
                                                **place),
        }
    return {"juffair": juffair.id, "seef": seef.id, **{name: row.id for name, row in rows.items()}}


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_data(as_text=True)


def test_the_area_filter_narrows_the_list_and_the_page_shows_the_choice(client, listed):
    assert session_links(page(client, "/?lang=en")) == {listed["online"], listed["visit"], listed["in_seef"]}
    html = page(client, f"/?area={listed['juffair']}")
    assert session_links(html) == {listed["visit"]}  # the invitation-only one stays hidden from the public
    assert f'<option value="{listed["juffair"]}" selected>Juffair</option>' in html
    assert "1 result" in html and '<a href="/">Clear filters</a>' in html


def test_the_kind_filter_and_both_together(client, listed):
    client.get("/?lang=en")
    assert session_links(page(client, "/?kind=weekly")) == {listed["online"], listed["in_seef"]}
    assert session_links(page(client, "/?kind=field_visit")) == {listed["visit"]}
    html = page(client, f"/?kind=weekly&area={listed['seef']}")
    assert session_links(html) == {listed["in_seef"]}
    assert '<option value="weekly" selected>Weekly majlis</option>' in html
    html = page(client, f"/?kind=field_visit&area={listed['seef']}")
    assert session_links(html) == set() and "No upcoming session matches these filters." in html


def test_staff_see_invited_sessions_through_the_same_filter(client, listed, make_user, login_as):
    from majlis.enums import Role

    login_as(make_user(role=Role.STAFF))
    assert session_links(page(client, f"/?area={listed['juffair']}")) == {listed["visit"], listed["invited"]}
    assert session_links(page(client, "/?kind=coordinating")) == {listed["invited"]}


@pytest.mark.parametrize("query, reason", [
    ("area=999999", "Choose an area from the list."),
    ("area=-1", "Choose an area from the list."),
    ("kind=monthly", "Choose a kind of session from the list."),
])
def test_a_bad_filter_is_a_400_with_the_reason(client, listed, query, reason):
    client.get("/?lang=en")
    response = client.get(f"/?{query}")
    assert response.status_code == 400 and reason in response.get_data(as_text=True)


def test_filtered_and_unfiltered_answers_never_mix(client, listed):
    """Whatever is cached for the list, each address gets its own answer, in any order, again and again."""
    client.get("/?lang=en")
    whole = {listed["online"], listed["visit"], listed["in_seef"]}
    for _ in range(2):
        assert session_links(page(client, "/")) == whole
        assert session_links(page(client, f"/?area={listed['seef']}")) == {listed["in_seef"]}
        assert session_links(page(client, "/?kind=field_visit")) == {listed["visit"]}
        assert session_links(page(client, "/")) == whole


def test_a_refused_api_filter_is_refused_every_time(client, listed):
    """The list's answers are kept per filter; a filter refused once is never kept, so it is refused again, and a
    kept answer of one filter is never the answer to another (the ETags differ too)."""
    answers = {}
    for query in ("", f"?area={listed['juffair']}", "?kind=weekly", f"?area={listed['seef']}&kind=weekly"):
        first, again = client.get(f"/api/v1/sessions{query}"), client.get(f"/api/v1/sessions{query}")
        assert first.status_code == again.status_code == 200 and first.get_data() == again.get_data()
        answers[query] = (first.headers["ETag"], first.get_data())
    assert len({etag for etag, _ in answers.values()}) == len({body for _, body in answers.values()}) == 4
    for query, field in (("?area=999999", "area"), ("?area=seef", "area"), ("?kind=party", "kind")):
        for _ in range(2):
            refused = client.get(f"/api/v1/sessions{query}")
            assert refused.status_code == 400 and refused.get_json()["error"]["field"] == field


def test_the_api_list_takes_the_same_filters(client, listed):
    def ids(query: str) -> set[int]:
        response = client.get(f"/api/v1/sessions{query}")
        assert response.status_code == 200, response.get_json()
        return {row["id"] for row in response.get_json()["sessions"]}

    assert ids("") == {listed["online"], listed["visit"], listed["in_seef"]}
    assert ids(f"?area={listed['juffair']}") == {listed["visit"]}
    assert ids("?kind=weekly") == {listed["online"], listed["in_seef"]}
    assert ids(f"?kind=weekly&area={listed['seef']}") == {listed["in_seef"]}
    # Filtered and unfiltered answers are cached apart.
    assert ids("") == {listed["online"], listed["visit"], listed["in_seef"]}
    refused = client.get("/api/v1/sessions?kind=party", headers={"Accept-Language": "en"})
    assert refused.status_code == 400
    assert refused.get_json()["error"] == {"code": "invalid_input", "field": "kind",
                                           "message": "Choose a kind of session from the list."}
