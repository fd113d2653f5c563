"""A live Majlis (SQLite, demo data) served on loopback, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from majlis import create_app
from majlis.db import Base, get_database, make_engine, unit_of_work

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
AXE_JS = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
REQUIRED = os.environ.get("MAJLIS_REQUIRE_BROWSER") == "1"
SKIP_REASON = "browser tests skipped: install Debian's chromium (apt-get install chromium) to run them"


def _browser_available() -> bool:
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        return False
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(scope="session")
def browser():
    if not _browser_available():
        if REQUIRED:
            pytest.fail("MAJLIS_REQUIRE_BROWSER=1 but Chromium or Playwright is missing")
        pytest.skip(SKIP_REASON)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


STUB_EXTERNAL_API = b"""
// A stand-in for Jitsi's external_api.js (no internet in tests): records the call, frames a blank page.
window.JitsiMeetExternalAPI = function (domain, options) {
  window.jitsiCall = {domain: domain, roomName: options.roomName, jwt: options.jwt, lang: options.lang,
                      displayName: options.userInfo && options.userInfo.displayName};
  var frame = document.createElement("iframe");
  frame.title = "Jitsi Meet";
  frame.style.width = "100%";
  frame.style.height = "100%";
  options.parentNode.appendChild(frame);
};
"""


@pytest.fixture(scope="session")
def jitsi_stub():
    """Serve the stand-in external_api.js on loopback; return its URL."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's hook name
            self.send_response(200)
            self.send_header("Content-Type", "application/javascript")
            self.end_headers()
            self.wfile.write(STUB_EXTERNAL_API)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/external_api.js"
    server.shutdown()


JITSI_TEST_SECRET = "browser-test-secret-" + "q" * 32


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, browser, jitsi_stub):
    """Serve a demo-loaded Majlis on a free loopback port for the whole browser session."""
    folder = tmp_path_factory.mktemp("live")
    url = f"sqlite:///{folder / 'majlis.db'}"
    engine = make_engine(url)
    import majlis.models  # noqa: F401

    Base.metadata.create_all(engine)
    engine.dispose()
    from majlis.notifications.push import new_vapid_keys

    vapid_public, vapid_private = new_vapid_keys()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(folder), "MAIL_BACKEND": "null",
                      "MAJLIS_FAST_PASSWORD_HASH": True,
                      "JITSI_DOMAIN": "meet.capital.example", "JITSI_APP_ID": "majlis",
                      "JITSI_APP_SECRET": JITSI_TEST_SECRET, "JITSI_SUB": "meet.jitsi",
                      "JITSI_EXTERNAL_API_URL": jitsi_stub,
                      "MAJLIS_VAPID_PUBLIC_KEY": vapid_public, "MAJLIS_VAPID_PRIVATE_KEY": vapid_private})
    LIVE_APP["app"] = app  # for tests that change data behind the pages (as another user's request would)
    from majlis import demo

    now = datetime.now(UTC)
    with app.app_context(), unit_of_work(get_database(app).session_factory()) as db_session:
        demo.load(db_session, now=now, config=app.config)
        _session_starting_soon(db_session, now)
        _overflowing_session(db_session, now)
        _cases_from_every_channel(db_session, now, app.config["SECRET_KEY"])
    LIVE["app"] = app
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _session_starting_soon(db_session, now):
    """A one-off session starting in five minutes, with the demo resident confirmed: its room is open."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from sqlalchemy import select

    from majlis.auth.models import User
    from majlis.registration.services import register
    from majlis.sessions.services import create_one_off

    row = create_one_off(db_session, {
        "title_ar": "مجلس يبدأ قريبًا", "title_en": "A majlis starting soon", "capacity": 10, "duration_minutes": 60,
        "starts_at": (now + timedelta(minutes=5)).isoformat(),
        "registration_opens_at": (now - timedelta(days=1)).isoformat(),
        "registration_closes_at": (now + timedelta(minutes=4)).isoformat()},
        actor=None, zone=ZoneInfo("Asia/Bahrain"), now=now)
    resident = db_session.scalar(select(User).where(User.email == "resident@demo.majlis"))
    register(db_session, row.id, resident, now=now)
    SOON["id"] = row.id
    _history(db_session, resident, now)


def _history(db_session, resident, now):
    """A session held last week: an answered question that became a case, and published minutes."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from sqlalchemy import select

    from majlis.auth.models import User
    from majlis.directory.models import GovernmentBody
    from majlis.enums import QuestionStatus, Role
    from majlis.followups.services import open_case
    from majlis.minutes import services as minutes
    from majlis.questions.models import Question
    from majlis.sessions import lifecycle
    from majlis.sessions.services import create_one_off

    held = create_one_off(db_session, {
        "title_ar": "مجلس الأسبوع الماضي", "title_en": "Last week's majlis", "capacity": 10, "duration_minutes": 60,
        "starts_at": (now - timedelta(days=7)).isoformat(),
        "registration_opens_at": (now - timedelta(days=14)).isoformat(),
        "registration_closes_at": (now - timedelta(days=7, minutes=5)).isoformat()},
        actor=None, zone=ZoneInfo("Asia/Bahrain"), now=now - timedelta(days=14))
    question = Question(session_id=held.id, author_id=resident.id, body="متى يُصلح الطريق المؤدي إلى المدرسة؟",
                        status=QuestionStatus.ANSWERED, answer_note="خلال أسبوعين", created_at=now, updated_at=now)
    db_session.add(question)
    db_session.flush()
    office = db_session.scalar(select(User).where(User.role == Role.MODERATOR))
    staff = db_session.scalar(select(User).where(User.role == Role.STAFF))
    works = db_session.scalar(select(GovernmentBody).where(GovernmentBody.code == "works"))
    case = open_case(db_session, question, office, body_id=works.id, now=now, zone=ZoneInfo("Asia/Bahrain"))
    # Asked anonymously: the body sees "a resident" until the resident agrees to be contacted.
    anonymous = Question(session_id=held.id, author_id=resident.id, body="الإنارة في الحديقة العامة معطلة ليلًا",
                         status=QuestionStatus.ANSWERED, is_anonymous=True, created_at=now, updated_at=now)
    db_session.add(anonymous)
    db_session.flush()
    CASES["anonymous"] = open_case(db_session, anonymous, office, body_id=works.id, now=now,
                                   zone=ZoneInfo("Asia/Bahrain")).id
    lifecycle.mark_ended(db_session, held.id, now=now)
    minutes.compile_minutes(db_session, held.id, now=now, zone=ZoneInfo("Asia/Bahrain"))
    minutes.approve(db_session, held, staff, now=now)
    minutes.publish(db_session, held, staff, now=now)
    HISTORY.update(session=held.id, case=case.id)


HISTORY: dict = {}
LIVE_APP: dict = {}
LIVE: dict = {}  # the live server's app, for tests that change its configuration or data while it runs
OVERFLOW: dict = {}
FOLLOWER_PASSWORD = "majlis-follower-2026"


def _overflowing_session(db_session, now):
    """A live session with one seat, taken; two residents in line: one follows, one has a question on air."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from majlis.questions import services as questions
    from majlis.registration.services import register
    from majlis.sessions.services import create_one_off

    row = create_one_off(db_session, {
        "title_ar": "مجلس ممتلئ المقاعد", "title_en": "A full majlis", "capacity": 1, "duration_minutes": 90,
        "starts_at": (now - timedelta(minutes=10)).isoformat(),
        "registration_opens_at": (now - timedelta(days=2)).isoformat(),
        "registration_closes_at": (now - timedelta(minutes=30)).isoformat(),
        "stream_url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ"},
        actor=None, zone=ZoneInfo("Asia/Bahrain"), now=now - timedelta(days=2))
    from tests import factories

    people = [factories.user(db_session, password=FOLLOWER_PASSWORD, email=f"{who}@demo.majlis", name=name)
              for who, name in (("seated", "سلمان"), ("follower", "نورة الحداد"), ("caller", "حسن"))]
    for person in people:
        register(db_session, row.id, person, now=now - timedelta(days=1))
    office = _moderator(db_session)
    question = questions.ask(db_session, row, people[2], body="متى تُنار طريق سترة الرئيسي؟", now=now)
    questions.moderate(db_session, question, office, action="approve", now=now)
    questions.moderate(db_session, question, office, action="on_air", now=now)
    OVERFLOW.update(id=row.id)


def _moderator(db_session):
    from sqlalchemy import select

    from majlis.auth.models import User
    from majlis.enums import Role

    return db_session.scalar(select(User).where(User.role == Role.MODERATOR))


def _cases_from_every_channel(db_session, now, secret):
    """A season of cases: opened by channel over four months, some resolved on time or late, some answered,
    two requests waiting for triage, and a resolved one whose resident has a "was it fixed?" link."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from sqlalchemy import select

    from majlis.auth.models import User
    from majlis.directory.models import Area
    from majlis.enums import CaseChannel, Role
    from majlis.followups import services
    from majlis.followups.links import feedback_token
    from majlis.followups.models import Case, CaseCategory

    zone = ZoneInfo("Asia/Bahrain")
    resident = db_session.scalar(select(User).where(User.email == "resident@demo.majlis"))
    office = db_session.scalar(select(User).where(User.role == Role.MODERATOR))
    official = db_session.scalar(select(User).where(User.email == "official@demo.majlis"))
    areas = db_session.scalars(select(Area.id).order_by(Area.id)).all()
    plan = [  # days ago opened, channel, category, days to resolve (None: still open), answer
        (110, CaseChannel.MAJLIS, "roads-potholes", 9, "fixed"),
        (95, CaseChannel.PHONE, "street-lighting", 20, "not_fixed"),
        (80, CaseChannel.APP, "sewage-overflow", 2, "fixed"),
        (70, CaseChannel.FIELD_VISIT, "rainwater-drainage", None, None),
        (60, CaseChannel.WEBSITE, "street-lighting", 6, "partly_fixed"),
        (45, CaseChannel.SOCIAL_MEDIA, "roads-potholes", None, None),
        (30, CaseChannel.EMAIL, "sewage-overflow", 12, None),
        (20, CaseChannel.PHONE, "street-lighting", None, None),
        (8, CaseChannel.APP, "roads-potholes", 4, None),
    ]
    for number, (days_ago, channel, category, resolve_after, answer) in enumerate(plan):
        opened = now - timedelta(days=days_ago)
        code = db_session.scalar(select(CaseCategory).where(CaseCategory.code == category))
        case = services.open_channel_case(db_session, {
            "channel": channel.value, "body_id": code.body_id, "category": category, "resident_id": resident.id,
            "description": f"ملاحظة رقم {number + 1} من جولة الأحياء", "area_id": areas[number % len(areas)]},
            office, now=opened, zone=zone)
        if resolve_after is not None:
            services.add_update(db_session, case, official, text="تمت المعالجة", status="resolved",
                                now=opened + timedelta(days=resolve_after))
            if answer is not None:
                services.give_feedback(db_session, case, resident, outcome=answer, rating=4 if answer == "fixed" else 2,
                                       now=opened + timedelta(days=resolve_after + 3))
    for text in ("الرصيف مكسور أمام مدرسة الجفير", "تسرب مياه في شارع 17 منذ يومين"):
        services.submit_request(db_session, {"category": "water-leak", "description": text}, resident,
                                channel=CaseChannel.WEBSITE, now=now - timedelta(hours=5), zone=zone)
    waiting = services.open_channel_case(db_session, {
        "channel": "phone", "body_id": official.body_id, "category": "street-lighting", "resident_id": resident.id,
        "description": "عمود إنارة مائل في طريق 28"}, office, now=now - timedelta(days=5), zone=zone)
    services.add_update(db_session, waiting, official, text="تم تثبيت العمود", status="resolved",
                        now=now - timedelta(days=1))
    db_session.flush()
    CASES.update(resolved=waiting.id, token=feedback_token(secret, case_id=waiting.id, round=0,
                                                           resident_id=resident.id, now=now),
                 count=db_session.query(Case).count())


CASES: dict = {}


SOON: dict = {}


def sign_in(page, base: str, email: str, password: str = "majlis-demo-2026") -> None:
    page.goto(base + "/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(base + "/")


@pytest.fixture
def new_page(browser):
    contexts = []

    def make(width: int, height: int = 800):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="ar-BH")
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def axe_violations(page, impacts=("serious", "critical")) -> list[dict]:
    """Run axe-core in the page and return its serious and critical violations."""
    page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in impacts
    ]


def horizontal_overflow(page) -> int:
    """How many pixels the page is wider than the viewport (0 when nothing scrolls sideways)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
