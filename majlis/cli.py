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
    from majlis.auth.views import account_policy

    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with unit_of_work() as db_session:
            user = services.create_user(db_session, email=email, name=name, role=Role(role), password=password,
                                        body_code=body_code, policy=account_policy(), now=utcnow())
    except MajlisError as exc:
        _fail(exc)
    click.echo(f"Created {user.role.value} {user.email} (id {user.id}).")


@click.command("token")
@click.argument("email")
@click.option("--label", default="cli", show_default=True, help="A name to recognise the token by.")
@with_appcontext
def token_command(email, label):
    """Create an API bearer token for EMAIL and print it (only its hash is stored)."""
    from sqlalchemy import select

    from majlis.auth import services
    from majlis.auth.models import User
    from majlis.auth.views import account_policy

    try:
        with unit_of_work() as db_session:
            user = db_session.scalar(select(User).where(User.email == services.normalize_email(email)))
            if user is None:
                raise click.ClickException(f"no account with the e-mail {email}")
            token, _record = services.issue_api_token(db_session, user, label=label, policy=account_policy(),
                                                      now=utcnow())
    except MajlisError as exc:
        _fail(exc)
    click.echo(token)


def register(app: Flask) -> None:
    for command in (init_db_command, demo_command, create_user_command, token_command):
        app.cli.add_command(command)
    from scheduler.cli import scheduler_command

    app.cli.add_command(scheduler_command)


def _create_app():
    from majlis import create_app

    return create_app()


main = FlaskGroup(create_app=_create_app, help="Majlis: the governorate's virtual majlis.")
