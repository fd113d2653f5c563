"""A field visit in Chromium: the resident's page with the place and the check-in QR code, and the door's check-in
page on a 360 px phone, in Arabic and English, accessible."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.browser.conftest import LIVE_APP, axe_violations, horizontal_overflow, sign_in

pytestmark = pytest.mark.browser
SHOTS = "/tmp/majlis-places"  # noqa: S108 - screenshots to look at after the run
VISIT: dict = {}


@pytest.fixture
def visit(live_server):
    """A hybrid field visit with the demo resident holding a hall seat (made once for the module's tests)."""
    if not VISIT:
        from sqlalchemy import select

        from majlis.auth.models import User
        from majlis.db import get_database, unit_of_work
        from majlis.directory.models import Area
        from majlis.registration.services import register
        from majlis.sessions.services import create_one_off

        app = LIVE_APP["app"]
        now = datetime.now(UTC)
        db = get_database(app).session_factory()
        with app.app_context(), unit_of_work(db):
            row = create_one_off(db, {
                "kind": "field_visit", "format": "hybrid", "title_ar": "زيارة المحافظ إلى سترة",
                "title_en": "The Governor's visit to Sitra", "capacity": 20, "in_person_capacity": 40,
                "duration_minutes": 90, "starts_at": (now + timedelta(days=2)).isoformat(),
                "registration_opens_at": (now - timedelta(days=1)).isoformat(),
                "place": {"name_ar": "مركز سترة الاجتماعي", "name_en": "Sitra Community Centre",
                          "address": "Road 12, Block 601", "area_id": db.scalar(select(Area.id).limit(1)),
                          "lat": 26.1547, "lon": 50.6203}},
                actor=None, zone=ZoneInfo("Asia/Bahrain"), now=now)
            resident = db.scalar(select(User).where(User.email == "resident@demo.majlis"))
            place = register(db, row.id, resident, now=now, mode="in_person")
            from tests import factories

            # One resident at the door per language's run of the check-in test.
            at_door = {lang: register(db, row.id, factories.user(db, name=name), now=now, mode="in_person")
                       for lang, name in (("ar", "مريم الحداد"), ("en", "يوسف علي"))}
        db.close()
        VISIT.update(id=row.id, code=place.check_in_code,
                     door={lang: found.check_in_code for lang, found in at_door.items()})
    return VISIT


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_the_resident_sees_the_place_and_the_qr_code_at_360(live_server, new_page, visit, lang):
    page = new_page(360, 800)
    sign_in(page, live_server, "resident@demo.majlis")
    page.goto(f"{live_server}/sessions/{visit['id']}?lang={lang}")
    figure = page.locator("figure.check-in-code")
    assert figure.locator("svg").count() == 1 and visit["code"] in figure.inner_text()
    box = figure.locator("svg").bounding_box()
    assert box["width"] >= 120 and box["x"] >= 0 and box["x"] + box["width"] <= 360  # big enough to scan, on screen
    assert page.locator("a[href^='https://www.openstreetmap.org/?mlat=26.154700']").count() == 1
    assert horizontal_overflow(page) <= 0
    page.screenshot(path=f"{SHOTS}-resident-{lang}-360.png", full_page=True)
    assert axe_violations(page) == []


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_the_door_checks_a_resident_in_on_a_phone(live_server, new_page, visit, lang):
    page = new_page(360, 740)
    sign_in(page, live_server, "moderator@demo.majlis")
    page.goto(f"{live_server}/sessions/{visit['id']}/check-in?lang={lang}")
    assert horizontal_overflow(page) <= 0
    assert axe_violations(page) == []
    code = page.locator("#code")
    assert code.evaluate("element => element === document.activeElement")  # ready for the next code
    code.fill(visit["door"][lang].lower())
    page.locator("form.check-in-form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(".flash-success[role=status]").count() == 1
    page.screenshot(path=f"{SHOTS}-door-{lang}-360.png", full_page=True)
    assert axe_violations(page) == []

    page.locator("#code").fill(visit["door"][lang])  # the same resident again
    page.locator("form.check-in-form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(".flash-success").count() == 0
    assert page.locator("#code").get_attribute("aria-invalid") == "true" and page.locator(".error").count() == 1
    if lang == "en":
        assert "already checked in" in page.locator(".error").inner_text()
    assert horizontal_overflow(page) <= 0
    page.screenshot(path=f"{SHOTS}-door-twice-{lang}-360.png", full_page=True)
    assert axe_violations(page) == []
