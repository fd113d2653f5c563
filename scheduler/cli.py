"""`majlis scheduler`, `majlis scheduler run-due` and `majlis scheduler status`."""

from __future__ import annotations

import sys

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
    """Run every job that is due now once, then exit (non-zero if a job failed)."""
    from scheduler.runner import run_due

    failed = False
    for job_id, result in run_due(current_app._get_current_object()).items():
        failed |= result == -1
        click.echo(f"{job_id}: {'failed' if result == -1 else f'ok ({result})'}")
    if failed:
        sys.exit(1)


@scheduler_command.command("status")
@with_appcontext
def status_command():
    """Print the heartbeats, the next planned transitions, the outbox backlog, the downloads of recordings and
    transcripts, and the minutes compile lag."""
    from scheduler.runner import status

    report = status(current_app._get_current_object())
    click.echo("Schedulers:")
    if not report["heartbeats"]:
        click.echo("  none has run yet")
    for node, leader, age in report["heartbeats"]:
        state = "leader" if leader else "standby"
        click.echo(f"  {node}: {state}, last heartbeat {age:.0f} s ago{'  (STALE)' if age > 60 else ''}")
    click.echo("Next planned transitions:")
    if not report["upcoming"]:
        click.echo("  none in the next 24 hours")
    for job in report["upcoming"]:
        click.echo(f"  {job.run_at.isoformat()}  {job.id}")
    click.echo("Outbox by channel:")
    for channel in report["outbox"]:
        line = f"  {channel.channel}: {channel.pending} pending"
        if channel.pending:
            age = (report["now"] - channel.oldest_pending_at).total_seconds()
            line += f" ({channel.retrying} waiting to retry), oldest {_age(age)} old"
        click.echo(f"{line}, {channel.failed} failed")
    downloads = report["downloads"]
    line = (f"Recordings and transcripts: {downloads.pending} to fetch ({downloads.retrying} waiting to retry), "
            f"{downloads.failed} failed")
    if downloads.last_error and (downloads.retrying or downloads.failed):
        line += f"; last error: {downloads.last_error}"
    click.echo(line)
    lag = report["lag"]
    if lag:
        click.echo(f"Minutes compile lag over {lag['count']} sessions: p50 {lag['p50']:.1f} s, "
                   f"p95 {lag['p95']:.1f} s, max {lag['max']:.1f} s")
    else:
        click.echo("Minutes compile lag: no minutes compiled yet")


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{max(seconds, 0):.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
