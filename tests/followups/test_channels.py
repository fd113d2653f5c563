"""Cases from every channel: opened by the office, requested by residents and triaged, categories and who sees what."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from majlis.db import unit_of_work
from majlis.enums import CaseChannel, CaseStatus
from majlis.followups.models import Case, CaseCategory, CaseUpdate
from majlis.notifications.models import OutboxMessage
from tests import factories
from tests.conftest import csrf_token_from, form_post
from tests.followups.conftest import phone_case, request_by_app, update

BAHRAIN = ZoneInfo("Asia/Bahrain")


def today() -> date:
    return datetime.now(BAHRAIN).date()


def test_the_office_opens_cases_from_several_channels(client, db, office):
    people = office["people"]
    by_phone = phone_case(client, office)
    assert by_phone.status_code == 201, by_phone.get_json()
    case = by_phone.get_json()
    assert by_phone.headers["Location"].endswith(f"/api/v1/cases/{case['id']}")
    assert (case["channel"], case["status"], case["category"]["code"], case["body"]["id"]) == (
        "phone", "open", "street-lighting", office["works"].id)
    assert case["due_on"] == (today() + timedelta(days=10)).isoformat()  # the category's days
    assert case["area"]["code"] == "juffair" and case["question_id"] is None and case["question"] is None
    assert case["contact"] == {"name": "Hassan Ali", "phone": "+97333112233", "email": "hassan@example.com"}

    with unit_of_work(db):
        visit = factories.majlis_session(db, title_en="Field visit to Seef")
    observed = phone_case(client, office, channel="field_visit", session_id=visit.id, contact=None,
                          area_id=office["seef"].id, category="roads", description="رصيف متكسر قرب المدرسة",
                          place={"address": "Road 2803", "lat": 26.2325, "lon": 50.5349, "public": True})
    assert observed.status_code == 201, observed.get_json()
    observed = observed.get_json()
    assert (observed["channel"], observed["session_id"], observed["contact"]) == ("field_visit", visit.id, None)
    assert observed["place"] == {"address": "Road 2803", "lat": 26.2325, "lon": 50.5349, "public": True}

    written = phone_case(client, office, channel="email", contact=None, resident_id=people["resident"].id,
                         category="public-health", body_id=office["health"].id, due_on=(today() + timedelta(days=3))
                         .isoformat(), description="تجمع مياه راكدة والبعوض")
    assert written.status_code == 201, written.get_json()
    assert written.get_json()["due_on"] == (today() + timedelta(days=3)).isoformat()

    db.rollback()
    channels = db.scalars(select(Case.channel).order_by(Case.id)).all()
    assert channels == [CaseChannel.PHONE, CaseChannel.FIELD_VISIT, CaseChannel.EMAIL]
    # The resident of the e-mailed case hears of it; the bodies' officials hear of theirs.
    notices = db.execute(select(OutboxMessage.kind, OutboxMessage.user_id).order_by(OutboxMessage.id)).all()
    assert ("case_opened", people["resident"].id) in notices
    assert [n for n in notices if n[1] == people["official"].id] == [("case_assigned", people["official"].id)] * 2
    assert ("case_assigned", people["other_official"].id) in notices


@pytest.mark.parametrize("data, field", [
    ({"channel": "fax"}, "channel"),
    ({"channel": None}, "channel"),
    ({"category": "no-such-thing"}, "category"),
    ({"category": "public-health"}, "category"),  # a category of another body
    ({"body_id": 999999}, "body_id"),
    ({"description": "  "}, "description"),
    ({"description": "x" * 2001}, "description"),
    ({"area_id": 999999}, "area_id"),
    ({"resident_id": 999999}, "resident_id"),
    ({"session_id": 999999}, "session_id"),
    ({"contact": {"phone": "call me"}}, "contact_phone"),
    ({"contact": {"email": "nobody"}}, "contact_email"),
    ({"contact": "Hassan"}, "contact"),
    ({"place": {"lat": 91, "lon": 50}}, "lat"),
    ({"place": {"lat": 26.2}}, "lat"),
    ({"place": {"lat": "north", "lon": 50}}, "lat"),
    ({"place": {"address": "x", "public": "yes"}}, "public"),
    ({"due_on": "2020-01-01"}, "due_on"),
    ({"due_on": "tomorrow"}, "due_on"),
])
def test_bad_channel_case_input(client, db, office, data, field):
    response = phone_case(client, office, **data)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == field, response.get_json()
    db.rollback()
    assert db.scalar(select(Case)) is None


@pytest.mark.parametrize("who, status", [("resident", 403), ("official", 403), ("moderator", 201), ("staff", 201)])
def test_who_opens_channel_cases(client, office, who, status):
    payload = {"channel": "phone", "body_id": office["works"].id, "category": "roads", "description": "حفرة"}
    assert client.post("/api/v1/cases", json=payload, headers=office["headers"][who]).status_code == status


def test_a_residents_request_waits_for_triage_and_goes_to_the_chosen_body(client, db, office):
    people = office["people"]
    sent = request_by_app(client, office, place={"address": "Block 324", "lat": 26.21, "lon": 50.6})
    assert sent.status_code == 201, sent.get_json()
    case = sent.get_json()
    assert (case["channel"], case["status"], case["area"]["code"]) == ("app", "submitted", "juffair")
    assert case["place"]["public"] is False
    cid = case["id"]
    # Not the body's yet: its officials neither see nor hear of it.
    assert client.get(f"/api/v1/cases/{cid}", headers=office["headers"]["official"]).status_code == 404
    assert client.get("/api/v1/cases", headers=office["headers"]["official"]).get_json()["cases"] == []
    assert update(client, office, cid, "official", text="?").status_code == 404
    db.rollback()
    assert db.scalar(select(OutboxMessage)) is None

    # The office finds it belongs to Health.
    triaged = client.post(f"/api/v1/cases/{cid}/triage", json={"category": "public-health"},
                          headers=office["headers"]["moderator"])
    assert triaged.status_code == 200, triaged.get_json()
    triaged = triaged.get_json()
    assert (triaged["status"], triaged["body"]["id"], triaged["category"]["code"]) == (
        "open", office["health"].id, "public-health")
    assert triaged["due_on"] == (today() + timedelta(days=7)).isoformat()
    again = client.post(f"/api/v1/cases/{cid}/triage", json={"category": "roads"},
                        headers=office["headers"]["moderator"])
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_triaged"
    assert client.get(f"/api/v1/cases/{cid}", headers=office["headers"]["other_official"]).status_code == 200
    db.rollback()
    notices = db.execute(select(OutboxMessage.kind, OutboxMessage.user_id).order_by(OutboxMessage.id)).all()
    assert notices == [("case_opened", people["resident"].id), ("case_assigned", people["other_official"].id)]


def test_only_residents_send_requests_and_only_the_office_triages(client, office):
    assert request_by_app(client, office, who="staff").status_code == 403
    assert request_by_app(client, office, who="official").get_json()["error"]["code"] == "residents_only"
    cid = request_by_app(client, office).get_json()["id"]
    for who in ("resident", "other_resident"):
        response = client.post(f"/api/v1/cases/{cid}/triage", json={"category": "roads"},
                               headers=office["headers"][who])
        assert response.status_code == (403 if who == "resident" else 404)


@pytest.mark.parametrize("data, field", [
    ({"category": "retired"}, "category"),
    ({"description": "ab"}, "description"),
    ({"description": 12}, "description"),
    ({"area_id": "x"}, "area_id"),
    ({"place": {"lat": 26, "lon": 181}}, "lon"),
])
def test_bad_requests(client, db, office, data, field):
    with unit_of_work(db):
        db.get(CaseCategory, office["categories"]["roads"].id).code = "retired"
        db.get(CaseCategory, office["categories"]["roads"].id).is_active = False
    response = request_by_app(client, office, **data)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == field


def test_requests_are_rate_limited_per_resident(client, office):
    statuses = [request_by_app(client, office).status_code for _ in range(6)]
    assert statuses == [201] * 5 + [429]
    assert request_by_app(client, office, who="other_resident").status_code == 201


def test_a_request_can_be_declined_at_triage(client, db, office, login_as):
    cid = request_by_app(client, office).get_json()["id"]
    login_as(office["people"]["moderator"])
    queue = client.get("/staff/requests?lang=en").get_data(as_text=True)
    assert f"Request number {cid}" in queue
    response = form_post(client, f"/cases/{cid}/updates", {"text": "طلب مكرر للطلب رقم 12", "status": "declined",
                                                           "back": "queue"}, page="/staff/requests")
    assert response.status_code == 302 and response.headers["Location"].endswith("/staff/requests")
    db.rollback()
    case = db.get(Case, cid)
    assert case.status == CaseStatus.DECLINED and case.declined_reason == "طلب مكرر للطلب رقم 12"
    assert "No request is waiting." in client.get("/staff/requests?lang=en").get_data(as_text=True)


def test_the_request_form_and_the_triage_queue(client, db, office, login_as, app):
    login_as(office["people"]["resident"])
    page = client.get("/requests/new?lang=en").get_data(as_text=True)
    assert "Send a request" in page and 'value="street-lighting"' in page and "<optgroup" in page
    assert f'<option selected value="{office["juffair"].id}">' in page or \
        f'value="{office["juffair"].id}" selected' in page
    bad = form_post(client, "/requests/new", {"category": "street-lighting", "description": "ab"})
    assert bad.status_code == 400 and "Describe the request." in bad.get_data(as_text=True)
    sent = form_post(client, "/requests/new", {"category": "street-lighting", "area_id": str(office["seef"].id),
                                               "description": "إنارة الحديقة العامة معطلة",
                                               "place_address": "حديقة السيف", "latitude": "26.23",
                                               "longitude": "50.54", "place_is_public": "y"})
    assert sent.status_code == 302, sent.get_data(as_text=True)
    db.rollback()
    case = db.scalar(select(Case))
    assert (case.channel, case.status, case.area_id, case.place_is_public) == (
        CaseChannel.WEBSITE, CaseStatus.SUBMITTED, office["seef"].id, True)
    assert sent.headers["Location"].endswith(f"/cases/{case.id}")
    assert "Waiting to be sent to a body" in client.get(f"/cases/{case.id}?lang=en").get_data(as_text=True)

    moderator = app.test_client()
    form_post(moderator, "/login", {"email": office["people"]["moderator"].email, "password": factories.PASSWORD})
    queue = moderator.get("/staff/requests?lang=en").get_data(as_text=True)
    assert "إنارة الحديقة العامة معطلة" in queue and "The resident chose: Category street-lighting" in queue
    token = csrf_token_from(queue)
    triaged = moderator.post(f"/staff/requests/{case.id}/triage",
                             data={f"c{case.id}-csrf_token": token, f"c{case.id}-category": "roads"})
    assert triaged.status_code == 302
    db.rollback()
    case = db.get(Case, case.id)
    assert (case.status, case.category.code, case.body_id) == (CaseStatus.OPEN, "roads", office["works"].id)
    history = db.scalars(select(CaseUpdate.new_status).where(CaseUpdate.case_id == case.id)
                         .order_by(CaseUpdate.id)).all()
    assert history == [CaseStatus.SUBMITTED, CaseStatus.OPEN]


def test_the_office_opens_a_case_from_the_page(client, db, office, login_as):
    login_as(office["people"]["staff"])
    page = client.get("/cases/new?lang=en").get_data(as_text=True)
    assert "Open a case" in page and "Phone call" in page
    unknown = form_post(client, "/cases/new", {"channel": "phone", "category": "roads", "description": "حفرة",
                                               "resident_email": "nobody@example.com"})
    assert unknown.status_code == 400 and "No account has this id." in unknown.get_data(as_text=True)
    opened = form_post(client, "/cases/new", {
        "channel": "social_media", "category": "roads", "description": "صورة منشورة لحفرة في شارع الحورة",
        "resident_email": office["people"]["resident"].email.upper(), "area_id": str(office["seef"].id)})
    assert opened.status_code == 302, opened.get_data(as_text=True)
    db.rollback()
    case = db.scalar(select(Case))
    assert (case.channel, case.resident_id, case.body_id) == (
        CaseChannel.SOCIAL_MEDIA, office["people"]["resident"].id, office["works"].id)


def test_contact_details_are_for_the_office_and_the_body_only(app, client, office):
    cid = phone_case(client, office, resident_id=office["people"]["resident"].id).get_json()["id"]
    for who, sees in (("moderator", True), ("official", True), ("resident", False)):
        body = client.get(f"/api/v1/cases/{cid}", headers=office["headers"][who]).get_json()
        assert (body["contact"] is not None) is sees, who
        visitor = app.test_client()
        form_post(visitor, "/login", {"email": office["people"][who].email, "password": factories.PASSWORD})
        page = visitor.get(f"/cases/{cid}?lang=en").get_data(as_text=True)
        assert ("+97333112233" in page) is sees and ("Hassan Ali" in page) is sees, who


def test_categories_are_listed_and_managed_by_staff(client, db, office, login_as):
    listed = client.get("/api/v1/categories", headers=office["headers"]["resident"]).get_json()["categories"]
    assert {c["code"]: (c["body_id"], c["days_to_resolve"]) for c in listed}["public-health"] == (
        office["health"].id, 7)
    assert client.get("/api/v1/categories").status_code == 401
    login_as(office["people"]["staff"])
    assert "street-lighting" in client.get("/staff/categories").get_data(as_text=True)
    bad = form_post(client, "/staff/categories", {"code": "Bad Code", "name_ar": "فئة", "name_en": "Category",
                                                  "body_id": str(office["works"].id), "days_to_resolve": "5"})
    assert bad.status_code == 400
    added = form_post(client, "/staff/categories", {
        "code": "sand-on-roads", "name_ar": "رمال على الطرق", "name_en": "Sand on roads",
        "body_id": str(office["works"].id), "days_to_resolve": "5", "is_active": "y", "is_published": "y"})
    assert added.status_code == 302, added.get_data(as_text=True)
    category = db.scalar(select(CaseCategory).where(CaseCategory.code == "sand-on-roads"))
    edited = form_post(client, f"/staff/categories/{category.id}", {
        "name_ar": "رمال على الطرق", "name_en": "Sand on the roads", "body_id": str(office["works"].id),
        "days_to_resolve": "4"})  # unticked: retired and unpublished
    assert edited.status_code == 302, edited.get_data(as_text=True)
    db.expire_all()
    category = db.get(CaseCategory, category.id)
    assert (category.name_en, category.days_to_resolve, category.is_active, category.is_published) == (
        "Sand on the roads", 4, False, False)
    codes = [c["code"] for c in client.get("/api/v1/categories").get_json()["categories"]]
    assert "sand-on-roads" not in codes


def test_moderators_may_not_manage_categories(client, office, login_as):
    login_as(office["people"]["moderator"])
    assert client.get("/staff/categories").status_code == 403


def test_a_majlis_question_still_becomes_a_case_with_its_text_as_description(client, db, office):
    from majlis.enums import QuestionStatus
    from majlis.questions.models import Question

    now = datetime.now(UTC)
    with unit_of_work(db):
        held = factories.majlis_session(db, starts_at=now - timedelta(hours=1))
        question = Question(session_id=held.id, author_id=office["people"]["resident"].id, body="متى تُرصف الطريق؟",
                            status=QuestionStatus.ANSWERED, created_at=now, updated_at=now)
        db.add(question)
    opened = client.post(f"/api/v1/questions/{question.id}/case",
                         json={"body_id": office["works"].id, "category": "roads"},
                         headers=office["headers"]["moderator"]).get_json()
    assert (opened["channel"], opened["description"], opened["question"]) == ("majlis", "متى تُرصف الطريق؟",
                                                                             "متى تُرصف الطريق؟")
    assert opened["due_on"] == (today() + timedelta(days=14)).isoformat() and opened["area"]["code"] == "juffair"
