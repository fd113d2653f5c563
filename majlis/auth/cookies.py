"""The browser session cookie, opened only for requests that carry one.

Flask's default interface builds a signing serializer and a session for every request, and a bearer-token request
from the mobile app or an anonymous calendar poll has no use for either. Here a request without the cookie gets an
empty session at no cost (one is only signed if something is stored in it, a sign-in or a language choice), and an
API request with a bearer token gets a session that is never read from or written to a cookie: the token is its only
credential, so a cookie sent along with it can neither authenticate nor be changed by it.
"""

from __future__ import annotations

from flask.sessions import SecureCookieSession, SecureCookieSessionInterface


class StatelessSession(SecureCookieSession):
    """The session of a bearer-token request: usable during the request, never saved."""


class CookieSessionInterface(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self._serializer = None
        self._serializer_keys = None

    def get_signing_serializer(self, app):
        # Built once per secret (Flask builds one per request); tests and key rotation change the secret.
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if keys != self._serializer_keys:
            self._serializer = super().get_signing_serializer(app)
            self._serializer_keys = keys
        return self._serializer

    def open_session(self, app, request):
        if request.path.startswith("/api/") and request.headers.get("Authorization", "")[:7].lower() == "bearer ":
            return StatelessSession()
        if not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app, session, response) -> None:
        if isinstance(session, StatelessSession):
            return
        if not session and not session.modified:  # nothing to store, nothing to remove
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)
