"""`majlis jitsi-config`: the Prosody / docker-jitsi-meet settings that match Majlis's configuration."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from majlis.jitsi.services import settings_from_config
from majlis.jitsi.tokens import AUDIENCE


def _lobby_and_visitors(settings) -> None:
    """The lobby (moderators pass it by their token), visitors, and the events Majlis reads attendance from."""
    click.echo("")
    click.echo("# Lobby: residents wait until a moderator admits them; moderators' tokens carry")
    click.echo("# context.user.lobby_bypass = true, read by jitsi-contrib's token_lobby_bypass module")
    click.echo("ENABLE_LOBBY=1")
    click.echo("XMPP_MUC_MODULES=token_affiliation,token_lobby_bypass")
    click.echo("-- Prosody (Debian), on the conference Component:")
    click.echo('--   modules_enabled = { "token_verification", "token_affiliation", "muc_lobby_rooms", '
               '"token_lobby_bypass" }')
    click.echo("")
    click.echo("# Visitors (view-only overflow audiences, tokens with context.user.visitor = true):")
    if settings.visitors:
        click.echo("ENABLE_VISITORS=1")
        click.echo("# and one visitors' Prosody per ~2,000 viewers (docker-jitsi-meet: VISITORS_COUNT)")
    else:
        click.echo("# JITSI_VISITORS is off: residents without a seat watch the session's stream_url instead")
    click.echo("")
    click.echo("# Attendance from the room: jitsi-contrib's event_sync component posting to Majlis")
    click.echo('--   Component "esync.<your XMPP domain>" "event_sync_component"')
    click.echo('--     muc_component = "conference.<your XMPP domain>"')
    click.echo('--     api_prefix = "<MAJLIS_BASE_URL>/api/v1/jitsi"')
    click.echo('--     api_headers = { ["Authorization"] = "Bearer <the value of JITSI_EVENTS_TOKEN>" }')


def warnings_for(settings) -> list[str]:
    found = []
    if settings.profile is None:
        found.append("no token settings: set JITSI_APP_ID and JITSI_APP_SECRET (self-hosted) "
                     "or JITSI_JAAS_APP_ID, JITSI_JAAS_KID and JITSI_PRIVATE_KEY_FILE (JaaS)")
    if settings.profile == "self_hosted":
        if len(settings.app_secret) < 32:
            found.append("JITSI_APP_SECRET is shorter than 32 characters; use a random secret of at least 32 bytes")
        if settings.sub == settings.domain and "." in settings.domain and settings.domain != "meet.jitsi":
            found.append(f"JITSI_SUB is the public host {settings.domain!r}: Prosody matches `sub` against its XMPP "
                         "domain (meet.jitsi in docker-jitsi-meet, your VirtualHost on Debian) — set JITSI_SUB to it, "
                         "or to '*' only if you accept any domain")
    if settings.profile == "jaas":
        prefix = settings.jaas_kid.split("/", 1)[0]
        if prefix != settings.jaas_app_id:
            found.append(f"JITSI_JAAS_KID starts with {prefix!r} but JITSI_JAAS_APP_ID is {settings.jaas_app_id!r}: "
                         "JaaS rejects tokens whose kid prefix differs from sub")
        if not settings.jaas_app_id.startswith("vpaas-magic-cookie-"):
            found.append("JITSI_JAAS_APP_ID does not look like a JaaS AppID (vpaas-magic-cookie-…)")
    return found


@click.command("jitsi-config")
@with_appcontext
def jitsi_config_command():
    """Print the Jitsi settings that accept Majlis's tokens, and warn about mismatches."""
    settings = settings_from_config(current_app.config)
    if settings.profile == "jaas":
        click.echo("# 8x8 JaaS: upload the public key of JITSI_PRIVATE_KEY_FILE in the JaaS console as API key")
        click.echo(f"#   {settings.jaas_kid}")
        click.echo(f"# Rooms: https://8x8.vc/{settings.jaas_app_id}/<room>  (IFrame API from 8x8.vc)")
        click.echo("# Webhooks (JaaS console): <MAJLIS_BASE_URL>/api/v1/jitsi/events; its secret is "
                   "JITSI_WEBHOOK_SECRET")
        click.echo("# Lobby: turn it on in the console's meeting settings; moderators' tokens carry lobby_bypass")
    else:
        # The secret itself is never printed: operators copy it from where they keep it.
        secret = "<the value of JITSI_APP_SECRET>"  # noqa: S105 - a placeholder
        click.echo("# docker-jitsi-meet (.env)")
        click.echo("ENABLE_AUTH=1")
        click.echo("AUTH_TYPE=jwt")
        click.echo(f"JWT_APP_ID={settings.app_id or '<JITSI_APP_ID>'}")
        click.echo(f"JWT_APP_SECRET={secret}")
        click.echo(f"JWT_ACCEPTED_ISSUERS={settings.app_id or '<JITSI_APP_ID>'}")
        click.echo(f"JWT_ACCEPTED_AUDIENCES={AUDIENCE}")
        click.echo("JWT_ALLOW_EMPTY=0")
        click.echo("# moderator rights from the token (context.user.moderator) instead of 'first one in':")
        click.echo("ENABLE_AUTO_OWNER=0")
        click.echo("XMPP_MUC_MODULES=token_affiliation")
        click.echo("")
        click.echo("-- Prosody (Debian): the VirtualHost of your XMPP domain")
        click.echo('authentication = "token"')
        click.echo(f'app_id = "{settings.app_id or "<JITSI_APP_ID>"}"')
        click.echo(f'app_secret = "{secret}"')
        click.echo(f'asap_accepted_issuers = {{ "{settings.app_id or "<JITSI_APP_ID>"}" }}')
        click.echo(f'asap_accepted_audiences = {{ "{AUDIENCE}" }}')
        click.echo("-- and on the conference Component: modules_enabled = { \"token_verification\", "
                   "\"token_affiliation\" }")
        click.echo("-- jicofo.conf: jicofo { conference { enable-auto-owner = false } }")
        click.echo(f"-- tokens carry sub = {settings.sub!r}: it must equal the XMPP domain (or '*')")
    _lobby_and_visitors(settings)
    problems = warnings_for(settings)
    for problem in problems:
        click.echo(f"WARNING: {problem}", err=True)
