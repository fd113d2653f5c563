"""A case raised by an anonymous question: the body sees "a resident" until the resident agrees to be contacted."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from majlis.db import unit_of_work
from majlis.enums import QuestionStatus, Role
from majlis.notifications.models import OutboxMessage
from majlis.questions.models import Question
from tests import factories
from tests.conftest import csrf_token_from
from tests.mailbox import Recorder, deliver

NOW = datetime.now(UTC)
NAME = "Maryam Al-Khalifa"
EMAIL = "maryam.asker@example.com"


@pytest.fixture
def world(db, make_user, make_body, api_token):
    works = make_body(code="works", sla_days=30)
    people = {
        "resident": make_user(name=NAME, email=EMAIL, phone="+97339990011", locale="en"),
        "other_resident": make_user(),
        "official": make_user(role=Role.OFFICIAL, body=works),
        "moderator": make_user(role=Role.MODERATOR),
    }
    with unit_of_work(db):
        majlis_session = factories.majlis_session(db, starts_at=NOW - timedelta(minutes=30))
        questions = {}
        for key, anonymous in (("anonymous", True), ("named", False)):
            questions[key] = Question(session_id=majlis_session.id, author_id=people["resident"].id,
                                      body=f"سؤال {key} عن الطريق", status=QuestionStatus.ANSWERED,
                                      is_anonymous=anonymous, created_at=NOW, updated_at=NOW)
            db.add(questions[key])
    headers = {name: {**api_token(user), "Accept-Language": "en"} for name, user in people.items()}
    return {"people": people, "headers": headers, "questions": questions, "works": works}


def open_case(client, world, which="anonymous") -> int:
    response = client.post(f"/api/v1/questions/{world['questions'][which].id}/case",
                           json={"body_id": world["works"].id}, headers=world["headers"]["moderator"])
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def browser(app, user):
    """A client signed in as the user through the login form."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD,
                                           "csrf_token": csrf_token_from(page)})
    assert response.status_code == 302
    client.get("/?lang=en")  # remembered for the session: the texts below are the English ones
    return client


def what_the_official_sees(app, client, world, case_id) -> str:
    """Everything an official reads of the case: its page, its list, the API's case and list, in one text."""
    official = browser(app, world["people"]["official"])
    headers = world["headers"]["official"]
    parts = [official.get(f"/cases/{case_id}").get_data(as_text=True),
             official.get("/cases").get_data(as_text=True),
             client.get(f"/api/v1/cases/{case_id}", headers=headers).get_data(as_text=True),
             client.get("/api/v1/cases", headers=headers).get_data(as_text=True)]
    return "\n".join(parts)


def consent(client, world, case_id, who="resident", agree=True):
    return client.post(f"/api/v1/cases/{case_id}/contact-consent", json={"agree": agree},
                       headers=world["headers"][who])


def test_the_body_sees_a_resident_until_they_agree(app, client, db, world):
    case_id = open_case(client, world)
    # The resident confirms nothing yet but writes a comment: their update is theirs, not signed with their name.
    official_api = client.get(f"/api/v1/cases/{case_id}", headers=world["headers"]["official"]).get_json()
    assert official_api["resident_id"] is None and official_api["contact"] is None
    assert official_api["anonymous"] is True and official_api["contact_consent"] == "pending"
    seen = what_the_official_sees(app, client, world, case_id)
    assert NAME not in seen and EMAIL not in seen and "39990011" not in seen
    assert "A resident" in seen

    answered = consent(client, world, case_id)
    assert answered.status_code == 200 and answered.get_json()["contact_consent"] == "agreed"
    official_api = client.get(f"/api/v1/cases/{case_id}", headers=world["headers"]["official"]).get_json()
    assert official_api["resident_id"] == world["people"]["resident"].id
    assert NAME in browser(app, world["people"]["official"]).get(f"/cases/{case_id}").get_data(as_text=True)

    # A change of mind hides the name again.
    assert consent(client, world, case_id, agree=False).get_json()["contact_consent"] == "declined"
    assert NAME not in what_the_official_sees(app, client, world, case_id)


def test_the_residents_own_updates_are_not_signed_for_the_body(app, client, db, world):
    case_id = open_case(client, world)
    assert client.post(f"/api/v1/cases/{case_id}/updates", json={"text": "الحفرة ما زالت هنا"},
                       headers=world["headers"]["resident"]).status_code == 200
    official_api = client.get(f"/api/v1/cases/{case_id}", headers=world["headers"]["official"]).get_json()
    assert [u["author"]["name"] for u in official_api["updates"]][-1] == "A resident"
    assert NAME not in what_the_official_sees(app, client, world, case_id)
    # The office still knows who asked (it relays), and the resident sees their own name.
    moderator_api = client.get(f"/api/v1/cases/{case_id}", headers=world["headers"]["moderator"]).get_json()
    assert moderator_api["resident_id"] == world["people"]["resident"].id
    assert moderator_api["updates"][-1]["author"]["name"] == NAME


def test_the_resident_is_asked_by_a_notice_and_on_the_case_page(app, client, db, world):
    case_id = open_case(client, world)
    db.rollback()
    kinds = db.scalars(select(OutboxMessage.kind).where(OutboxMessage.user_id == world["people"]["resident"].id)
                       .order_by(OutboxMessage.id)).all()
    assert kinds == ["case_opened", "case_contact_consent"]
    recorder = Recorder()
    deliver(app, db, now=datetime.now(UTC), senders={"email": recorder})
    to_resident = [m for to, m in recorder.sent if to == EMAIL]
    assert any("May the government body contact you?" in m.subject and f"/cases/{case_id}" in m.text
               for m in to_resident)
    # What went to the body's official names nobody.
    to_official = [m for to, m in recorder.sent if to == world["people"]["official"].email]
    assert to_official and all(NAME not in m.text and NAME not in m.subject for m in to_official)

    resident = browser(app, world["people"]["resident"])
    page = resident.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "May the government body contact you?" in page
    # Without the form's CSRF token nothing changes.
    resident.post(f"/cases/{case_id}/contact-consent", data={"agree": "yes"})
    assert client.get(f"/api/v1/cases/{case_id}", headers=world["headers"]["official"]).get_json()[
        "resident_id"] is None
    answered = resident.post(f"/cases/{case_id}/contact-consent",
                             data={"agree": "yes", "csrf_token": csrf_token_from(page)})
    assert answered.status_code == 302
    assert "You agreed" in resident.get(f"/cases/{case_id}").get_data(as_text=True)
    assert client.get(f"/api/v1/cases/{case_id}", headers=world["headers"]["official"]).get_json()[
        "resident_id"] == world["people"]["resident"].id


def test_a_named_questions_case_is_unchanged(app, client, db, world):
    case_id = open_case(client, world, "named")
    official_api = client.get(f"/api/v1/cases/{case_id}", headers=world["headers"]["official"]).get_json()
    assert official_api["resident_id"] == world["people"]["resident"].id
    assert official_api["anonymous"] is False and official_api["contact_consent"] is None
    assert NAME in browser(app, world["people"]["official"]).get(f"/cases/{case_id}").get_data(as_text=True)
    db.rollback()
    assert "case_contact_consent" not in db.scalars(select(OutboxMessage.kind)).all()
    refused = consent(client, world, case_id)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "consent_not_asked"


@pytest.mark.parametrize("who", ["other_resident", "official", "moderator"])
def test_only_the_resident_answers(client, world, who):
    case_id = open_case(client, world)
    refused = consent(client, world, case_id, who=who)
    # Another resident does not learn the case exists; the body and the office may not answer for the resident.
    assert refused.status_code == (404 if who == "other_resident" else 403)
    official_api = client.get(f"/api/v1/cases/{case_id}", headers=world["headers"]["official"]).get_json()
    assert official_api["resident_id"] is None and official_api["contact_consent"] == "pending"


@pytest.mark.parametrize("agree", ["yes", 1, None])
def test_the_answer_is_yes_or_no(client, world, agree):
    case_id = open_case(client, world)
    refused = consent(client, world, case_id, agree=agree)
    assert refused.status_code == 400 and refused.get_json()["error"]["field"] == "agree"
