"""The presenter ("big screen") view, and the public list's order (most votes or newest first), through HTTP."""

from datetime import UTC, datetime, timedelta

import pytest

from majlis.db import unit_of_work
from majlis.enums import QuestionStatus, Role
from majlis.questions.models import Question
from tests import factories
from tests.conftest import form_post

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def hall(db):
    """A running session with questions in every state that matters to the big screen."""
    with unit_of_work(db):
        majlis_session = factories.majlis_session(db, starts_at=NOW - timedelta(minutes=10),
                                                  title_en="Roads of the north", title_ar="طرق الشمال")
        asker = factories.user(db, name="Fatima Hassan")
        shy = factories.user(db, name="Hidden Person")

        def question(body, status, votes, minutes_ago, author=asker, **extra):
            row = Question(session_id=majlis_session.id, author_id=author.id, body=body, status=status,
                           votes_count=votes, created_at=NOW - timedelta(minutes=minutes_ago),
                           updated_at=NOW, **extra)
            db.add(row)
            return row

        rows = {
            "old_popular": question("Old and popular question", QuestionStatus.APPROVED, 9, 50),
            "new_quiet": question("New and quiet question", QuestionStatus.APPROVED, 1, 1, author=shy,
                                  is_anonymous=True),
            "middle": question("Middle question", QuestionStatus.APPROVED, 4, 20),
            "pending": question("Pending secret question", QuestionStatus.PENDING, 0, 5),
            "answered": question("Already answered question", QuestionStatus.ANSWERED, 20, 60),
        }
        db.flush()
    return majlis_session, {name: row.id for name, row in rows.items()}


def positions(html: str, *texts: str) -> list[int]:
    found = [html.find(text) for text in texts]
    assert all(place >= 0 for place in found), (texts, found)
    return found


@pytest.mark.parametrize(("role", "status"), [(Role.RESIDENT, 403), (Role.OFFICIAL, 403)])
def test_presenter_view_refused_to_residents_and_officials(client, make_user, login_as, hall, role, status):
    majlis_session, _ = hall
    login_as(make_user(role=role))
    for url in (f"/sessions/{majlis_session.id}/present", f"/sessions/{majlis_session.id}/present/board"):
        assert client.get(url).status_code == status
        # The same refusal as the moderators' console.
        assert client.get(f"/sessions/{majlis_session.id}/moderate").status_code == status


def test_presenter_view_refused_to_anonymous_like_the_console(client, hall):
    majlis_session, _ = hall
    console = client.get(f"/sessions/{majlis_session.id}/moderate")
    present = client.get(f"/sessions/{majlis_session.id}/present")
    assert present.status_code == console.status_code == 401


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.STAFF])
def test_presenter_view_shows_top_approved_questions_by_votes(client, make_user, login_as, hall, role):
    majlis_session, _ = hall
    login_as(make_user(role=role))
    html = client.get(f"/sessions/{majlis_session.id}/present?lang=en").get_data(as_text=True)
    assert "Roads of the north" in html
    assert "No question is on air yet." in html
    first, second, third = positions(html, "Old and popular question", "Middle question", "New and quiet question")
    assert first < second < third
    assert "Fatima Hassan" in html
    # An anonymous asker stays anonymous on the big screen, even though moderators know the name.
    assert "Hidden Person" not in html
    assert "Pending secret question" not in html
    assert "Already answered question" not in html
    assert f'data-live-events="/sessions/{majlis_session.id}/events"' in html
    assert f'data-live-fragment="/sessions/{majlis_session.id}/present/board"' in html


def test_presenter_board_follows_the_question_put_on_air(client, make_user, login_as, hall):
    majlis_session, ids = hall
    login_as(make_user(role=Role.MODERATOR))
    board_url = f"/sessions/{majlis_session.id}/present/board?lang=en"
    before = client.get(board_url).get_data(as_text=True)
    assert "No question is on air yet." in before

    response = form_post(client, f"/questions/{ids['middle']}/moderate", {"action": "on_air"},
                         page=f"/sessions/{majlis_session.id}/moderate")
    assert response.status_code == 302

    after = client.get(board_url).get_data(as_text=True)
    assert "No question is on air yet." not in after
    on_air, top = after.split('id="top-heading"')
    assert "Middle question" in on_air and "Fatima Hassan" in on_air
    assert "Middle question" not in top and "Old and popular question" in top


def test_console_links_to_the_presenter_view(client, make_user, login_as, hall):
    majlis_session, _ = hall
    login_as(make_user(role=Role.MODERATOR))
    html = client.get(f"/sessions/{majlis_session.id}/moderate").get_data(as_text=True)
    assert f'href="/sessions/{majlis_session.id}/present"' in html


def test_presenter_view_is_right_to_left_in_arabic(client, make_user, login_as, hall):
    majlis_session, _ = hall
    login_as(make_user(role=Role.MODERATOR))
    html = client.get(f"/sessions/{majlis_session.id}/present?lang=ar").get_data(as_text=True)
    assert 'dir="rtl"' in html and "طرق الشمال" in html


def test_public_list_is_most_voted_first_by_default(client, hall):
    majlis_session, _ = hall
    html = client.get(f"/sessions/{majlis_session.id}?lang=en").get_data(as_text=True)
    answered, popular, middle, quiet = positions(html, "Already answered question", "Old and popular question",
                                                 "Middle question", "New and quiet question")
    assert answered < popular < middle < quiet
    assert 'aria-current="true">Most votes first' in html


def test_public_list_sorted_newest_first_on_request(client, hall):
    majlis_session, _ = hall
    # The most-voted order is built (and cached) first: the newest-first list must not be served from it.
    client.get(f"/sessions/{majlis_session.id}/questions?lang=en")
    fragment = client.get(f"/sessions/{majlis_session.id}/questions?sort=recent&lang=en").get_data(as_text=True)
    quiet, middle, popular, answered = positions(fragment, "New and quiet question", "Middle question",
                                                 "Old and popular question", "Already answered question")
    assert quiet < middle < popular < answered

    page = client.get(f"/sessions/{majlis_session.id}?sort=recent&lang=en").get_data(as_text=True)
    quiet, answered = positions(page, "New and quiet question", "Already answered question")
    assert quiet < answered
    assert 'aria-current="true">Newest first' in page
    # The live refresh asks for the same order.
    assert f'data-live-fragment="/sessions/{majlis_session.id}/questions?sort=recent"' in page


def test_unknown_sort_is_most_voted_first(client, hall):
    majlis_session, _ = hall
    html = client.get(f"/sessions/{majlis_session.id}/questions?sort=nonsense").get_data(as_text=True)
    popular, quiet = positions(html, "Old and popular question", "New and quiet question")
    assert popular < quiet


def test_signed_in_reader_sorts_too(client, make_user, login_as, hall):
    majlis_session, _ = hall
    login_as(make_user())
    html = client.get(f"/sessions/{majlis_session.id}/questions?sort=recent").get_data(as_text=True)
    quiet, popular = positions(html, "New and quiet question", "Old and popular question")
    assert quiet < popular
