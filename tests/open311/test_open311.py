"""Open data and Open311 GeoReport v2: the specification's fields and shapes (JSON and XML), the filters, and no
personal data anywhere."""

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET  # noqa: S405 - parses the app's own answers in tests

import pytest
from sqlalchemy import select

from majlis.db import unit_of_work
from majlis.enums import QuestionStatus
from majlis.followups.models import CaseCategory
from majlis.open311.opendata import FIELD_NAMES
from majlis.questions.models import Question
from tests import factories
from tests.followups.conftest import phone_case, request_by_app, update

# GeoReport v2's fields (http://wiki.open311.org/GeoReport_v2).
REQUEST_FIELDS = {"service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"}
REQUIRED_REQUEST_FIELDS = {"service_request_id", "status", "status_notes", "service_name", "service_code",
                           "agency_responsible", "requested_datetime", "updated_datetime", "expected_datetime"}
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
W3C = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$")


@pytest.fixture
def published(client, db, office):
    """Cases of every kind: what is published and what is not."""
    people, headers = office["people"], office["headers"]
    ids = {}
    # By phone, with the caller's contact details and a place they did not agree to publish.
    ids["phone"] = phone_case(client, office, place={"address": "بيت 12 طريق 45", "lat": 26.21, "lon": 50.6}
                              ).get_json()["id"]
    # A resident's request with a place they agreed to publish, triaged and resolved.
    ids["public_place"] = request_by_app(client, office, description="حفرة عميقة أمام بيتي رقم 7",
                                         place={"address": "Road 3805", "lat": 26.2171, "lon": 50.5872,
                                                "public": True}).get_json()["id"]
    client.post(f"/api/v1/cases/{ids['public_place']}/triage", json={"category": "roads"},
                headers=headers["moderator"])
    update(client, office, ids["public_place"], "official", text="تم ردم الحفرة، شكرًا يا فاطمة", status="resolved")
    client.post(f"/api/v1/cases/{ids['public_place']}/feedback",
                json={"outcome": "partly_fixed", "rating": 3, "comment": "اتصلوا بي على 39998877"},
                headers=headers["resident"])
    # A sensitive category: counted, never listed.
    ids["sensitive"] = phone_case(client, office, category="home-care", body_id=office["health"].id
                                  ).get_json()["id"]
    # Waiting for triage: not a body's case yet; declined at triage: never one.
    ids["waiting"] = request_by_app(client, office, who="other_resident").get_json()["id"]
    ids["declined"] = request_by_app(client, office, who="other_resident").get_json()["id"]
    update(client, office, ids["declined"], "moderator", text="طلب مكرر", status="declined")
    # A majlis question without a category: the general service.
    now = datetime.now(UTC)
    with unit_of_work(db):
        held = factories.majlis_session(db, starts_at=now - timedelta(hours=2))
        question = Question(session_id=held.id, author_id=people["resident"].id, body="سؤال عن الصرف الصحي",
                            status=QuestionStatus.ANSWERED, created_at=now, updated_at=now)
        db.add(question)
    ids["majlis"] = client.post(f"/api/v1/questions/{question.id}/case", json={"body_id": office["works"].id},
                                headers=headers["moderator"]).get_json()["id"]
    return ids


PERSONAL = ("Fatima", "fatima@example.com", "+97339998877", "39998877", "Hassan", "hassan@example.com",
            "+97333112233", "عمود الإنارة", "حفرة عميقة", "بيت 12", "شكرًا يا فاطمة", "سؤال عن الصرف")


def assert_nothing_personal(text: str) -> None:
    for private in PERSONAL:
        assert private not in text, private


def xml_items(response, root: str, item: str) -> list[dict]:
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    text = response.get_data(as_text=True)
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>')
    document = ET.fromstring(response.get_data())  # noqa: S314 - our own answer
    assert document.tag == root
    items = []
    for element in document:
        assert element.tag == item
        items.append({child.tag: child.text for child in element})
    return items


def test_service_requests_have_the_specification_fields_in_json_and_xml(client, published, office):
    response = client.get("/open311/v2/requests.json?lang=en")
    assert response.status_code == 200 and response.mimetype == "application/json"
    listed = response.get_json()
    assert isinstance(listed, list)
    by_id = {item["service_request_id"]: item for item in listed}
    assert set(by_id) == {str(published[name]) for name in ("phone", "public_place", "majlis")}
    for item in listed:
        assert REQUIRED_REQUEST_FIELDS <= set(item) <= REQUEST_FIELDS, item
        assert item["status"] in ("open", "closed") and isinstance(item["service_request_id"], str)
        for field in ("requested_datetime", "updated_datetime", "expected_datetime"):
            assert W3C.match(item[field]), item[field]
    phone, resolved, majlis = (by_id[str(published[name])] for name in ("phone", "public_place", "majlis"))
    assert (phone["status"], phone["service_code"], phone["service_name"], phone["agency_responsible"]) == (
        "open", "street-lighting", "Category street-lighting", "Works")
    # The place was not agreed to: the area only.
    assert (phone["address"], phone["lat"], phone["long"]) == ("Juffair", None, None)
    assert (resolved["status"], resolved["address"], resolved["lat"], resolved["long"]) == (
        "closed", "Road 3805", 26.2171, 50.5872)
    assert resolved["status_notes"] == "Resolved by Works."
    assert (majlis["service_code"], majlis["service_name"]) == ("general", "General request")
    assert phone["expected_datetime"].endswith("T23:59:59+03:00")

    xml = xml_items(client.get("/open311/v2/requests.xml?lang=en"), "service_requests", "request")
    assert len(xml) == 3
    for item in xml:
        assert REQUIRED_REQUEST_FIELDS <= set(item) <= REQUEST_FIELDS
        json_item = by_id[item["service_request_id"]]
        for key, value in item.items():
            expected = json_item[key]
            assert value == (str(expected) if expected is not None else None), key
    assert "lat" not in next(i for i in xml if i["service_request_id"] == str(published["phone"]))


def test_one_service_request(client, published):
    one = client.get(f"/open311/v2/requests/{published['public_place']}.json").get_json()
    assert len(one) == 1 and one[0]["service_request_id"] == str(published["public_place"])
    assert xml_items(client.get(f"/open311/v2/requests/{published['phone']}.xml"), "service_requests",
                     "request")[0]["service_request_id"] == str(published["phone"])
    for hidden in ("sensitive", "waiting", "declined"):
        response = client.get(f"/open311/v2/requests/{published[hidden]}.json")
        assert response.status_code == 404 and response.get_json()[0]["code"] == 404


def test_services_and_discovery(client, published):
    services = client.get("/open311/v2/services.json?lang=en").get_json()
    assert all(set(service) == SERVICE_FIELDS for service in services)
    by_code = {service["service_code"]: service for service in services}
    assert set(by_code) == {"street-lighting", "roads", "public-health", "general"}  # home-care is not published
    assert (by_code["roads"]["group"], by_code["roads"]["type"], by_code["roads"]["metadata"]) == (
        "Works", "realtime", False)
    xml = xml_items(client.get("/open311/v2/services.xml?lang=en"), "services", "service")
    assert {item["service_code"]: item["metadata"] for item in xml}["roads"] == "false"

    discovery = client.get("/open311/v2/discovery.json").get_json()
    assert set(discovery) == {"changeset", "contact", "key_service", "endpoints"}
    [endpoint] = discovery["endpoints"]
    assert endpoint == {"specification": "http://wiki.open311.org/GeoReport_v2",
                        "url": "http://127.0.0.1:5000/open311/v2", "changeset": endpoint["changeset"],
                        "type": "production", "formats": ["text/xml", "application/json"]}
    xml = ET.fromstring(client.get("/open311/v2/discovery.xml").get_data())  # noqa: S314
    assert xml.tag == "discovery" and xml.find("endpoints/endpoint/formats/format").text == "text/xml"


def test_filters(client, published):
    def ids(query: str) -> set[int]:
        response = client.get(f"/open311/v2/requests.json?{query}")
        assert response.status_code == 200, response.get_json()
        return {int(item["service_request_id"]) for item in response.get_json()}

    assert ids("status=closed") == {published["public_place"]}
    assert ids("status=open") == {published["phone"], published["majlis"]}
    assert ids("status=open,closed") == ids("") == {published[n] for n in ("phone", "public_place", "majlis")}
    assert ids("service_code=general") == {published["majlis"]}
    assert ids("service_code=roads,general") == {published["public_place"], published["majlis"]}
    assert ids(f"service_request_id={published['phone']},{published['sensitive']}") == {published["phone"]}
    now = datetime.now(UTC)
    window = f"start_date={(now - timedelta(days=1)).isoformat()}&end_date={(now + timedelta(hours=1)).isoformat()}"
    assert len(ids(window.replace("+", "%2B"))) == 3
    assert ids(f"start_date={(now + timedelta(days=1)).date().isoformat()}T00:00:00Z") == set()
    assert ids("end_date=2020-01-01T00:00:00Z") == set()


@pytest.mark.parametrize("query", [
    "start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z",  # more than 90 days
    "start_date=2026-06-01T00:00:00Z&end_date=2026-01-01T00:00:00Z",
    "start_date=yesterday",
    "start_date=1900-01-01T00:00:00Z",
    "status=pending",
    "service_request_id=abc",
])
def test_bad_filters_answer_geo_report_errors(client, query):
    response = client.get(f"/open311/v2/requests.json?{query}")
    assert response.status_code == 400
    [error] = response.get_json()
    assert error["code"] == 400 and error["description"]
    xml = client.get(f"/open311/v2/requests.xml?{query}")
    assert xml.status_code == 400 and xml.headers["Content-Type"] == "text/xml; charset=utf-8"
    document = ET.fromstring(xml.get_data())  # noqa: S314
    assert document.tag == "errors" and document.find("error/code").text == "400"


def test_unknown_paths_are_geo_report_404s(client):
    response = client.get("/open311/v2/requests/a/b.json")
    assert response.status_code == 404 and response.get_json()[0]["code"] == 404
    xml = client.get("/open311/v2/nothing.xml")
    assert xml.status_code == 404 and ET.fromstring(xml.get_data()).tag == "errors"  # noqa: S314


def test_nothing_personal_in_any_public_answer(client, published):
    for url in ("/open311/v2/requests.json", "/open311/v2/requests.xml", "/open311/v2/requests.json?lang=en",
                f"/open311/v2/requests/{published['phone']}.xml", "/open311/v2/services.json",
                "/open-data/cases.csv", "/open-data/cases.json", "/open-data", "/accountability",
                "/api/v1/accountability?group_by=area"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_nothing_personal(response.get_data(as_text=True))


def test_open_data_files_and_their_dictionary(client, db, published, office):
    csv_response = client.get("/open-data/cases.csv")
    assert csv_response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in csv_response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(csv_response.get_data(as_text=True).lstrip("\ufeff"))))
    assert tuple(rows[0]) == FIELD_NAMES
    by_id = {int(row["case_id"]): row for row in rows}
    assert set(by_id) == {published[n] for n in ("phone", "public_place", "majlis")}
    resolved = by_id[published["public_place"]]
    assert (resolved["status"], resolved["channel"], resolved["closed_on_time"], resolved["feedback_outcome"],
            resolved["feedback_rating"], resolved["latitude"], resolved["place_address"]) == (
        "resolved", "app", "true", "partly_fixed", "3", "26.2171", "Road 3805")
    phone = by_id[published["phone"]]
    assert (phone["area_code"], phone["latitude"], phone["place_address"], phone["closed_on"]) == (
        "juffair", "", "", "")

    data = client.get("/open-data/cases.json").get_json()
    assert data["fields"] == list(FIELD_NAMES)
    assert {case["case_id"] for case in data["cases"]} == set(by_id)
    assert all(set(case) == set(FIELD_NAMES) for case in data["cases"])
    json_case = next(c for c in data["cases"] if c["case_id"] == published["public_place"])
    assert (json_case["closed_on_time"], json_case["latitude"], json_case["feedback_rating"]) == (True, 26.2171, 3)

    page = client.get("/open-data?lang=en").get_data(as_text=True)
    for name in FIELD_NAMES:
        assert f"<code>{name}</code>" in page
    since = client.get(f"/open-data/cases.json?from={(datetime.now(UTC) + timedelta(days=2)).date()}").get_json()
    assert since["cases"] == []
    bad = client.get("/open-data/cases.csv?from=someday")
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "from"


def test_csv_cells_are_defused_against_formulas(client, db, office, published):
    with unit_of_work(db):
        roads = db.scalar(select(CaseCategory).where(CaseCategory.code == "roads"))
        roads.name_en = '=HYPERLINK("http://evil.example","click")'
        roads.name_ar = "+SUM(A1:A9)"
    rows = list(csv.reader(io.StringIO(client.get("/open-data/cases.csv").get_data(as_text=True))))
    cells = [cell for row in rows for cell in row]
    assert "'=HYPERLINK(\"http://evil.example\",\"click\")" in cells and "'+SUM(A1:A9)" in cells
    assert not [cell for cell in cells if cell.startswith(("=", "+", "@"))]
    # Numbers stay numbers (a longitude west of Greenwich is not a formula).
    json.loads(client.get("/open-data/cases.json").get_data(as_text=True))
