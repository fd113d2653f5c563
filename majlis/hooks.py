"""What runs around every request: one hook before and one after, each doing only what the request needs.

The extensions (Flask-WTF, Flask-Limiter, Flask-Login) are set up as usual; their per-request hooks are taken off
the app and called from Majlis's own hooks only when the request is one they act on (why: bench/ANALYSIS.md, 7).
"""

from __future__ import annotations

import os

from flask import Flask, g, request, session

from majlis.errors import InvalidInput
from majlis.extensions import csrf, limiter, login_manager

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_FORMS = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def current_request_id() -> str:
    """This request's id: the caller's X-Request-ID when it looks like one (8–64 letters and digits), else a new
    one; made on first use (a log line or the response), once."""
    rid = g.get("request_id")
    if rid is None:
        incoming = request.headers.get("X-Request-ID", "")
        rid = g.request_id = incoming if 8 <= len(incoming) <= 64 and incoming.isalnum() else os.urandom(8).hex()
    return rid


def _taken(app: Flask, setup) -> dict:
    """Run an extension's `init_app`, and take the request hooks it registered off the app (returned by kind)."""
    kinds = {"before": app.before_request_funcs, "after": app.after_request_funcs,
             "teardown": app.teardown_request_funcs}
    counts = {kind: len(funcs.setdefault(None, [])) for kind, funcs in kinds.items()}
    setup(app)
    taken = {}
    for kind, funcs in kinds.items():
        taken[kind] = funcs[None][counts[kind]:]
        del funcs[None][counts[kind]:]
    return taken


def _refuse_nul() -> None:
    """Text with a NUL character is never valid input (PostgreSQL cannot store it): 400, nothing written."""
    # A NUL reaches the query's values only as %00 (or raw): most requests are passed on without decoding them.
    query = request.query_string
    sources = [request.args] if b"%00" in query or b"\x00" in query else []
    if request.mimetype in _FORMS:
        sources.append(request.form)
    for values in sources:
        for key, value in values.items(multi=True):
            if "\x00" in value or "\x00" in key:
                raise InvalidInput(field=key)


def install(app: Flask, security_headers) -> None:
    """Set up CSRF, rate limits and sign-in with one hook before and one after each request; `security_headers()`
    gives the headers every response carries (a cached function of the configuration)."""
    csrf_hooks = _taken(app, csrf.init_app)
    limiter_hooks = _taken(app, limiter.init_app)
    login_hooks = _taken(app, login_manager.init_app)
    # Per-view limits are checked by their decorators; the app-wide check would search every request and find none.
    if [hook for hook in limiter_hooks["before"] if hook != limiter._check_request_limit]:
        raise RuntimeError("Flask-Limiter registered a request hook Majlis does not know: check majlis/hooks.py")
    views = app.view_functions

    def rate_limited() -> bool:
        view = views.get(request.endpoint) if request.endpoint else None
        return getattr(view, "majlis_rate_limited", False)

    @app.before_request
    def _before():
        if request.method in UNSAFE_METHODS:
            for hook in csrf_hooks["before"]:  # it applies the blueprints' and views' exemptions itself
                hook()
        _refuse_nul()

    @app.after_request
    def _after(response):
        if rate_limited():  # the limit's headers and its deductions after the answer (e.g. failed sign-ins)
            for hook in limiter_hooks["after"]:
                response = hook(response)
            for hook in limiter_hooks["teardown"]:  # its state lives on the request, which ends with the response
                hook(None)
        if session:  # the remember-me cookie follows a signed-in session
            for hook in login_hooks["after"]:
                response = hook(response)
        headers = response.headers
        present = {name.lower() for name, _ in headers}  # a route may set its own Referrer-Policy or CSP
        headers.extend([header for header in security_headers() if header[0].lower() not in present])
        headers.add("X-Request-ID", current_request_id())
        return response
