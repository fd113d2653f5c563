"""Issue 17's whole path through HTTP: a hybrid field visit planned, booked in both pools, checked in at the door, and
what the governor saw there followed as a case to its resolution and the resident's "was it fixed?"."""

from datetime import UTC, datetime, timedelta

from tests.followups.conftest import phone_case, update


def test_a_field_visit_from_planning_to_was_it_fixed(client, office, make_user, api_token):
    headers, people = office["headers"], office["people"]
    starts = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    planned = client.post("/api/v1/sessions", headers=headers["staff"], json={
        "kind": "field_visit", "format": "hybrid", "title_ar": "زيارة ميدانية إلى السيف",
        "title_en": "Field visit to Seef", "starts_at": starts.isoformat(), "duration_minutes": 120,
        "capacity": 1, "in_person_capacity": 1, "visibility": "public",
        "registration_opens_at": (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0).isoformat(),
        "place": {"name_ar": "مركز السيف", "name_en": "Seef Centre", "address": "Road 2803, Seef",
                  "area_id": office["seef"].id, "lat": 26.2325, "lon": 50.5349}})
    assert planned.status_code == 201, planned.get_json()
    visit = planned.get_json()["id"]

    def register(who, mode):
        return client.post(f"/api/v1/sessions/{visit}/registrations", json={"mode": mode}, headers=headers[who])

    hall = register("resident", "in_person")
    online = register("other_resident", "online")
    assert (hall.status_code, online.status_code) == (201, 201)
    assert (hall.get_json()["status"], hall.get_json()["mode"]) == ("confirmed", "in_person")
    assert (online.get_json()["status"], online.get_json()["mode"]) == ("confirmed", "online")
    # The hall is full: the next resident asking for it waits first in the hall's own line.
    headers["late"] = api_token(make_user())
    late = register("late", "in_person")
    assert late.status_code == 201
    assert (late.get_json()["status"], late.get_json()["mode"], late.get_json()["position"]) == (
        "waitlisted", "in_person", 1)
    code = hall.get_json()["check_in_code"]
    assert code and online.get_json().get("check_in_code") is None

    door = client.post(f"/api/v1/sessions/{visit}/check-in", json={"code": code.lower()}, headers=headers["staff"])
    assert door.status_code == 200, door.get_json()
    assert door.get_json()["user_id"] == people["resident"].id
    again = client.post(f"/api/v1/sessions/{visit}/check-in", json={"code": code}, headers=headers["moderator"])
    assert (again.status_code, again.get_json()["error"]["code"]) == (409, "already_checked_in")
    listed = client.get(f"/api/v1/sessions/{visit}/registrations", headers=headers["staff"]).get_json()
    [checked] = [r for r in listed["registrations"] if r["user_id"] == people["resident"].id]
    assert checked["attended"] is True and checked["checked_in_at"] is not None

    observed = phone_case(client, office, channel="field_visit", session_id=visit, contact=None,
                          resident_id=people["resident"].id, area_id=office["seef"].id, category="roads",
                          description="رصيف متكسر أمام المركز")
    assert observed.status_code == 201, observed.get_json()
    case = observed.get_json()
    assert (case["channel"], case["session_id"], case["status"]) == ("field_visit", visit, "open")
    assert update(client, office, case["id"], "official", text="الفريق في الموقع", status="in_progress"
                  ).status_code == 200
    assert update(client, office, case["id"], "official", text="أُصلح الرصيف", status="resolved").status_code == 200

    answered = client.post(f"/api/v1/cases/{case['id']}/feedback", json={"outcome": "fixed", "rating": 5},
                           headers=headers["resident"])
    assert answered.status_code == 200, answered.get_json()
    assert answered.get_json()["status"] == "confirmed"
    seen = client.get(f"/api/v1/cases/{case['id']}", headers=headers["official"]).get_json()
    assert seen["status"] == "confirmed" and [f["outcome"] for f in seen["feedback"]] == ["fixed"]
