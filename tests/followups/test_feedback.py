""""Was it fixed?": asked some days after the resolution by a notice with signed links; "not fixed" reopens."""

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from majlis.db import unit_of_work
from majlis.enums import CaseStatus, FeedbackOutcome, OutboxStatus
from majlis.followups.links import feedback_token
from majlis.followups.models import Case, CaseFeedback
from majlis.notifications.models import OutboxMessage
from scheduler.jobs import JOBS
from scheduler.runner import run_job
from tests.conftest import csrf_token_from, form_post
from tests.followups.conftest import phone_case, request_by_app, update
from tests.mailbox import Recorder, deliver

LINK_RE = re.compile(r"(http://127\.0\.0\.1:5000/cases/\d+/feedback\?outcome=(\w+)&token=[\w.\-]+)")


def ask(app, now: datetime) -> int:
    """The scheduler's "was it fixed?" job, alone (delivery is the test's to run)."""
    [job] = [job for job in JOBS if job.id == "request_case_feedback"]
    return run_job(app, job, now)


def resolved_request(client, office, *, text="تم استبدال المصباح") -> int:
    """A resident's request from the app, triaged, worked on and resolved by the body's official."""
    cid = request_by_app(client, office).get_json()["id"]
    assert client.post(f"/api/v1/cases/{cid}/triage", json={"category": "street-lighting"},
                       headers=office["headers"]["moderator"]).status_code == 200
    assert update(client, office, cid, "official", text="الفريق في الموقع", status="in_progress").status_code == 200
    assert update(client, office, cid, "official", text=text, status="resolved").status_code == 200
    return cid


def feedback_links(app, db, resident, now: datetime) -> dict[str, str]:
    """Deliver the outbox and return the links of the "was it fixed?" notice the resident got."""
    recorder = Recorder()
    deliver(app, db, now=now, senders={"email": recorder})
    [message] = [m for to, m in recorder.sent if to == resident.email and "/feedback?outcome=" in m.text]
    return {outcome: link for link, outcome in LINK_RE.findall(message.text)}


def test_not_fixed_reopens_and_fixed_confirms_through_the_signed_links(app, client, db, office):
    people, resident = office["people"], office["people"]["resident"]
    cid = resolved_request(client, office)
    later = datetime.now(UTC) + timedelta(days=3, hours=1)
    assert ask(app, datetime.now(UTC) + timedelta(days=2)) == 0  # not yet
    assert ask(app, later) == 1
    assert ask(app, later + timedelta(hours=2)) == 0  # once per resolution
    db.rollback()
    [asked] = db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "case_feedback")).all()
    assert (asked.user_id, asked.params, asked.dedupe_key) == (resident.id, {"case_id": cid, "round": 0},
                                                               f"case-feedback:{cid}:0")

    links = feedback_links(app, db, resident, later)
    assert set(links) == {"fixed", "partly_fixed", "not_fixed"}
    # The link opens a page with the answer chosen; nothing is recorded until it is sent (mail scanners follow
    # links), and it needs no sign-in.
    visitor = app.test_client()
    page = visitor.get(links["not_fixed"].replace("http://127.0.0.1:5000", "") + "&lang=en")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'value="not_fixed" checked' in html or 'checked type="radio" value="not_fixed"' in html \
        or re.search(r'<input[^>]*checked[^>]*value="not_fixed"', html), html
    db.rollback()
    assert db.scalar(select(CaseFeedback)) is None
    token = parse_qs(urlsplit(links["not_fixed"]).query)["token"][0]
    sent = visitor.post(f"/cases/{cid}/feedback?lang=en", data={
        "csrf_token": csrf_token_from(html), "token": token, "outcome": "not_fixed", "rating": "2",
        "comment": "المصباح يعمل ساعة ثم ينطفئ"})
    assert sent.status_code == 200 and "sent back to the government body" in sent.get_data(as_text=True)
    db.rollback()
    case = db.get(Case, cid)
    assert (case.status, case.reopened_count, case.resolved_at, case.feedback_requested_at) == (
        CaseStatus.IN_PROGRESS, 1, None, None)
    [answer] = db.scalars(select(CaseFeedback)).all()
    assert (answer.round, answer.outcome, answer.rating) == (0, FeedbackOutcome.NOT_FIXED, 2)
    reopened = db.scalars(select(OutboxMessage.user_id).where(OutboxMessage.kind == "case_reopened")).all()
    assert reopened == [people["official"].id]
    # The same link cannot answer twice, nor answer the next resolution.
    again = visitor.post(f"/cases/{cid}/feedback?lang=en", data={
        "csrf_token": csrf_token_from(html), "token": token, "outcome": "fixed"})
    assert again.status_code == 200 and "not waiting for your answer" in again.get_data(as_text=True)

    # Resolved again; asked again (a new round), answered "fixed" by the API this time.
    assert update(client, office, cid, "official", text="تم تغيير الكابل", status="resolved").status_code == 200
    second = datetime.now(UTC) + timedelta(days=3, hours=1)
    assert ask(app, second) == 1
    db.rollback()
    assert db.scalar(select(OutboxMessage.dedupe_key).where(OutboxMessage.kind == "case_feedback")
                     .order_by(OutboxMessage.id.desc())) == f"case-feedback:{cid}:1"
    answered = client.post(f"/api/v1/cases/{cid}/feedback", json={"outcome": "fixed", "rating": 5},
                           headers=office["headers"]["resident"])
    assert answered.status_code == 200, answered.get_json()
    body = answered.get_json()
    assert body["status"] == "confirmed" and body["feedback_open"] is False
    assert [(f["round"], f["outcome"], f["rating"]) for f in body["feedback"]] == [(0, "not_fixed", 2),
                                                                                  (1, "fixed", 5)]
    # The notice of the answered round is not sent any more.
    db.rollback()
    recorder = Recorder()
    deliver(app, db, now=second, senders={"email": recorder})
    assert not [m for to, m in recorder.sent if "feedback" in m.text]
    skipped = db.scalar(select(OutboxMessage.status).where(OutboxMessage.dedupe_key == f"case-feedback:{cid}:1"))
    assert skipped == OutboxStatus.SKIPPED


def test_partly_fixed_keeps_the_case_resolved(client, db, office):
    cid = resolved_request(client, office)
    response = client.post(f"/api/v1/cases/{cid}/feedback", json={"outcome": "partly_fixed"},
                           headers=office["headers"]["resident"])
    assert response.status_code == 200 and response.get_json()["status"] == "resolved"
    db.rollback()
    assert db.scalar(select(CaseFeedback.rating)) is None


@pytest.mark.parametrize("data, status, code", [
    ({"outcome": "maybe"}, 400, "invalid_input"),
    ({}, 400, "invalid_input"),
    ({"outcome": "fixed", "rating": 6}, 400, "invalid_input"),
    ({"outcome": "fixed", "rating": 0}, 400, "invalid_input"),
    ({"outcome": "fixed", "rating": True}, 400, "invalid_input"),
    ({"outcome": "fixed", "comment": "x" * 1001}, 400, "invalid_input"),
    ({"outcome": "fixed", "comment": 5}, 400, "invalid_input"),
])
def test_bad_feedback(client, office, data, status, code):
    cid = resolved_request(client, office)
    response = client.post(f"/api/v1/cases/{cid}/feedback", json=data, headers=office["headers"]["resident"])
    assert response.status_code == status and response.get_json()["error"]["code"] == code


def test_feedback_is_the_residents_once_per_resolution_and_within_30_days(client, db, office):
    cid = resolved_request(client, office)
    answer = {"outcome": "fixed"}
    post = lambda who: client.post(f"/api/v1/cases/{cid}/feedback", json=answer,  # noqa: E731
                                   headers=office["headers"][who])
    assert post("moderator").status_code == 403 and post("moderator").get_json()["error"]["code"] == "not_your_case"
    assert post("other_resident").status_code == 404
    with unit_of_work(db):
        db.get(Case, cid).resolved_at = datetime.now(UTC) - timedelta(days=31)
    late = post("resident")
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "feedback_closed"
    with unit_of_work(db):
        db.get(Case, cid).resolved_at = datetime.now(UTC) - timedelta(days=29)
    assert post("resident").status_code == 200
    again = post("resident")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "feedback_given"


def test_an_open_case_is_not_waiting_for_feedback(client, office):
    cid = request_by_app(client, office).get_json()["id"]
    response = client.post(f"/api/v1/cases/{cid}/feedback", json={"outcome": "fixed"},
                           headers=office["headers"]["resident"])
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "feedback_closed"


def test_forged_expired_and_foreign_links_are_refused(app, client, db, office):
    cid = resolved_request(client, office)
    other = phone_case(client, office).get_json()["id"]
    now = datetime.now(UTC)
    secret = app.config["SECRET_KEY"]
    resident = office["people"]["resident"].id
    cases = {
        "forged": feedback_token("not-the-secret", case_id=cid, round=0, resident_id=resident, now=now),
        "expired": feedback_token(secret, case_id=cid, round=0, resident_id=resident, now=now - timedelta(days=31)),
        "another case": feedback_token(secret, case_id=other, round=0, resident_id=resident, now=now),
        "another resident": feedback_token(secret, case_id=cid, round=0, resident_id=resident + 1, now=now),
        "garbage": "not-a-token",
    }
    for reason, token in cases.items():
        response = app.test_client().get(f"/cases/{cid}/feedback?outcome=fixed&token={token}")
        assert response.status_code == 404, reason
    good = feedback_token(secret, case_id=cid, round=0, resident_id=resident, now=now)
    assert app.test_client().get(f"/cases/{cid}/feedback?outcome=fixed&token={good}").status_code == 200
    assert app.test_client().get(f"/cases/{cid}/feedback").status_code == 404  # neither a link nor signed in


def test_the_resident_answers_on_the_case_page(client, db, office, login_as):
    cid = resolved_request(client, office, text="تم الإصلاح")
    login_as(office["people"]["resident"])
    page = client.get(f"/cases/{cid}?lang=en").get_data(as_text=True)
    assert "تم الإصلاح" in page and "Was it fixed?" in page and "Partly fixed" in page
    response = form_post(client, f"/cases/{cid}/feedback?lang=en", {"outcome": "fixed", "rating": "4"},
                         page=f"/cases/{cid}")
    assert response.status_code == 200 and "was recorded" in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(Case, cid).status == CaseStatus.CONFIRMED
    page = client.get(f"/cases/{cid}?lang=en").get_data(as_text=True)
    assert "Rating: 4 of 5" in page and 'name="outcome"' not in page


def test_no_feedback_is_asked_without_a_resident_or_after_a_decline(app, client, db, office):
    contact_only = phone_case(client, office).get_json()["id"]
    update(client, office, contact_only, "official", text="تم", status="resolved")
    declined = request_by_app(client, office).get_json()["id"]
    update(client, office, declined, "moderator", text="ليس من اختصاص المحافظة", status="declined")
    assert ask(app, datetime.now(UTC) + timedelta(days=4)) == 0


def test_the_delay_is_configurable(app, client, office):
    app.config["MAJLIS_FEEDBACK_DELAY_DAYS"] = 7
    resolved_request(client, office)
    assert ask(app, datetime.now(UTC) + timedelta(days=4)) == 0
    assert ask(app, datetime.now(UTC) + timedelta(days=7, hours=1)) == 1


def test_the_notice_is_in_the_residents_language(app, client, db, office):
    from majlis.auth.models import User

    with unit_of_work(db):
        db.get(User, office["people"]["resident"].id).locale = "en"
    cid = resolved_request(client, office)
    later = datetime.now(UTC) + timedelta(days=3, hours=1)
    ask(app, later)
    recorder = Recorder()
    deliver(app, db, now=later, senders={"email": recorder})
    [message] = [m for _, m in recorder.sent if m.subject == f"Was it fixed? Case number {cid}"]
    assert "Fixed: http://127.0.0.1:5000/cases/" in message.text and "Not fixed: " in message.text


def test_two_answers_at_once_record_one(app, db, office, make_user):
    """The case row is locked while an answer is recorded (PostgreSQL); SQLite writes one at a time anyway."""
    import threading

    client = app.test_client()
    cid = resolved_request(client, office)
    results = []

    def answer():
        results.append(app.test_client().post(f"/api/v1/cases/{cid}/feedback", json={"outcome": "partly_fixed"},
                                              headers=office["headers"]["resident"]).status_code)

    threads = [threading.Thread(target=answer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200, 409, 409, 409]
    db.rollback()
    assert len(db.scalars(select(CaseFeedback)).all()) == 1

