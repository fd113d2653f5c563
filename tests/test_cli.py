"""The majlis command through Click's runner: init-db, demo, create-user, token."""

from sqlalchemy import func, select

from majlis.auth.models import ApiToken, User
from majlis.directory.models import Area, GovernmentBody
from majlis.enums import Role, SeriesKind, Visibility
from majlis.sessions.models import MajlisSession, Series


def count(db, model):
    db.rollback()
    return db.scalar(select(func.count()).select_from(model))


def test_init_db_is_safe_to_run_twice(tmp_path):
    from majlis import create_app

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fresh.db'}",
                      "INSTANCE_PATH": str(tmp_path)})
    runner = app.test_cli_runner()
    first = runner.invoke(args=["init-db"])
    assert first.exit_code == 0 and "upgraded from empty" in first.output
    second = runner.invoke(args=["init-db"])
    assert second.exit_code == 0 and "already at revision" in second.output


def test_demo_loads_the_capital_governorate_once(runner, db):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "admin@demo.majlis" in first.output and "majlis-demo-2026" in first.output
    counts = {model: count(db, model) for model in (User, GovernmentBody, Area, Series, MajlisSession)}
    assert counts[GovernmentBody] >= 6 and counts[Area] >= 5
    assert {role for role in db.scalars(select(User.role))} == set(Role)
    kinds = {(s.kind, s.visibility) for s in db.scalars(select(Series))}
    assert kinds == {(SeriesKind.WEEKLY, Visibility.PUBLIC), (SeriesKind.COORDINATING, Visibility.INVITED)}
    assert counts[MajlisSession] >= 26  # 26 weeks of the weekly series, plus the monthly ones
    visit = db.scalar(select(MajlisSession).where(MajlisSession.kind == SeriesKind.FIELD_VISIT))
    assert (visit.format, visit.place_name_en, visit.in_person_capacity) == ("hybrid", "Hoora Community Centre", 60)
    names = db.scalars(select(GovernmentBody.name_ar)).all()
    assert all(any("\u0600" <= ch <= "\u06ff" for ch in name) for name in names)

    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0, second.output
    assert "0 records created" in second.output
    assert {model: count(db, model) for model in counts} == counts


def test_demo_users_can_sign_in(runner, client):
    runner.invoke(args=["demo"])
    response = client.post("/api/v1/auth/token", json={"email": "staff@demo.majlis", "password": "majlis-demo-2026"})
    assert response.status_code == 201


def test_demo_is_refused_in_production(app, runner, db):
    app.config["MAJLIS_ENV"] = "production"
    result = runner.invoke(args=["demo"])
    assert result.exit_code != 0
    assert count(db, User) == 0


def test_home_page_lists_the_demo_sessions_in_arabic(runner, client):
    runner.invoke(args=["demo"])
    html = client.get("/").get_data(as_text=True)
    listed = html[html.index('<ul class="cards">'):]  # the list, not the filter form (which names every kind)
    assert "المجلس الأسبوعي لمحافظ العاصمة" in listed
    assert "المجلس التنسيقي" not in listed  # invitation-only sessions are not listed to the public
    assert "هـ" in listed  # the Hijri date beside the Gregorian one


def test_create_user_with_each_role(runner, db, make_body):
    make_body(code="ewa")
    for role in ("resident", "moderator", "staff", "admin"):
        result = runner.invoke(args=["create-user", f"{role}@example.com", "--name", f"The {role}", "--role", role,
                                     "--password", "Strong-pass-2026"])
        assert result.exit_code == 0, result.output
    result = runner.invoke(args=["create-user", "official@example.com", "--name", "An official", "--role", "official",
                                 "--body", "ewa", "--password", "Strong-pass-2026"])
    assert result.exit_code == 0, result.output
    db.rollback()
    official = db.scalar(select(User).where(User.email == "official@example.com"))
    assert official.role == Role.OFFICIAL and official.body.code == "ewa" and official.is_verified


def test_create_user_refusals_change_nothing(runner, db, make_user):
    make_user(email="taken@example.com")
    cases = [
        (["create-user", "taken@example.com", "--name", "Dup", "--password", "Strong-pass-2026"], "email_taken"),
        (["create-user", "o@example.com", "--name", "Off", "--role", "official", "--password", "Strong-pass-2026"],
         "body"),
        (["create-user", "o@example.com", "--name", "Off", "--role", "official", "--body", "nope",
          "--password", "Strong-pass-2026"], "unknown_body"),
        (["create-user", "weak@example.com", "--name", "Weak", "--password", "12345678"], "weak_password"),
        (["create-user", "not-an-email", "--name", "Bad", "--password", "Strong-pass-2026"], "email"),
    ]
    for args, expected in cases:
        result = runner.invoke(args=args)
        assert result.exit_code != 0 and expected in result.output, (args, result.output)
    assert count(db, User) == 1


def test_token_command_prints_a_working_token(runner, client, make_user, db):
    user = make_user()
    result = runner.invoke(args=["token", user.email, "--label", "integration"])
    assert result.exit_code == 0
    token = result.output.strip()
    assert token.startswith("mj_")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()["id"] == user.id
    assert token not in [t.token_hash for t in db.scalars(select(ApiToken))]


def test_token_command_for_unknown_email_fails(runner):
    result = runner.invoke(args=["token", "nobody@example.com"])
    assert result.exit_code != 0 and "no account" in result.output


def test_the_installed_majlis_command_runs_end_to_end(database_url, tmp_path):
    """The real console script, as an operator runs it, against this engine."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    majlis = Path(sys.executable).parent / "majlis"
    env = {**os.environ, "DATABASE_URL": database_url, "MAJLIS_INSTANCE_PATH": str(tmp_path / "inst")}

    def run(*args):
        return subprocess.run([str(majlis), *args], env=env, capture_output=True, text=True, timeout=120)

    if database_url.startswith("sqlite"):
        # the fixture created the tables without Alembic; start from an empty file instead
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.db'}"
    else:
        from tests.test_db import _fresh_pg_database

        env["DATABASE_URL"] = _fresh_pg_database(database_url, "majlis_cli_check")
    assert run("init-db").returncode == 0
    assert run("demo").returncode == 0
    again = run("demo")
    assert again.returncode == 0 and "0 records created" in again.stdout
    created = run("create-user", "new.staff@example.com", "--name", "New Staff", "--role", "staff",
                  "--password", "Strong-pass-2026")
    assert created.returncode == 0, created.stderr
    token = run("token", "new.staff@example.com")
    assert token.returncode == 0 and token.stdout.strip().startswith("mj_")
    due = run("scheduler", "run-due")
    assert due.returncode == 0 and "deliver_outbox: ok" in due.stdout
    if database_url.startswith("postgresql"):
        from tests.test_db import _drop_pg_database

        _drop_pg_database(env["DATABASE_URL"])
