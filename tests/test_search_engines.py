"""What search engines are told: public pages describe themselves, pages behind a sign-in are `noindex`."""

import re

import pytest

from majlis.enums import Role

NOINDEX = '<meta name="robots" content="noindex">'


def description_of(html: str) -> str:
    found = re.search(r'<meta name="description" content="([^"]+)">', html)
    assert found, "no meta description"
    return found.group(1)


@pytest.mark.parametrize("path", ["/?lang=en", "/archive?lang=ar", "/accountability?lang=en", "/login", "/signup"])
def test_public_pages_are_indexable_and_describe_themselves(client, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert NOINDEX not in html
    assert "majlis" in description_of(html).lower() or "المجلس" in description_of(html)


@pytest.mark.parametrize(("role", "path"), [(Role.RESIDENT, "/account"), (Role.STAFF, "/staff/"),
                                            (Role.STAFF, "/staff/calendar")])
def test_pages_behind_a_sign_in_are_noindex(client, make_user, login_as, role, path):
    login_as(make_user(role=role))
    response = client.get(path)
    assert response.status_code == 200
    assert NOINDEX in response.get_data(as_text=True)


def test_the_home_page_stays_indexable_for_a_signed_in_resident(client, make_user, login_as):
    login_as(make_user())
    assert NOINDEX not in client.get("/").get_data(as_text=True)
