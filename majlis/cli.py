"""The `majlis` command: a Flask CLI group built on create_app."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from majlis.db import get_database, unit_of_work
from majlis.enums import Role
from majlis.errors import MajlisError
from majlis.timeutil import utcnow


def _fail(exc: MajlisError) -> None:
    where = f" ({exc.field})" if exc.field else ""
    raise click.ClickException(f"{exc.code}{where}: {exc.message}")


@click.command("init-db")
@with_appcontext
def init_db_command():
    """Create or upgrade the database schema to the latest migration."""
    from majlis import migrations

    engine = get_database().engine
    before = migrations.current_revision(engine)
    migrations.upgrade(engine)
    after = migrations.current_revision(engine)
    if before == after:
        click.echo(f"Database already at revision {after}.")
    else:
        click.echo(f"Database upgraded from {before or 'empty'} to {after}.")


@click.command("demo")
@with_appcontext
def demo_command():
    """Load the Capital Governorate demo (safe to run twice) and print the demo logins."""
    from majlis import demo

    with unit_of_work() as db_session:
        report = demo.load(db_session, now=utcnow(), config=current_app.config)
    click.echo(f"Demo data: {report.created} records created, {report.existing} already there.")
    click.echo(f"Demo logins (password for all: {demo.DEMO_PASSWORD}):")
    for role, email in demo.DEMO_ACCOUNTS:
        click.echo(f"  {role:<10} {email}")


@click.command("create-user")
@click.argument("email")
@click.option("--name", required=True, help="Full name.")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.RESIDENT.value, show_default=True)
@click.option("--password", help="Password; asked for when omitted.")
@click.option("--body", "body_code", help="Government body code or id (officials only).")
@with_appcontext
def create_user_command(email, name, role, password, body_code):
    """Create a verified, active account with the given role."""
    from majlis.auth import services
    from majlis.auth.services import AccountPolicy

    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with unit_of_work() as db_session:
            user = services.create_user(db_session, email=email, name=name, role=Role(role), password=password,
                                        body_code=body_code, policy=AccountPolicy.from_config(current_app.config),
                                        now=utcnow())
    except MajlisError as exc:
        _fail(exc)
    click.echo(f"Created {user.role.value} {user.email} (id {user.id}).")


@click.command("token")
@click.argument("email")
@click.option("--label", default="cli", show_default=True, help="A name to recognise the token by.")
@with_appcontext
def token_command(email, label):
    """Create an API bearer token for EMAIL and print it (only its hash is stored)."""
    from flask import current_app
    from sqlalchemy import select

    from majlis.auth import services
    from majlis.auth.models import User
    from majlis.auth.services import AccountPolicy

    try:
        with unit_of_work() as db_session:
            user = db_session.scalar(select(User).where(User.email == services.normalize_email(email)))
            if user is None:
                raise click.ClickException(f"no account with the e-mail {email}")
            token, _record = services.issue_api_token(db_session, user, label=label,
                                                      policy=AccountPolicy.from_config(current_app.config),
                                                      now=utcnow())
    except MajlisError as exc:
        _fail(exc)
    click.echo(token)


@click.command("export-ics")
@click.option("--from", "from_day", help="First day, YYYY-MM-DD (local).")
@click.option("--to", "to_day", help="Last day, YYYY-MM-DD (local, inclusive).")
@click.option("--series", "series_id", type=int, help="Only this series.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write to FILE (default: stdout).")
@with_appcontext
def export_ics_command(from_day, to_day, series_id, output):
    """Export sessions as an iCalendar file (the staff export, with join links)."""
    from majlis.auth.models import User
    from majlis.calendar import services as calendar_services
    from majlis.db import get_db
    from majlis.sessions import services as session_services
    from majlis.timeutil import local_zone

    config = current_app.config
    ctx = calendar_services.FeedContext(base_url=config["MAJLIS_BASE_URL"], timezone=config["MAJLIS_TIMEZONE"],
                                        organizer_email=config["MAIL_DEFAULT_SENDER"])
    try:
        query = session_services.session_query({"from": from_day, "to": to_day, "series": series_id}, local_zone())
    except MajlisError as exc:
        _fail(exc)
    operator = User(role=Role.ADMIN)  # the CLI runs with the operator's full view
    count, body = calendar_services.export_calendar(get_db(), query, ctx, viewer=operator)
    if output:
        with open(output, "wb") as handle:
            handle.write(body)
        click.echo(f"Wrote {count} sessions to {output}.", err=True)
    else:
        click.echo(body, nl=False)  # bytes go to the binary stream as they are


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False))
@with_appcontext
def backup_command(file):
    """Write a consistent copy of the database to FILE (safe while Majlis runs)."""
    from majlis.backup import BackupError, backup

    try:
        backup(current_app.config["SQLALCHEMY_DATABASE_URI"], file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Backup written to {file}.")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(file, yes):
    """Replace the database's contents with the backup FILE (stop the web server and scheduler first)."""
    from majlis.backup import BackupError, restore

    if not yes:
        click.confirm("This replaces everything in the database with the backup. Continue?", abort=True)
    get_database().engine.dispose()
    try:
        restore(current_app.config["SQLALCHEMY_DATABASE_URI"], file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Database restored from {file}.")


@click.command("api-reference")
@click.option("-o", "output", type=click.Path(dir_okay=False, writable=True), help="Write to FILE (docs/api.md).")
def api_reference_command(output):
    """Print the API reference (docs/api.md) generated from the OpenAPI document."""
    from majlis.api.openapi import reference_markdown

    text = reference_markdown()
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        click.echo(text, nl=False)


def register(app: Flask) -> None:
    for command in (init_db_command, demo_command, create_user_command, token_command, export_ics_command,
                    backup_command, restore_command, api_reference_command):
        app.cli.add_command(command)
    from majlis.jitsi.cli import jitsi_config_command
    from majlis.notifications.cli import vapid_keys_command
    from scheduler.cli import scheduler_command

    app.cli.add_command(scheduler_command)
    app.cli.add_command(jitsi_config_command)
    app.cli.add_command(vapid_keys_command)


def _create_app():
    from majlis import create_app

    return create_app()


main = FlaskGroup(create_app=_create_app, help="Majlis: the governorate's virtual majlis.")
