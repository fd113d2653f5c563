"""Notification settings and announced live changes in Chromium.

The account page's settings fit a phone and pass axe-core in both languages (screenshots go to
/tmp/majlis-screens); the service worker registers and the manifest is served; the session page and the moderators'
console say what changed in their status region (read from Chromium's accessibility tree) without moving the focus.
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.browser.conftest import LIVE_APP, axe_violations, horizontal_overflow, sign_in

pytestmark = pytest.mark.browser
SCREENS = Path(tempfile.gettempdir()) / "majlis-screens"


@pytest.mark.parametrize("lang", ["ar", "en"])
@pytest.mark.parametrize("width", [360, 1280])
def test_notification_settings_fit_a_phone_and_are_accessible(live_server, new_page, width, lang):
    page = new_page(width, 900)
    sign_in(page, live_server, "resident@demo.majlis")
    page.goto(f"{live_server}/account?lang={lang}#notifications-heading")
    settings = page.locator("section.notification-settings")
    settings.wait_for()
    assert settings.locator("fieldset").count() == 9  # one per kind of notice, each with e-mail, push and SMS
    assert settings.locator("input[type=checkbox]").count() == 27
    # Push is offered once the service worker is ready (JavaScript); the status says where this device stands.
    page.locator("[data-push-on]").wait_for(state="visible")
    off = "الإشعارات متوقفة على هذا الجهاز." if lang == "ar" else "Notifications are off for this device."
    assert page.locator("[data-push-status]").inner_text() == off
    assert horizontal_overflow(page) <= 0
    assert axe_violations(page) == []
    SCREENS.mkdir(exist_ok=True)
    settings.screenshot(path=str(SCREENS / f"account-notifications-{lang}-{width}.png"))


def test_the_site_is_installable_a_manifest_icons_and_a_service_worker(live_server, new_page):
    page = new_page(360)
    page.goto(live_server + "/")
    href = page.locator("link[rel=manifest]").get_attribute("href")
    manifest = json.loads(page.request.get(live_server + href).text())
    assert (manifest["lang"], manifest["dir"], manifest["display"], manifest["start_url"]) == ("ar", "rtl",
                                                                                             "standalone", "/")
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        response = page.request.get(live_server + icon["src"])
        assert response.status == 200 and response.headers["content-type"] == "image/png"
    sign_in(page, live_server, "resident@demo.majlis")
    page.goto(live_server + "/account")
    scope = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
    assert scope == live_server + "/"


def _announcer(page) -> dict:
    """The status region as Chromium's accessibility tree has it: its role, live politeness and text."""
    cdp = page.context.new_cdp_session(page)
    try:
        tree = cdp.send("Accessibility.getFullAXTree")["nodes"]
        backend = cdp.send("DOM.describeNode", {"objectId": cdp.send("Runtime.evaluate", {
            "expression": "document.getElementById('live-announcer')"})["result"]["objectId"]})["node"][
            "backendNodeId"]
    finally:
        cdp.detach()
    node = next(n for n in tree if n.get("backendDOMNodeId") == backend)
    properties = {p["name"]: p["value"].get("value") for p in node.get("properties", [])}
    text = "".join(child.get("name", {}).get("value", "") for child in tree
                   if child.get("parentId") == node["nodeId"])
    return {"role": node["role"]["value"], "live": properties.get("live"), "atomic": properties.get("atomic"),
            "text": text or node.get("name", {}).get("value", "")}


def _wait_for_announcement(page, words: str) -> dict:
    page.wait_for_function("words => document.getElementById('live-announcer').textContent.includes(words)",
                           arg=words, timeout=15_000)
    return _announcer(page)


@pytest.fixture
def full_session():
    """A session with one seat, held by another resident; the demo resident waits in line with a pending question."""
    from majlis.auth.models import User
    from majlis.db import get_database, unit_of_work
    from majlis.enums import Role
    from majlis.questions import services as questions
    from majlis.registration.services import register
    from majlis.sessions.services import create_one_off
    from tests import factories

    app = LIVE_APP["app"]
    now = datetime.now(UTC)
    db = get_database(app).session_factory()
    with app.app_context(), unit_of_work(db):
        row = create_one_off(db, {
            "title_ar": "مجلس المقعد الواحد", "title_en": "A one-seat majlis", "capacity": 1, "duration_minutes": 60,
            "starts_at": (now + timedelta(minutes=3)).isoformat(),
            "registration_opens_at": (now - timedelta(days=1)).isoformat(),
            "registration_closes_at": (now + timedelta(minutes=2)).isoformat()},
            actor=None, zone=ZoneInfo("Asia/Bahrain"), now=now)
        holder = factories.user(db, email=f"holder-{row.id}@example.com")
        resident = db.scalar(select(User).where(User.email == "resident@demo.majlis"))
        moderator = db.scalar(select(User).where(User.role == Role.MODERATOR))
        register(db, row.id, holder, now=now)
        register(db, row.id, resident, now=now)
        question = questions.ask(db, row, resident, body="هل ستُضاء حديقة الحي ليلًا؟", now=now)
    ids = {"session": row.id, "holder": holder.id, "moderator": moderator.id, "question": question.id}
    yield app, db, ids
    db.close()


def test_the_session_page_announces_what_changes_for_the_resident_without_moving_the_focus(live_server, new_page,
                                                                                          full_session):
    from majlis.auth.models import User
    from majlis.db import unit_of_work
    from majlis.questions import services as questions
    from majlis.registration.services import cancel

    app, db, ids = full_session
    page = new_page(360, 740)
    sign_in(page, live_server, "resident@demo.majlis")
    page.goto(f"{live_server}/sessions/{ids['session']}")
    assert page.locator("[data-place-state][data-when-seated]").count() == 1  # waiting in line
    before = _announcer(page)
    assert (before["role"], before["live"], before["atomic"], before["text"]) == ("status", "polite", True, "")

    def moderate(action):
        with app.app_context(), unit_of_work(db):
            question = questions.lock_question(db, ids["question"])
            questions.moderate(db, question, db.get(User, ids["moderator"]), action=action, now=datetime.now(UTC))

    field = page.locator("#question-body")
    field.fill("سؤال أكتبه الآن")
    field.focus()
    moderate("approve")
    said = _wait_for_announcement(page, "تمت الموافقة على سؤالك")
    assert said["role"] == "status" and said["live"] == "polite"
    assert said["text"] == "تمت الموافقة على سؤالك: أصبح منشورًا للعموم."
    assert page.evaluate("document.activeElement.id") == "question-body" and field.input_value() == "سؤال أكتبه الآن"

    # The focus inside the list that is rebuilt: on the vote button of the question, which goes on air.
    vote = page.locator(f"#question-{ids['question']} button")
    vote.focus()
    moderate("on_air")
    said = _wait_for_announcement(page, "سؤالك على الهواء الآن")
    assert said["text"] == "سؤالك على الهواء الآن."
    page.locator(f"#question-{ids['question']} .badge-live").wait_for()  # the list was rebuilt
    assert page.evaluate(f"document.activeElement === document.querySelector('#question-{ids['question']} button')")

    with app.app_context(), unit_of_work(db):
        cancel(db, ids["session"], db.get(User, ids["holder"]), now=datetime.now(UTC))
    said = _wait_for_announcement(page, "لديك مقعد")
    assert said["text"] == "لديك مقعد: تم تأكيد تسجيلك."
    assert page.locator("[data-place-state]").inner_text() == "تم تأكيد مقعدك."
    assert page.evaluate(f"document.activeElement === document.querySelector('#question-{ids['question']} button')")
    assert axe_violations(page) == []


def test_the_console_announces_a_new_question_and_keeps_the_moderators_focus(live_server, new_page, full_session):
    from majlis.auth.models import User
    from majlis.db import unit_of_work
    from majlis.questions import services as questions
    from majlis.sessions.models import MajlisSession

    app, db, ids = full_session
    page = new_page(1280)
    sign_in(page, live_server, "moderator@demo.majlis")
    page.goto(f"{live_server}/sessions/{ids['session']}/moderate")
    card = page.locator(f"#question-{ids['question']}")
    card.focus()
    with app.app_context(), unit_of_work(db):
        holder = db.get(User, ids["holder"])
        questions.ask(db, db.get(MajlisSession, ids["session"]), holder, body="متى يُفتتح ممشى الحي الجديد؟",
                      now=datetime.now(UTC))
    said = _wait_for_announcement(page, "سؤال جديد بانتظار المراجعة")
    assert said["live"] == "polite" and "متى يُفتتح ممشى الحي الجديد؟" in said["text"]
    assert page.evaluate("document.activeElement.id") == f"question-{ids['question']}"
    assert axe_violations(page) == []


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_the_stop_page_needs_no_sign_in_fits_a_phone_and_stops_with_one_press(live_server, new_page, lang):
    from majlis.auth.models import User
    from majlis.db import get_database
    from majlis.notifications.models import NotificationSettings
    from majlis.notifications.preferences import stop_token

    app = LIVE_APP["app"]
    db = get_database(app).session_factory()
    try:
        official = db.scalar(select(User).where(User.email == "official@demo.majlis"))
        token = stop_token(app.config["SECRET_KEY"], official.id, "case_feedback")
        page = new_page(360, 740)
        page.goto(f"{live_server}/stop/{token}?lang={lang}")
        assert page.get_attribute("html", "lang") == lang
        assert horizontal_overflow(page) <= 0 and axe_violations(page) == []
        page.locator("main form button[type=submit]").click()
        page.locator("main [role=status]").wait_for()
        assert page.get_attribute("html", "lang") == lang  # the answer in the language of the page
        assert horizontal_overflow(page) <= 0 and axe_violations(page) == []
        SCREENS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENS / f"stop-{lang}-360.png"), full_page=True)
        db.expire_all()
        assert db.get(NotificationSettings, official.id).choices["case_feedback"] == []
    finally:
        db.close()
