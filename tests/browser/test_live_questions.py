"""Live questions in Chromium: a moderator approves, the resident's open page shows it without reloading."""

import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.browser.conftest import SOON, axe_violations, horizontal_overflow, sign_in
from tests.conftest import REDIS_SKIP_REASON, REDIS_URL
from tests.servers import gunicorn

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]


def test_an_approved_question_appears_on_the_residents_open_page(live_server, new_page):
    resident = new_page(360, 740)
    sign_in(resident, live_server, "resident@demo.majlis")
    resident.goto(f"{live_server}/sessions/{SOON['id']}")
    resident.locator("#question-body").fill("متى سيُفتتح المركز الصحي الجديد في السنابس؟")
    resident.locator("form.ask button[type=submit]").click()
    resident.wait_for_url(f"{live_server}/sessions/{SOON['id']}#questions-heading")
    assert axe_violations(resident) == []

    moderator = new_page(1280)
    sign_in(moderator, live_server, "moderator@demo.majlis")
    moderator.goto(f"{live_server}/sessions/{SOON['id']}/moderate")
    assert horizontal_overflow(moderator) <= 0 and axe_violations(moderator) == []
    # Matched by the question's own text (a card's "merge into…" list names the other questions too).
    card = moderator.locator("article.question",
                             has=moderator.locator(".question-body", has_text="المركز الصحي الجديد"))
    card.locator("button[data-shortcut=a]").click()

    # The resident's page changes by itself: the question is now public (no reload happened).
    marker = resident.evaluate("() => { window.notReloaded = true; return true; }")
    assert marker
    resident.locator("#live-questions li.question-approved", has_text="المركز الصحي الجديد").wait_for(timeout=10_000)
    assert resident.evaluate("window.notReloaded") is True


def test_a_page_refused_a_stream_keeps_up_by_polling(live_server, new_page):
    """The server refuses streams beyond its caps (503, Retry-After): the open page still follows the queue."""
    resident = new_page(360)
    sign_in(resident, live_server, "resident@demo.majlis")
    resident.route("**/events?*", lambda route: route.fulfill(status=503, headers={"Retry-After": "30"},
                                                               content_type="application/json", body="{}"))
    resident.goto(f"{live_server}/sessions/{SOON['id']}")
    resident.locator("#question-body").fill("هل ستُفتح مواقف إضافية قرب سوق المحرق؟")
    resident.locator("form.ask button[type=submit]").click()
    resident.wait_for_url(f"{live_server}/sessions/{SOON['id']}#questions-heading")
    resident.evaluate("window.notReloaded = true")

    moderator = new_page(1280)
    sign_in(moderator, live_server, "moderator@demo.majlis")
    moderator.goto(f"{live_server}/sessions/{SOON['id']}/moderate")
    moderator.locator("article.question", has=moderator.locator(".question-body", has_text="سوق المحرق")).locator(
        "button[data-shortcut=a]").click()

    resident.locator("#live-questions li.question-approved", has_text="سوق المحرق").wait_for(timeout=15_000)
    assert resident.evaluate("window.notReloaded") is True


def test_moderator_keyboard_shortcuts(live_server, new_page):
    resident = new_page(360)
    sign_in(resident, live_server, "resident@demo.majlis")
    resident.goto(f"{live_server}/sessions/{SOON['id']}")
    resident.locator("#question-body").fill("هل يمكن زيادة الإنارة في شارع الحورة؟")
    resident.locator("form.ask button[type=submit]").click()

    moderator = new_page(1280)
    sign_in(moderator, live_server, "moderator@demo.majlis")
    moderator.goto(f"{live_server}/sessions/{SOON['id']}/moderate")
    card = moderator.locator("article.question",
                             has=moderator.locator(".question-body", has_text="الإنارة في شارع الحورة"))
    card.focus()
    moderator.keyboard.press("a")
    moderator.wait_for_load_state()
    moderator.locator("#approved-heading").wait_for()
    approved = moderator.locator("section[aria-labelledby=approved-heading] article",
                                 has=moderator.locator(".question-body", has_text="الإنارة"))
    approved.wait_for()
    assert approved.count() == 1


@pytest.fixture
def two_workers_with_redis(tmp_path):
    """gunicorn with two worker processes (threads for the streams) sharing one SQLite file and Redis."""
    if not REDIS_URL:
        pytest.skip(REDIS_SKIP_REASON)
    from zoneinfo import ZoneInfo

    from majlis import create_app
    from majlis.auth.services import AccountPolicy, issue_api_token
    from majlis.db import Base, Database, unit_of_work
    from majlis.enums import Role
    from majlis.registration.services import register
    from majlis.sessions.services import create_one_off
    from tests import factories

    url = f"sqlite:///{tmp_path / 'majlis.db'}"
    database = Database(url)
    import majlis.models  # noqa: F401

    Base.metadata.create_all(database.engine)
    now = datetime.now(UTC)
    db = database.session_factory()
    setup_app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(tmp_path), "MAIL_BACKEND": "null"})
    with setup_app.app_context(), unit_of_work(db):
        resident = factories.user(db, email="live.resident@example.com", name="مقيم")
        moderator = factories.user(db, email="live.moderator@example.com", role=Role.MODERATOR)
        row = create_one_off(db, {"title_ar": "مجلس مباشر", "title_en": "Live majlis", "capacity": 10,
                                  "duration_minutes": 60, "starts_at": (now + timedelta(minutes=5)).isoformat(),
                                  "registration_opens_at": (now - timedelta(days=1)).isoformat(),
                                  "registration_closes_at": (now + timedelta(minutes=4)).isoformat()},
                             actor=None, zone=ZoneInfo("Asia/Bahrain"), now=now)
        register(db, row.id, resident, now=now)
        policy = AccountPolicy(verification_required=False, secret_key="x", fast_hash=True)
        tokens = {who: issue_api_token(db, user, label="live", policy=policy, now=now)[0]
                  for who, user in (("resident", resident), ("moderator", moderator))}
    session_id = row.id
    db.close()
    database.engine.dispose()

    env = {"DATABASE_URL": url, "REDIS_URL": REDIS_URL, "MAJLIS_INSTANCE_PATH": str(tmp_path), "MAIL_BACKEND": "null"}
    with gunicorn(env, tmp_path / "gunicorn.log", workers=2, threads=8) as base:
        yield base, session_id, tokens


def _api(base, path, token, payload):
    import json

    request = urllib.request.Request(base + path, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_live_update_across_two_gunicorn_workers_through_redis(two_workers_with_redis, new_page):
    base, session_id, tokens = two_workers_with_redis
    question = _api(base, f"/api/v1/sessions/{session_id}/questions", tokens["resident"],
                    {"body": "سؤال عبر عاملين وخادم Redis"})
    page = new_page(360)
    page.goto(f"{base}/sessions/{session_id}")
    page.wait_for_function("() => document.querySelector('#live-questions') !== null")
    assert page.locator("#live-questions li", has_text="سؤال عبر عاملين").count() == 0
    page.evaluate("() => { window.notReloaded = true; }")
    # Several approvals from separate requests: whichever worker serves them, the page's stream hears Redis.
    _api(base, f"/api/v1/questions/{question['id']}/moderation", tokens["moderator"], {"action": "approve"})
    page.locator("#live-questions li", has_text="سؤال عبر عاملين").wait_for(timeout=10_000)
    _api(base, f"/api/v1/questions/{question['id']}/moderation", tokens["moderator"], {"action": "on_air"})
    page.locator("#live-questions li.question-on_air", has_text="سؤال عبر عاملين").wait_for(timeout=10_000)
    assert page.evaluate("window.notReloaded") is True


@pytest.mark.parametrize("width, side_by_side", [(1600, True), (360, False)])
def test_the_console_uses_a_wide_screen(live_server, new_page, width, side_by_side):
    """On a wide screen the console shows on air, waiting and approved side by side; on a phone, one column."""
    moderator = new_page(width)
    sign_in(moderator, live_server, "moderator@demo.majlis")
    moderator.goto(f"{live_server}/sessions/{SOON['id']}/moderate?lang=en")
    boxes = {name: moderator.locator(f"section.col-{name}").bounding_box()
             for name in ("on-air", "pending", "approved")}
    tops = {round(box["y"]) for box in boxes.values()}
    assert (len(tops) == 1) is side_by_side
    if side_by_side:
        assert boxes["pending"]["width"] < width / 2  # a column, not the whole line
    assert horizontal_overflow(moderator) <= 0 and axe_violations(moderator) == []
