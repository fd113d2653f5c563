"""Questions through the API: asking, anonymity, every moderation transition, votes and merges."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from majlis.audit.models import AuditEntry
from majlis.db import unit_of_work
from majlis.enums import RegistrationStatus, Role, SessionStatus
from majlis.questions.models import Question, Vote
from majlis.registration.models import Registration
from tests import factories
from tests.conftest import form_post

NOW = datetime.now(UTC)


@pytest.fixture
def live_session(db):
    with unit_of_work(db):
        return factories.majlis_session(db, starts_at=NOW - timedelta(minutes=10),
                                        registration_opens_at=NOW - timedelta(days=5),
                                        registration_closes_at=NOW - timedelta(hours=1))


@pytest.fixture
def people(db, live_session, make_user, api_token):
    """Three registrants, a stranger and a moderator, each with a bearer header."""
    def registrant(**overrides):
        with unit_of_work(db):
            user = factories.user(db, **overrides)
            db.add(Registration(session_id=live_session.id, user_id=user.id, status=RegistrationStatus.CONFIRMED,
                                queued_at=NOW, created_at=NOW, updated_at=NOW))
        return user, api_token(user)

    result = {name: registrant(name=name) for name in ("fatima", "ali", "zainab")}
    stranger = make_user(name="stranger")
    moderator = make_user(role=Role.MODERATOR, name="office")
    result["stranger"] = (stranger, api_token(stranger))
    result["moderator"] = (moderator, api_token(moderator))
    return result


def ask(client, session_id, headers, body="متى سيتم إصلاح الطريق؟", **extra):
    return client.post(f"/api/v1/sessions/{session_id}/questions", json={"body": body, **extra}, headers=headers)


def moderate(client, question_id, headers, action, **extra):
    return client.post(f"/api/v1/questions/{question_id}/moderation", json={"action": action, **extra},
                       headers=headers)


def listing(client, session_id, headers):
    return client.get(f"/api/v1/sessions/{session_id}/questions", headers=headers).get_json()["questions"]


def count(db, model):
    db.rollback()
    return db.scalar(select(func.count()).select_from(model))


def test_a_registrant_asks_and_it_waits_for_moderation(client, live_session, people):
    response = ask(client, live_session.id, people["fatima"][1])
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "pending" and body["votes"] == 0 and body["author"]["name"] == "fatima"
    assert listing(client, live_session.id, people["ali"][1]) == []  # the public sees nothing yet
    assert [q["id"] for q in listing(client, live_session.id, people["moderator"][1])] == [body["id"]]
    assert [q["id"] for q in listing(client, live_session.id, people["fatima"][1])] == [body["id"]]  # her own


@pytest.mark.parametrize("body", ["", "  ", "ab", "x" * 1001, " " * 10 + "ab" + " " * 10, None, 42])
def test_bad_question_text_is_400_and_nothing_is_stored(client, db, live_session, people, body):
    response = ask(client, live_session.id, people["fatima"][1], body=body)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "body"
    assert count(db, Question) == 0


def test_a_thousand_characters_is_fine(client, live_session, people):
    assert ask(client, live_session.id, people["fatima"][1], body="س" * 1000).status_code == 201


def test_strangers_cannot_ask(client, db, live_session, people):
    response = ask(client, live_session.id, people["stranger"][1])
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "not_registered"
    assert count(db, Question) == 0


@pytest.mark.parametrize("change, code", [
    ({"status": SessionStatus.CANCELLED}, "session_cancelled"),
    ({"ends_at": NOW - timedelta(minutes=1), "starts_at": NOW - timedelta(hours=2)}, "questions_closed"),
    ({"registration_opens_at": NOW + timedelta(hours=1)}, "questions_closed"),
])
def test_asking_outside_the_window_is_409(client, db, live_session, people, change, code):
    with unit_of_work(db):
        row = db.get(type(live_session), live_session.id)
        for key, value in change.items():
            setattr(row, key, value)
    response = ask(client, live_session.id, people["fatima"][1])
    assert response.status_code == 409 and response.get_json()["error"]["code"] == code
    assert count(db, Question) == 0


def test_anonymity_hides_the_author_from_everyone_but_moderators_and_the_author(client, live_session, people):
    question = ask(client, live_session.id, people["fatima"][1], anonymous=True).get_json()
    moderate(client, question["id"], people["moderator"][1], "approve")
    assert listing(client, live_session.id, people["ali"][1])[0]["author"] is None
    assert listing(client, live_session.id, people["moderator"][1])[0]["author"]["name"] == "fatima"
    assert listing(client, live_session.id, people["fatima"][1])[0]["author"]["name"] == "fatima"
    page = client.get(f"/sessions/{live_session.id}/questions").get_data(as_text=True)  # anonymous visitor
    assert "fatima" not in page


def test_the_whole_life_of_a_question_is_audited(client, db, live_session, people):
    mod = people["moderator"][1]
    qid = ask(client, live_session.id, people["fatima"][1]).get_json()["id"]
    assert moderate(client, qid, mod, "approve").get_json()["status"] == "approved"
    assert moderate(client, qid, mod, "on_air").get_json()["status"] == "on_air"
    answered = moderate(client, qid, mod, "answered", note="ستبدأ الأعمال الشهر القادم").get_json()
    assert answered["status"] == "answered" and answered["answer_note"] == "ستبدأ الأعمال الشهر القادم"
    db.rollback()
    trail = db.execute(select(AuditEntry.from_state, AuditEntry.to_state, AuditEntry.actor_id)
                       .where(AuditEntry.object_type == "question").order_by(AuditEntry.id)).all()
    moderator_id = people["moderator"][0].id
    assert trail == [("pending", "approved", moderator_id), ("approved", "on_air", moderator_id),
                     ("on_air", "answered", moderator_id)]


@pytest.mark.parametrize("path, action", [
    ([], "on_air"), ([], "answered"), (["approve"], "approve"), (["reject"], "approve"),
    (["approve", "on_air", "answered"], "on_air"), (["approve", "on_air", "answered"], "reject"),
])
def test_illegal_transitions_are_409_and_change_nothing(client, db, live_session, people, path, action):
    mod = people["moderator"][1]
    qid = ask(client, live_session.id, people["fatima"][1]).get_json()["id"]
    for step in path:
        moderate(client, qid, mod, step, note="سبب")
    db.rollback()
    before = db.get(Question, qid).status
    response = moderate(client, qid, mod, action, note="سبب")
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "illegal_transition"
    db.expire_all()
    assert db.get(Question, qid).status == before


def test_only_one_question_on_air(client, live_session, people):
    mod = people["moderator"][1]
    first = ask(client, live_session.id, people["fatima"][1]).get_json()["id"]
    second = ask(client, live_session.id, people["ali"][1], body="سؤال آخر عن الإسكان").get_json()["id"]
    for qid in (first, second):
        moderate(client, qid, mod, "approve")
    moderate(client, first, mod, "on_air")
    response = moderate(client, second, mod, "on_air")
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "another_on_air"


def test_rejection_needs_a_reason_seen_only_by_the_author(client, live_session, people):
    mod = people["moderator"][1]
    qid = ask(client, live_session.id, people["fatima"][1]).get_json()["id"]
    missing = moderate(client, qid, mod, "reject")
    assert missing.status_code == 400 and missing.get_json()["error"]["field"] == "note"
    moderate(client, qid, mod, "reject", note="خارج اختصاص المجلس")
    own = listing(client, live_session.id, people["fatima"][1])
    assert own[0]["status"] == "rejected" and own[0]["reject_reason"] == "خارج اختصاص المجلس"
    assert listing(client, live_session.id, people["ali"][1]) == []


def test_residents_cannot_moderate(client, db, live_session, people):
    qid = ask(client, live_session.id, people["fatima"][1]).get_json()["id"]
    response = moderate(client, qid, people["ali"][1], "approve")
    assert response.status_code == 403
    db.expire_all()
    assert db.get(Question, qid).status.value == "pending"


def test_unknown_action_is_400(client, live_session, people):
    qid = ask(client, live_session.id, people["fatima"][1]).get_json()["id"]
    response = moderate(client, qid, people["moderator"][1], "promote")
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "action"


def test_votes_count_once_and_order_the_list(client, live_session, people):
    mod = people["moderator"][1]
    older = ask(client, live_session.id, people["fatima"][1], body="السؤال الأول عن الطرق").get_json()["id"]
    newer = ask(client, live_session.id, people["ali"][1], body="السؤال الثاني عن المدارس").get_json()["id"]
    for qid in (older, newer):
        moderate(client, qid, mod, "approve")
    assert [q["id"] for q in listing(client, live_session.id, people["zainab"][1])] == [older, newer]  # by age
    for _ in range(3):
        assert client.post(f"/api/v1/questions/{newer}/vote", headers=people["zainab"][1]).get_json() == {"votes": 1}
    assert [q["id"] for q in listing(client, live_session.id, people["zainab"][1])] == [newer, older]  # by votes
    assert client.delete(f"/api/v1/questions/{newer}/vote", headers=people["zainab"][1]).get_json() == {"votes": 0}
    assert client.delete(f"/api/v1/questions/{newer}/vote", headers=people["zainab"][1]).get_json() == {"votes": 0}


def test_concurrent_votes_by_one_resident_count_once(app, db, live_session, people):
    mod = people["moderator"][1]
    client = app.test_client()
    qid = ask(client, live_session.id, people["fatima"][1]).get_json()["id"]
    moderate(client, qid, mod, "approve")
    headers = people["ali"][1]
    barrier = threading.Barrier(8)
    statuses = []

    def click():
        local = app.test_client()
        barrier.wait()
        statuses.append(local.post(f"/api/v1/questions/{qid}/vote", headers=headers).status_code)

    threads = [threading.Thread(target=click) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 8
    db.expire_all()
    assert db.get(Question, qid).votes_count == 1
    assert count(db, Vote) == 1


def test_votes_only_on_approved_questions_and_not_by_moderators(client, live_session, people):
    qid = ask(client, live_session.id, people["fatima"][1]).get_json()["id"]
    pending_vote = client.post(f"/api/v1/questions/{qid}/vote", headers=people["ali"][1])
    assert pending_vote.status_code == 409 and pending_vote.get_json()["error"]["code"] == "not_votable"
    moderate(client, qid, people["moderator"][1], "approve")
    assert client.post(f"/api/v1/questions/{qid}/vote", headers=people["moderator"][1]).status_code == 403


def test_a_merge_unites_the_voters_without_double_counting(client, db, live_session, people):
    mod = people["moderator"][1]
    target = ask(client, live_session.id, people["fatima"][1], body="متى يصلح الطريق المؤدي إلى مدرسة سترة").get_json()
    duplicate = ask(client, live_session.id, people["ali"][1], body="متى سيتم اصلاح طريق مدرسه سترة").get_json()
    for q in (target, duplicate):
        moderate(client, q["id"], mod, "approve")
    # zainab votes for both; ali for the duplicate, fatima for the target
    for qid, who in ((target["id"], "zainab"), (duplicate["id"], "zainab"), (duplicate["id"], "ali"),
                     (target["id"], "fatima")):
        client.post(f"/api/v1/questions/{qid}/vote", headers=people[who][1])
    merged = moderate(client, duplicate["id"], mod, "merge", into=target["id"])
    assert merged.status_code == 200 and merged.get_json()["status"] == "merged"
    assert merged.get_json()["merged_into"] == target["id"]
    db.expire_all()
    assert db.get(Question, target["id"]).votes_count == 3  # fatima, zainab, ali: zainab once
    assert db.get(Question, duplicate["id"]).votes_count == 0
    assert count(db, Vote) == 3


@pytest.mark.parametrize("into", [None, "abc", 999999])
def test_a_merge_needs_another_question_of_the_session(client, live_session, people, into):
    qid = ask(client, live_session.id, people["fatima"][1]).get_json()["id"]
    response = moderate(client, qid, people["moderator"][1], "merge", into=into if into != "self" else qid)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "into"


def test_authors_edit_or_withdraw_while_pending(client, live_session, people):
    qid = ask(client, live_session.id, people["fatima"][1]).get_json()["id"]
    edited = client.patch(f"/api/v1/questions/{qid}", json={"body": "نص معدل للسؤال"}, headers=people["fatima"][1])
    assert edited.status_code == 200 and edited.get_json()["body"] == "نص معدل للسؤال"
    assert client.patch(f"/api/v1/questions/{qid}", json={"body": "ليس سؤالي"},
                        headers=people["ali"][1]).status_code == 404
    assert client.delete(f"/api/v1/questions/{qid}", headers=people["fatima"][1]).status_code == 204
    again = client.patch(f"/api/v1/questions/{qid}", json={"body": "بعد السحب"}, headers=people["fatima"][1])
    assert again.status_code == 409


def test_question_text_is_escaped_on_every_page(client, live_session, people, make_user, login_as):
    mod = people["moderator"][1]
    nasty = '<script>alert("x")</script> & <b>bold</b>'
    qid = ask(client, live_session.id, people["fatima"][1], body=nasty).get_json()["id"]
    login_as(people["moderator"][0])
    console = client.get(f"/sessions/{live_session.id}/moderate").get_data(as_text=True)
    assert nasty not in console and "&lt;script&gt;alert(" in console
    moderate(client, qid, mod, "approve")
    page = client.get(f"/sessions/{live_session.id}").get_data(as_text=True)
    assert nasty not in page and "&lt;script&gt;" in page


def test_asking_is_rate_limited_per_user(client, live_session, people):
    statuses = [ask(client, live_session.id, people["fatima"][1], body=f"سؤال رقم {i} عن الخدمات").status_code
                for i in range(11)]
    assert statuses[:10] == [201] * 10 and statuses[10] == 429
    assert ask(client, live_session.id, people["ali"][1]).status_code == 201  # another resident is not affected


def test_console_is_for_moderators(client, live_session, people, login_as):
    login_as(people["fatima"][0])
    assert client.get(f"/sessions/{live_session.id}/moderate").status_code == 403


def test_console_forms_moderate_with_duplicate_hints(client, db, live_session, people, login_as):
    first = ask(client, live_session.id, people["fatima"][1], body="متى يصلح الطريق المؤدي إلى مدرسة سترة").get_json()
    ask(client, live_session.id, people["ali"][1], body="متى سيتم اصلاح طريق مدرسه سترة")
    login_as(people["moderator"][0])
    console = client.get(f"/sessions/{live_session.id}/moderate?lang=en").get_data(as_text=True)
    assert "Looks like:" in console and "Merge into this one" in console
    page = f"/sessions/{live_session.id}/moderate"
    assert form_post(client, f"/questions/{first['id']}/moderate", {"action": "approve"}, page=page).status_code == 302
    db.expire_all()
    assert db.get(Question, first["id"]).status.value == "approved"


def test_the_console_merges_into_any_chosen_question(client, db, live_session, people, login_as):
    """No duplicate hint links these two: the moderator chooses the target by hand."""
    road = ask(client, live_session.id, people["fatima"][1], body="متى يصلح الطريق المؤدي إلى مدرسة سترة").get_json()
    park = ask(client, live_session.id, people["ali"][1], body="هل ستفتح حديقة جديدة في الحورة").get_json()
    login_as(people["moderator"][0])
    page = f"/sessions/{live_session.id}/moderate"
    console = client.get(page + "?lang=en").get_data(as_text=True)
    assert "Merge into this one" not in console  # no hint
    assert f'id="merge-{road["id"]}"' in console and f'<option value="{park["id"]}">' in console
    form_post(client, f"/questions/{road['id']}/moderate", {"action": "merge", "into": str(park["id"])}, page=page)
    db.expire_all()
    assert db.get(Question, road["id"]).status.value == "merged"
    assert db.get(Question, road["id"]).merged_into_id == park["id"]
    assert f"Question {road['id']} is merged into question {park['id']}." in client.get(page).get_data(as_text=True)


def test_an_approved_question_is_withdrawn_with_a_reason(client, db, live_session, people, login_as):
    question = ask(client, live_session.id, people["fatima"][1]).get_json()
    moderate(client, question["id"], people["moderator"][1], "approve")
    login_as(people["moderator"][0])
    page = f"/sessions/{live_session.id}/moderate"
    console = client.get(page + "?lang=en").get_data(as_text=True)
    assert f'id="withdraw-{question["id"]}"' in console and "Withdraw from the list" in console
    form_post(client, f"/questions/{question['id']}/moderate", {"action": "reject", "note": "خارج موضوع الجلسة"},
              page=page)
    assert "is withdrawn from the public list" in client.get(page).get_data(as_text=True)
    assert listing(client, live_session.id, people["ali"][1]) == []  # off the public list
    [own] = listing(client, live_session.id, people["fatima"][1])
    assert own["status"] == "rejected" and own["reject_reason"] == "خارج موضوع الجلسة"


def test_session_page_ask_form_and_vote_button(client, db, live_session, people, login_as):
    login_as(people["fatima"][0])
    page = f"/sessions/{live_session.id}"
    response = form_post(client, f"/sessions/{live_session.id}/ask", {"body": "سؤال من الصفحة"}, page=page)
    assert response.status_code == 302
    db.rollback()
    question = db.scalar(select(Question))
    assert question.body == "سؤال من الصفحة" and question.status.value == "pending"
