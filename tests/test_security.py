"""Hardening through the real HTTP interface: CSRF, cookies, headers, proxies, secrets, privacy, outages."""

import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from majlis import create_app
from majlis.auth.models import User
from majlis.db import unit_of_work
from majlis.enums import RegistrationStatus, Role
from majlis.questions.models import Question
from majlis.registration.models import Registration
from tests import factories
from tests.conftest import form_post

UNAVAILABLE_AR = "الخدمة غير متاحة مؤقتًا ولم يُحفظ شيء. يرجى المحاولة مرة أخرى بعد بضع ثوانٍ."


# The one page POST without a CSRF token: a stop link is its own credential, and mail programs POST to it with one
# click (RFC 8058) from outside any session. Forged tokens are refused (tests/notifications/test_choices.py).
CSRF_EXEMPT = {"/stop/<token>"}


def _page_post_routes(app):
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods and not rule.rule.startswith("/api/") and rule.rule not in CSRF_EXEMPT:
            yield rule


def test_every_form_refuses_a_post_without_csrf_token(app, client, make_user, login_as):
    login_as(make_user(role=Role.ADMIN))
    checked = []
    for rule in _page_post_routes(app):
        url = re.sub(r"<(?:int:)?[a-z_]+>", "1", rule.rule)
        response = client.post(url, data={"x": "1"})
        assert response.status_code == 400, (rule.rule, response.status_code)
        checked.append(rule.rule)
    assert len(checked) >= 20  # every form of the app, not a sample


def test_production_cookies_are_secure_httponly_and_lax(monkeypatch, tmp_path, make_user, database_url):
    monkeypatch.setenv("MAJLIS_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "p" * 48)
    monkeypatch.setenv("MAJLIS_EMAIL_VERIFICATION", "off")
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "INSTANCE_PATH": str(tmp_path),
                      "MAJLIS_FAST_PASSWORD_HASH": True})
    user = make_user()
    client = app.test_client()
    response = form_post(client, "/login", {"email": user.email, "password": factories.PASSWORD, "remember": "y"})
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("session="))
    remember = next(c for c in cookies if c.startswith("remember_token="))
    for cookie in (session_cookie, remember):
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.fixture
def production_app(monkeypatch, tmp_path, database_url):
    """The app as production runs it, at https://majlis.example.gov with one more allowed host name."""
    monkeypatch.setenv("MAJLIS_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "p" * 48)
    monkeypatch.setenv("MAJLIS_BASE_URL", "https://majlis.example.gov")
    monkeypatch.setenv("MAJLIS_ALLOWED_HOSTS", "www.majlis.example.gov")
    monkeypatch.setenv("MAJLIS_EMAIL_VERIFICATION", "off")
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "INSTANCE_PATH": str(tmp_path),
                      "MAJLIS_FAST_PASSWORD_HASH": True})
    yield app
    app.extensions["majlis_db"].engine.dispose()


@pytest.mark.parametrize("host", ["evil.example", "majlis.example.gov.evil.example", "localhost", "127.0.0.1:8000"])
@pytest.mark.parametrize("path", ["/", "/login", "/api/v1/me", "/healthz"])
def test_production_refuses_any_other_host(production_app, host, path):
    client = production_app.test_client()
    page = client.get(path, headers={"Host": host})
    assert page.status_code == 400
    as_json = client.get(path, headers={"Host": host, "Accept": "application/json"})
    assert as_json.status_code == 400 and as_json.get_json()["error"]["code"] == "untrusted_host"
    if not path.startswith(("/api/", "/healthz")):
        assert page.mimetype == "text/html" and "evil" not in page.get_data(as_text=True)
    posted = client.post("/login", headers={"Host": host}, data={"email": "a@example.com", "password": "x"})
    assert posted.status_code == 400


@pytest.mark.parametrize("host", ["majlis.example.gov", "www.majlis.example.gov", "majlis.example.gov:443"])
def test_production_answers_its_own_hosts_with_hsts(production_app, host):
    response = production_app.test_client().get("/healthz", headers={"Host": host})
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    refused = production_app.test_client().get("/healthz", headers={"Host": "evil.example"})
    assert refused.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_development_sends_no_hsts_and_answers_any_host(client):
    response = client.get("/healthz", headers={"Host": "whatever.example"})
    assert response.status_code == 200 and "Strict-Transport-Security" not in response.headers


def test_production_on_a_loopback_base_url_answers_loopback_names(monkeypatch, tmp_path, database_url):
    """What the benchmark and the process tests do: production settings on 127.0.0.1."""
    monkeypatch.setenv("MAJLIS_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "p" * 48)
    monkeypatch.setenv("MAJLIS_BASE_URL", "http://127.0.0.1:8123")
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "INSTANCE_PATH": str(tmp_path)})
    client = app.test_client()
    for host in ("127.0.0.1:8123", "127.0.0.1", "localhost:8123"):
        assert client.get("/healthz", headers={"Host": host}).status_code == 200
    assert client.get("/healthz", headers={"Host": "majlis.example.gov"}).status_code == 400
    app.extensions["majlis_db"].engine.dispose()


@pytest.mark.parametrize("path", ["/", "/api/v1/me", "/calendar/majlis.ics", "/no-such-page", "/healthz"])
def test_security_headers_on_every_kind_of_response(client, path):
    response = client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp and "object-src 'none'" in csp


def test_pages_have_no_inline_scripts(client, make_user, login_as):
    login_as(make_user(role=Role.STAFF))
    for path in ("/", "/login", "/account", "/staff/", "/staff/series", "/staff/calendar", "/accountability"):
        html = client.get(path).get_data(as_text=True)
        for tag in re.findall(r"<script[^>]*>", html):
            assert "src=" in tag, (path, tag)
        assert " onclick=" not in html and "javascript:" not in html


def test_a_stolen_cookie_with_a_spoofed_forwarded_for_is_refused(app, make_user):
    user = make_user()
    victim = app.test_client()
    victim.environ_base["REMOTE_ADDR"] = "10.1.1.1"
    form_post(victim, "/login", {"email": user.email, "password": factories.PASSWORD})
    assert victim.get("/account").status_code == 200
    thief = app.test_client()
    thief.environ_base["REMOTE_ADDR"] = "192.0.2.66"
    thief.set_cookie("session", victim.get_cookie("session").value)
    response = thief.get("/account", headers={"X-Forwarded-For": "10.1.1.1"})
    assert response.status_code == 302  # session protection saw another address and dropped the session


def test_behind_a_trusted_proxy_the_forwarded_address_is_used(app_config, make_user):
    app = create_app({**app_config, "MAJLIS_TRUSTED_PROXIES": 1})
    user = make_user()
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "127.0.0.1"  # the proxy
    headers = {"X-Forwarded-For": "198.51.100.7"}
    form_post(client, "/login", {"email": user.email, "password": factories.PASSWORD}, headers=headers)
    assert client.get("/account", headers=headers).status_code == 200
    assert client.get("/account", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 302


def test_remember_me_dies_with_logout(app, make_user):
    user = make_user()
    client = app.test_client()
    form_post(client, "/login", {"email": user.email, "password": factories.PASSWORD, "remember": "y"})
    remember = client.get_cookie("remember_token").value
    form_post(client, "/logout", {}, page="/account")
    returning = app.test_client()
    returning.set_cookie("remember_token", remember)
    assert returning.get("/account").status_code == 302


def test_passwords_and_tokens_never_reach_the_logs(client, make_user, caplog):
    caplog.set_level(logging.DEBUG)
    user = make_user()
    password = factories.PASSWORD
    token = client.post("/api/v1/auth/token", json={"email": user.email, "password": password}).get_json()["token"]
    client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    client.post("/api/v1/auth/token", json={"email": user.email, "password": "Wrong-but-secret-9"})
    client.post("/api/v1/auth/signup", json={"email": "n@example.com", "name": "New", "password": "Another-secret-77"})
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in (password, token, "Wrong-but-secret-9", "Another-secret-77"):
        assert secret not in logged


def test_an_unreachable_database_gives_a_clear_503_page(tmp_path):
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path),
                      "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=2"})
    client = app.test_client()
    page = client.get("/")
    assert page.status_code == 503 and page.headers["Retry-After"]
    html = page.get_data(as_text=True)
    assert "Traceback" not in html and "psycopg" not in html
    assert UNAVAILABLE_AR in html
    api = client.get("/api/v1/sessions", headers={"Authorization": "Bearer x"})
    assert api.status_code == 503 and api.get_json()["error"]["code"] == "database_unavailable"


def test_a_resident_downloads_their_data(client, db, make_user, login_as):
    user = make_user(name="زينب")
    with unit_of_work(db):
        row = factories.majlis_session(db)
        db.add(Question(session_id=row.id, author_id=user.id, body="سؤالي عن الحديقة", created_at=row.created_at,
                        updated_at=row.created_at))
    login_as(user)
    response = client.get("/account/data.json")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    data = response.get_json()
    assert data["account"]["name"] == "زينب" and data["questions"][0]["body"] == "سؤالي عن الحديقة"


def test_deleting_an_account_erases_personal_data_and_keeps_questions_anonymous(client, db, make_user, login_as):
    now = datetime.now(UTC)
    user = make_user(name="زينب", phone="+97333000000")
    waiting = make_user()
    with unit_of_work(db):
        row = factories.majlis_session(db, capacity=1, starts_at=now + timedelta(days=2))
        db.add(Registration(session_id=row.id, user_id=user.id, status=RegistrationStatus.CONFIRMED, queued_at=now,
                            created_at=now, updated_at=now))
        db.add(Registration(session_id=row.id, user_id=waiting.id, status=RegistrationStatus.WAITLISTED,
                            queued_at=now + timedelta(seconds=1), created_at=now, updated_at=now))
        row.confirmed_count, row.waitlist_count = 1, 1
        db.add(Question(session_id=row.id, author_id=user.id, body="سؤال يبقى", created_at=now, updated_at=now))
    login_as(user)
    wrong = form_post(client, "/account/delete", {"password": "not-it-at-all"}, page="/account")
    assert wrong.status_code == 302
    db.rollback()
    db.expire_all()
    assert db.get(User, user.id).name == "زينب"
    done = form_post(client, "/account/delete", {"password": factories.PASSWORD}, page="/account")
    assert done.headers["Location"] == "/"
    db.rollback()
    db.expire_all()
    gone = db.get(User, user.id)
    assert gone.name != "زينب" and gone.phone is None and gone.email.endswith("@deleted.invalid") and gone.is_disabled
    question = db.scalar(select(Question))
    assert question.body == "سؤال يبقى" and question.is_anonymous
    assert db.scalar(select(Registration.status).where(Registration.user_id == waiting.id)) == \
        RegistrationStatus.CONFIRMED  # the freed seat went to the line
    assert client.get("/account").status_code == 302
    assert form_post(client, "/login", {"email": user.email, "password": factories.PASSWORD}).status_code == 401


def test_the_audit_log_is_for_admins(client, make_user, login_as, app, api_token):
    staff = make_user(role=Role.STAFF)
    client.post("/api/v1/sessions", headers=api_token(staff), json={
        "title_ar": "مجلس خاص", "title_en": "Special", "starts_at": "2030-01-01T18:00", "duration_minutes": 60,
        "capacity": 5})
    login_as(staff)
    assert client.get("/admin/audit").status_code == 403
    admin = app.test_client()
    form_post(admin, "/login", {"email": make_user(role=Role.ADMIN).email, "password": factories.PASSWORD})
    page = admin.get("/admin/audit")
    assert page.status_code == 200 and "تم إنشاء جلسة" in page.get_data(as_text=True)  # words, not codes
    english = admin.get("/admin/audit?lang=en").get_data(as_text=True)
    assert "<td title=\"session.create\">Session created</td>" in english
