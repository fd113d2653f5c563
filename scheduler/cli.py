"""`majlis scheduler` and `majlis scheduler run-due`."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext


@click.group("scheduler", invoke_without_command=True)
@click.pass_context
@with_appcontext
def scheduler_command(ctx):
    """Run the scheduler process in the foreground until stopped."""
    if ctx.invoked_subcommand is None:
        from scheduler.runner import run_forever

        run_forever(current_app._get_current_object())


@scheduler_command.command("run-due")
@with_appcontext
def run_due_command():
    """Run every job that is due now once, then exit."""
    from scheduler.runner import run_due

    for job_id, result in run_due(current_app._get_current_object()).items():
        status = "failed" if result == -1 else f"ok ({result})"
        click.echo(f"{job_id}: {status}")
