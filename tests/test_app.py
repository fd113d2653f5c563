"""The app factory, configuration, errors, health check and response headers."""

import pytest

from majlis import create_app
from majlis.config import ConfigError, from_env


def test_production_refuses_missing_or_default_secret(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        from_env(str(tmp_path), {"MAJLIS_ENV": "production"})
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        from_env(str(tmp_path), {"MAJLIS_ENV": "production", "SECRET_KEY": "dev-only-not-secret"})
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        from_env(str(tmp_path), {"MAJLIS_ENV": "production", "SECRET_KEY": "short"})


def test_production_with_real_secret_is_hardened(tmp_path):
    config = from_env(str(tmp_path), {"MAJLIS_ENV": "production", "SECRET_KEY": "x" * 40})
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["MAJLIS_EMAIL_VERIFICATION"] == "required"


PRODUCTION = {"MAJLIS_ENV": "production", "SECRET_KEY": "x" * 40}


@pytest.mark.parametrize("secret", ["short", "x" * 31, "é" * 15 + "x"])
def test_production_refuses_a_jitsi_secret_shorter_than_32_bytes(tmp_path, secret):
    with pytest.raises(ConfigError, match="JITSI_APP_SECRET"):
        from_env(str(tmp_path), {**PRODUCTION, "JITSI_APP_SECRET": secret})


def test_a_jitsi_secret_of_32_bytes_is_accepted_and_development_is_lenient(tmp_path):
    assert from_env(str(tmp_path), {**PRODUCTION, "JITSI_APP_SECRET": "é" * 16})["JITSI_APP_SECRET"] == "é" * 16
    assert from_env(str(tmp_path), {"JITSI_APP_SECRET": "short"})["JITSI_APP_SECRET"] == "short"


def test_production_trusts_only_the_base_url_host_and_the_allowed_hosts(tmp_path):
    config = from_env(str(tmp_path), {**PRODUCTION, "MAJLIS_BASE_URL": "https://majlis.example.gov/",
                                      "MAJLIS_ALLOWED_HOSTS": " www.majlis.example.gov, Majlis.internal ,"})
    assert config["TRUSTED_HOSTS"] == ["majlis.example.gov", "www.majlis.example.gov", "majlis.internal"]
    assert config["MAJLIS_HSTS"] == "max-age=31536000"
    # a benchmark or smoke test on one machine: every loopback name reaches it
    loopback = from_env(str(tmp_path), {**PRODUCTION, "MAJLIS_BASE_URL": "http://127.0.0.1:8123"})
    assert loopback["TRUSTED_HOSTS"] == ["127.0.0.1", "localhost"]
    development = from_env(str(tmp_path), {"MAJLIS_BASE_URL": "https://majlis.example.gov"})
    assert development["TRUSTED_HOSTS"] is None and development["MAJLIS_HSTS"] is None


@pytest.mark.parametrize("base_url", ["http://majlis.example.gov", "https://", "majlis.example.gov"])
def test_production_refuses_a_public_base_url_without_https(tmp_path, base_url):
    with pytest.raises(ConfigError, match="MAJLIS_BASE_URL"):
        from_env(str(tmp_path), {**PRODUCTION, "MAJLIS_BASE_URL": base_url})


def test_development_defaults(tmp_path):
    config = from_env(str(tmp_path), {})
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/majlis.db"
    assert config["MAJLIS_TIMEZONE"] == "Asia/Bahrain"
    assert config["MAJLIS_EMAIL_VERIFICATION"] == "off"
    assert config["JITSI_SUB"] == "meet.jit.si"


@pytest.mark.parametrize("env, message", [
    ({"MAJLIS_TIMEZONE": "Mars/Olympus"}, "MAJLIS_TIMEZONE"),
    ({"MAJLIS_ENV": "staging"}, "MAJLIS_ENV"),
    ({"MAJLIS_EMAIL_VERIFICATION": "maybe"}, "MAJLIS_EMAIL_VERIFICATION"),
])
def test_bad_configuration_is_refused_with_the_variable_named(tmp_path, env, message):
    with pytest.raises(ConfigError, match=message):
        from_env(str(tmp_path), env)


def test_healthz_reports_database_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "up"}


@pytest.mark.parametrize("url", [
    "sqlite:////nonexistent-majlis-dir/sub/majlis.db",
    "postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=2",
])
def test_healthz_is_503_when_database_does_not_answer(tmp_path, url):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(tmp_path)})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "down"
    assert "Traceback" not in response.get_data(as_text=True)


def test_unknown_page_is_an_arabic_404_page_by_default(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html
    assert "لم نعثر على هذه الصفحة" in html


def test_unknown_page_in_english(client):
    html = client.get("/no-such-page?lang=en").get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in html
    assert "We could not find that page." in html


def test_errors_are_json_when_the_client_asks_for_json(client):
    response = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_api_errors_always_use_the_json_error_body(client):
    response = client.get("/api/v1/no-such-route")
    assert response.status_code == 404
    assert set(response.get_json()["error"]) == {"code", "message", "field"}


def test_unexpected_error_is_a_500_page_without_internals(app, client):
    @app.get("/boom-test")
    def boom():
        raise RuntimeError("secret internals")

    response = client.get("/boom-test", headers={"Accept": "application/json"})
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "server_error"
    assert "secret internals" not in response.get_data(as_text=True)


def test_every_response_carries_request_id_and_security_headers(client):
    response = client.get("/")
    assert len(response.headers["X-Request-ID"]) >= 8
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_log_lines_carry_the_request_id(app, client, caplog):
    @app.get("/log-test")
    def log_test():
        import logging

        logging.getLogger("majlis.test").info("hello from a view")
        return "ok"

    response = client.get("/log-test", headers={"X-Request-ID": "abcdef123456"})
    assert response.headers["X-Request-ID"] == "abcdef123456"
    record = next(r for r in caplog.records if r.getMessage() == "hello from a view")
    assert record.request_id == "abcdef123456"
