"""A governorate with two bodies, their categories, two areas, and one account of each kind, with bearer tokens."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from majlis.db import unit_of_work
from majlis.enums import Role
from majlis.followups.models import CaseCategory
from tests import factories


@pytest.fixture
def office(db, make_user, make_body, api_token):
    works = make_body(code="works", name_en="Works", name_ar="الأشغال", sla_days=30)
    health = make_body(code="health", name_en="Health", name_ar="الصحة", sla_days=14)
    now = datetime.now(UTC)
    with unit_of_work(db):
        juffair = factories.area(db, code="juffair", name_en="Juffair", name_ar="الجفير")
        seef = factories.area(db, code="seef", name_en="Seef", name_ar="السيف")
        categories = {}
        for code, body, days, published in (("street-lighting", works, 10, True), ("roads", works, 14, True),
                                            ("public-health", health, 7, True), ("home-care", health, 21, False)):
            categories[code] = CaseCategory(code=code, body_id=body.id, name_ar=f"فئة {code}",
                                            name_en=f"Category {code}", days_to_resolve=days,
                                            is_published=published, created_at=now, updated_at=now)
            db.add(categories[code])
    people = {
        "resident": make_user(name="Fatima Al-Sayed", email="fatima@example.com", phone="+97339998877",
                              area_id=juffair.id),
        "other_resident": make_user(),
        "official": make_user(role=Role.OFFICIAL, body=works, name="Works Official"),
        "other_official": make_user(role=Role.OFFICIAL, body=health),
        "moderator": make_user(role=Role.MODERATOR),
        "staff": make_user(role=Role.STAFF),
    }
    headers = {name: api_token(user) for name, user in people.items()}
    return {"people": people, "headers": headers, "works": works, "health": health, "juffair": juffair,
            "seef": seef, "categories": categories}


def phone_case(client, office, **data):
    """A case the office opens for a phone call, by the API."""
    payload = {"channel": "phone", "body_id": office["works"].id, "category": "street-lighting",
               "description": "عمود الإنارة أمام المسجد لا يعمل منذ أسبوع", "area_id": office["juffair"].id,
               "contact": {"name": "Hassan Ali", "phone": "+97333112233", "email": "hassan@example.com"}, **data}
    return client.post("/api/v1/cases", json=payload, headers=office["headers"]["moderator"])


def request_by_app(client, office, who="resident", **data):
    payload = {"category": "street-lighting", "description": "الشارع مظلم ليلًا بسبب عطل في الإنارة", **data}
    return client.post("/api/v1/requests", json=payload, headers=office["headers"][who])


def update(client, office, case_id, who, **data):
    return client.post(f"/api/v1/cases/{case_id}/updates", json=data, headers=office["headers"][who])
