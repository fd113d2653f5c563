"""`majlis vapid-keys`: a new key pair for Web Push."""

from __future__ import annotations

import click


@click.command("vapid-keys")
def vapid_keys_command():
    """Print a new VAPID key pair for Web Push, as the two settings to export."""
    from majlis.notifications.push import new_vapid_keys

    public, private = new_vapid_keys()
    click.echo(f"MAJLIS_VAPID_PUBLIC_KEY={public}")
    click.echo(f"MAJLIS_VAPID_PRIVATE_KEY={private}")
