"""/api/v1/jitsi/events: the video service's events (JaaS webhooks, Prosody event-sync posts), one door.

These routes authenticate the sender themselves (a JaaS signature, or the shared event-sync token), not a user:
the blueprint's user authentication leaves them alone.
"""

from __future__ import annotations

import logging

from flask import current_app, jsonify, request
from flask_babel import lazy_gettext as _l

from majlis.api import bp, parse_json_object
from majlis.api.spec import VIDEO_SERVICE, documented, ok
from majlis.db import unit_of_work
from majlis.errors import InvalidInput, MajlisError, Unauthorized
from majlis.jitsi import events, webhooks
from majlis.jitsi.schemas import EventReceipt, EventSync, JaasEvent
from majlis.schema_types import N_
from majlis.security import constant_time_equals
from majlis.timeutil import utcnow

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024


class TooLarge(MajlisError):
    status = 413
    code = "too_large"
    default_message = _l("What you sent is too large.")


def _body() -> bytes:
    if (request.content_length or 0) > MAX_BODY:
        raise TooLarge()
    body = request.get_data(cache=True)
    if len(body) > MAX_BODY:
        raise TooLarge()
    return body


def _payload(body: bytes):
    return parse_json_object(body)  # the API's one JSON reader: depth, surrogates, NaN refused alike


def _apply(event: webhooks.VideoEvent):
    with unit_of_work() as db_session:
        outcome = events.receive(db_session, event, now=utcnow())
    return jsonify({"status": outcome})


@bp.post("/jitsi/events")
@documented(N_("Receive an event of the video service"), who=VIDEO_SERVICE, tag="video", public=True,
            description="JaaS webhooks (PARTICIPANT_JOINED, PARTICIPANT_LEFT, PARTICIPANT_JOINED_LOBBY, ROOM_CREATED, "
                        "ROOM_DESTROYED, RECORDING_UPLOADED, TRANSCRIPTION_UPLOADED, CHAT_UPLOADED...) with "
                        "`X-Jaas-Signature: t=<unix>,v1=<base64 HMAC-SHA256 of \"<t>.<body>\">` (older than 5 "
                        "minutes: 401), or Prosody event-sync posts with `Authorization: Bearer "
                        "<JITSI_EVENTS_TOKEN>`. A repeated idempotencyKey (or body) changes nothing. Joins and leaves "
                        "become attendance; uploads are fetched.",
            body=JaasEvent,
            params=({"name": "X-Jaas-Signature", "in": "header", "required": False,
                     "description": N_("The JaaS signature"), "schema": {"type": "string"}},),
            responses=ok(EventReceipt),
            errors={400: ["invalid_input", "bad_event"], 401: ["bad_signature"], 413: ["too_large"]})
def jitsi_events():
    """Receive a JaaS webhook (signed), or a Prosody event-sync post (the shared token)."""
    body = _body()
    if request.headers.get("Authorization") and not request.headers.get("X-Jaas-Signature"):
        return _event_sync(body)
    try:
        webhooks.verify_jaas_signature(request.headers.get("X-Jaas-Signature"), body,
                                       current_app.config.get("JITSI_WEBHOOK_SECRET"), now=utcnow())
    except webhooks.SignatureError as exc:
        log.warning("video event refused: %s", exc)
        raise Unauthorized(_l("The event's signature is missing, wrong or too old."), code="bad_signature") from None
    try:
        event = webhooks.parse_jaas(_payload(body))
    except webhooks.BadEvent as exc:
        raise InvalidInput(_l("This is not an event of the video service."), code="bad_event") from exc
    return _apply(event)


@bp.post("/jitsi/events/<path:event>")
@documented(N_("Receive a Prosody event-sync post"), who=VIDEO_SERVICE, tag="video", public=True, body=EventSync,
            responses=ok(EventReceipt),
            errors={400: ["invalid_input", "bad_event"], 401: ["bad_signature"], 413: ["too_large"]})
def jitsi_event_sync(event: str):
    """Receive Prosody's event-sync posts to `<api_prefix>/events/occupant/joined` and the like (the body says
    which)."""
    return _event_sync(_body())


def _event_sync(body: bytes):
    expected = current_app.config.get("JITSI_EVENTS_TOKEN")
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if not expected or scheme.lower() != "bearer" or not constant_time_equals(token.strip(), expected):
        log.warning("video event refused: no or a wrong event-sync token")
        raise Unauthorized(_l("The event's token is missing or wrong."), code="bad_signature")
    try:
        event = webhooks.parse_event_sync(_payload(body), body)
    except webhooks.BadEvent as exc:
        raise InvalidInput(_l("This is not an event of the video service."), code="bad_event") from exc
    return _apply(event)
