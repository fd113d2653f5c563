"""The authorization matrix: every route (pages and /api/v1) × every role, with the status each one must get.

One small world is built per route (function scope); the route's rows (its variants: a public or an invitation-only
session, draft or published minutes, a live or revoked feed secret, ...) are then tried for the eight roles in turn
and every mismatch is collected, so a failure lists all the cells that differ. A cell holds:

- an exact status (e.g. 200, 401, 403, 404, 302);
- LOGIN: a redirect (302) to the sign-in page, which is how `@login_required` pages answer anonymous visitors;
- ALLOWED: the request got past authorization (anything but 401, 403, 404 and server errors). Used for the permitted
  cells of state-changing routes, whose status (200/201/204/400/409) depends on what earlier roles already did.

The roles, always tried in this order:

- anonymous: no session, no bearer token;
- resident: the owner: registered for the sessions, author of the questions, the case's resident, owner of the
  personal feed secret and of a spare API token;
- other_resident: a resident who owns none of those;
- official: an official of body A, which the case is assigned to and which is invited to the coordinating session;
- other_official: an official of body B (neither the case nor the invitation);
- moderator, staff, admin.

API routes are called with `Authorization: Bearer` headers (anonymous: none, so 401). Pages are called with a test
client per role, signed in through the real login form. Page POSTs are included: they carry the CSRF token of the
client's own session (taken once per client from a page with a form). Note that most page POSTs flash a domain
refusal (e.g. an official trying to register) and redirect, so for those the matrix shows only the sign-in and role
gates and the object-level 404s; what the service refuses behind the redirect is covered by the feature tests.

Cells marked `# BUG:` record the current (wrong) status of a known authorization defect, so the test stays green;
fix the product, then the cell. A leak the statuses cannot show (what a list contains) is a strict xfail that states
the right behaviour: it starts failing, as a reminder to drop the marker, once the product is fixed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest

from majlis.db import unit_of_work
from majlis.enums import CaseChannel, QuestionStatus, RegistrationStatus, Role, SeriesKind, SessionStatus, Visibility
from majlis.followups.models import CaseCategory
from majlis.questions.models import Question
from majlis.registration.models import Registration
from majlis.security import hash_password
from majlis.sessions.models import Invitation
from tests import factories
from tests.conftest import csrf_token_from, form_post

ROLES = ("anonymous", "resident", "other_resident", "official", "other_official", "moderator", "staff", "admin")
LOGIN = "LOGIN"
ALLOWED = "ALLOWED"


def cells(default, **overrides) -> dict:
    """The expected answer for every role: `default`, except the roles named."""
    unknown = set(overrides) - set(ROLES)
    assert not unknown, f"unknown roles {unknown}"
    return {role: overrides.get(role, default) for role in ROLES}


# Common shapes of the matrix.
def api_any(ok=200):
    return cells(ok, anonymous=401)


def api_staff(ok):
    return cells(403, anonymous=401, staff=ok, admin=ok)


def api_office(ok):
    """Moderators and staff (admins always pass)."""
    return cells(403, anonymous=401, moderator=ok, staff=ok, admin=ok)


def page_login(ok):
    return cells(ok, anonymous=LOGIN)


def page_staff(ok):
    return cells(403, anonymous=401, staff=ok, admin=ok)


def page_office(ok):
    return cells(403, anonymous=401, moderator=ok, staff=ok, admin=ok)


def invited_read(ok=200, anonymous=404):
    """The invitation-only session: hidden (404) from residents who are not invited; officials and the office see it."""
    return cells(ok, anonymous=anonymous, resident=404, other_resident=404)


def own_case(ok, anonymous):
    """The case: its resident, its body's officials and the office; 404 for everyone else."""
    return cells(ok, anonymous=anonymous, other_resident=404, other_official=404)


@dataclass(frozen=True)
class Lit:
    """A literal value for a rule variable (instead of a key of the world)."""

    value: str


@dataclass(frozen=True)
class Route:
    method: str
    rule: str
    expect: dict
    args: dict = field(default_factory=dict)  # rule variable -> world key, or Lit
    body: object = None  # JSON (API) or form fields (pages); or a callable (world, role) -> dict
    label: str = ""

    @property
    def is_api(self) -> bool:
        return self.rule.startswith("/api/")

    def path(self, world: dict) -> str:
        def value(match: re.Match) -> str:
            ref = self.args[match.group(1)]
            return ref.value if isinstance(ref, Lit) else str(world[ref])

        return re.sub(r"<(?:[^<>]*:)?(\w+)>", value, self.rule)

    def payload(self, world: dict, role: str):
        return self.body(world, role) if callable(self.body) else self.body


PUBLIC = {"session_id": "public"}  # public, live now, registration open; the resident holds a seat
UPCOMING = {"session_id": "upcoming"}  # public, in two days; the resident holds a seat
INVITED = {"session_id": "invited"}  # coordinating, invitation-only (body A invited), live now
PAST = {"session_id": "past"}  # ended, with published minutes
INVITED_PAST = {"session_id": "invited_past"}  # coordinating, invitation-only (body A invited), ended, published
CASE = {"case_id": "case"}
REQUEST = {"case_id": "request"}  # the resident's request from the app, waiting for triage (category of body A)
APPROVED_Q = {"question_id": "q_approved"}  # the resident's, approved, with the case
PENDING_Q = {"question_id": "q_pending"}  # the resident's, waiting for moderation
FREE_Q = {"question_id": "q_free"}  # the resident's, approved, no case yet

QUESTION = {"body": "متى يفتح الطريق الجديد في المنطقة؟"}
RECORDING = {"session_id": "past", "attachment_id": "recording"}  # stored, for staff only
PUBLIC_MINUTES = "محضر الجلسة العامة: صيانة الطرق"
COORDINATING_MINUTES = "محضر المجلس التنسيقي: ميزانية سرية للطرق"


def _signup(world, role):
    return {"email": f"newcomer-{role}@example.com", "name": "Newcomer", "password": factories.PASSWORD}


def _unknown_address(world, role):
    # One address per role: five failures for one address would lock it (the per-account throttle), not refuse it.
    return {"email": f"nobody-{role}@example.com", "code": "123456"}


def _credentials(world, role):
    user = world["people"]["resident" if role == "anonymous" else role]
    return {"email": user.email, "password": factories.PASSWORD}


def _new_series(world, role):
    return {"kind": "weekly", "title_ar": "سلسلة", "title_en": "A series", "rrule": "FREQ=WEEKLY",
            "first_start": world["wall_start"], "duration_minutes": 60, "capacity": 20, "visibility": "public"}


def _new_session(world, role):
    return {"title_ar": "مجلس", "title_en": "A session", "starts_at": world["wall_start"], "duration_minutes": 60,
            "capacity": 20, "visibility": "public"}


def _open_case(world, role):
    return {"body_id": world["body_a"]}


def _push_subscription(world, role):
    return {"endpoint": f"https://push.example.com/send/{role}", "keys": world["push_keys"]}


def _channel_case(world, role):
    return {"channel": "phone", "body_id": world["body_a"], "category": "lighting", "description": "عمود مطفأ"}


def _request(world, role):
    return {"category": "lighting", "description": "الشارع مظلم ليلًا"}


ROUTES: list[Route] = [
    # --- API: accounts --------------------------------------------------------------------------------------------
    Route("POST", "/api/v1/auth/signup", cells(201), body=_signup),
    Route("POST", "/api/v1/auth/verify", cells(400), body=_unknown_address),
    Route("POST", "/api/v1/auth/verify/resend", cells(202), body=_unknown_address),  # the same for everyone
    Route("POST", "/api/v1/auth/token", cells(201), body=_credentials),  # anonymous: signs in as the resident
    Route("DELETE", "/api/v1/auth/token", api_any(204)),  # revokes the caller's own bearer token
    Route("GET", "/api/v1/me", api_any()),
    Route("POST", "/api/v1/me/password", api_any(400), body={}),  # the caller's own password; none given: refused
    Route("GET", "/api/v1/bodies", api_any()),
    # --- API: notifications (each caller's own settings, devices and number) --------------------------------------
    Route("GET", "/api/v1/me/notifications", api_any()),
    Route("PUT", "/api/v1/me/notifications", api_any(), body={"reminder": ["email", "sms"]}),
    Route("GET", "/api/v1/me/push-subscriptions", api_any()),
    Route("POST", "/api/v1/me/push-subscriptions", api_any(201), body=_push_subscription),
    Route("DELETE", "/api/v1/me/push-subscriptions", api_any(204), body={"endpoint": "https://push.example.com/x"}),
    Route("POST", "/api/v1/me/phone", api_any(202), body={"phone": "+97333123456"}),
    Route("POST", "/api/v1/me/phone/verify", api_any(400), body={"code": "000000"}),
    Route("GET", "/api/v1/openapi.json", cells(200)),
    Route("GET", "/api/v1/docs", cells(200)),
    # --- API: the schedule ----------------------------------------------------------------------------------------
    # Public reads answer anyone, as the website does (what an anonymous caller sees: the public sessions only).
    Route("GET", "/api/v1/series", cells(200)),
    Route("POST", "/api/v1/series", api_staff(ALLOWED), body=_new_series),
    Route("GET", "/api/v1/series/<int:series_id>", cells(200), {"series_id": "weekly"}, label="public"),
    Route("GET", "/api/v1/series/<int:series_id>", invited_read(), {"series_id": "coordinating"},
          label="invitation-only"),
    Route("GET", "/api/v1/sessions", cells(200)),
    Route("POST", "/api/v1/sessions", api_staff(ALLOWED), body=_new_session),
    Route("GET", "/api/v1/sessions/<int:session_id>", cells(200), PUBLIC, label="public"),
    Route("GET", "/api/v1/sessions/<int:session_id>", invited_read(), INVITED, label="invitation-only"),
    Route("PATCH", "/api/v1/sessions/<int:session_id>", api_staff(ALLOWED), UPCOMING, body={"capacity": 60}),
    Route("POST", "/api/v1/sessions/<int:session_id>/cancel", api_staff(ALLOWED), UPCOMING,
          body={"reason": "ظرف طارئ"}),
    Route("GET", "/api/v1/export/calendar.ics", api_staff(200)),
    # --- API: registration ----------------------------------------------------------------------------------------
    # Only residents register (403 residents_only for everyone else); the resident's second try is 409.
    Route("POST", "/api/v1/sessions/<int:session_id>/registrations",
          cells(403, anonymous=401, resident=ALLOWED, other_resident=ALLOWED), PUBLIC, label="public"),
    # A resident not invited gets the 404 of a missing session (nothing tells an outsider it exists); the others
    # see it listed and are told only residents register.
    Route("POST", "/api/v1/sessions/<int:session_id>/registrations",
          cells(403, anonymous=401, resident=404, other_resident=404), INVITED, label="invitation-only"),
    Route("GET", "/api/v1/sessions/<int:session_id>/registrations/me", cells(404, anonymous=401, resident=200),
          PUBLIC),
    # Acts on the caller's own registration only: nobody else has one to cancel (404 not_registered).
    Route("DELETE", "/api/v1/sessions/<int:session_id>/registrations/me",
          cells(404, anonymous=401, resident=ALLOWED), UPCOMING),
    Route("GET", "/api/v1/sessions/<int:session_id>/registrations", api_office(200), PUBLIC, label="public"),
    Route("GET", "/api/v1/sessions/<int:session_id>/registrations", api_office(200), INVITED,
          label="invitation-only"),
    # Check-in at the door: the office only; a code no registration holds is 404 unknown_code.
    Route("POST", "/api/v1/sessions/<int:session_id>/check-in", api_office(404), PUBLIC, body={"code": "ZZZZZZ"}),
    # --- API: the video room --------------------------------------------------------------------------------------
    Route("POST", "/api/v1/sessions/<int:session_id>/join",
          cells(ALLOWED, anonymous=401, other_resident=403, official=403, other_official=403), PUBLIC,
          label="public"),
    # Residents not invited get 404, as from the join page and the API reads: the session does not exist for them.
    Route("POST", "/api/v1/sessions/<int:session_id>/join",
          cells(ALLOWED, anonymous=401, resident=404, other_resident=404, other_official=403), INVITED,
          label="invitation-only"),
    # --- API: questions -------------------------------------------------------------------------------------------
    Route("GET", "/api/v1/sessions/<int:session_id>/questions", cells(200), PUBLIC, label="public"),
    Route("GET", "/api/v1/sessions/<int:session_id>/questions", invited_read(), INVITED,
          label="invitation-only"),
    # Registrants and invitees ask; the office does not (403 not_registered).
    Route("POST", "/api/v1/sessions/<int:session_id>/questions", cells(403, anonymous=401, resident=ALLOWED), PUBLIC,
          body=QUESTION, label="public"),
    Route("POST", "/api/v1/sessions/<int:session_id>/questions",
          cells(403, anonymous=401, resident=404, other_resident=404, official=ALLOWED), INVITED, body=QUESTION,
          label="invitation-only"),
    # Editing and withdrawing: the author's own pending question only; 404 for everyone else, the office included.
    Route("PATCH", "/api/v1/questions/<int:question_id>", cells(404, anonymous=401, resident=ALLOWED), PENDING_Q,
          body={"body": "متى يفتح الطريق الجديد؟ (معدل)"}),
    Route("DELETE", "/api/v1/questions/<int:question_id>", cells(404, anonymous=401, resident=ALLOWED), PENDING_Q),
    Route("POST", "/api/v1/questions/<int:question_id>/vote",
          cells(403, anonymous=401, resident=ALLOWED, other_resident=ALLOWED), APPROVED_Q),
    # Only residents vote, so only residents take a vote back.
    Route("DELETE", "/api/v1/questions/<int:question_id>/vote",
          cells(403, anonymous=401, resident=ALLOWED, other_resident=ALLOWED), APPROVED_Q),
    Route("POST", "/api/v1/questions/<int:question_id>/moderation", api_office(ALLOWED), PENDING_Q,
          body={"action": "approve"}),
    Route("POST", "/api/v1/questions/<int:question_id>/case", api_office(ALLOWED), FREE_Q, body=_open_case),
    # --- API: cases -----------------------------------------------------------------------------------------------
    Route("GET", "/api/v1/cases", api_any()),  # filtered per viewer: see test_lists_show_only_what_a_role_may_see
    Route("GET", "/api/v1/cases/<int:case_id>", own_case(200, anonymous=401), CASE),
    Route("POST", "/api/v1/cases/<int:case_id>/updates", own_case(ALLOWED, anonymous=401), CASE,
          body={"text": "تمت المتابعة"}),
    Route("GET", "/api/v1/categories", api_any()),
    Route("POST", "/api/v1/cases", api_office(ALLOWED), body=_channel_case),
    Route("POST", "/api/v1/requests", cells(403, anonymous=401, resident=ALLOWED, other_resident=ALLOWED),
          body=_request),
    # A waiting request is not yet its body's: officials get the 404 of a case they may not see; its resident sees
    # it but may not triage it.
    Route("POST", "/api/v1/cases/<int:case_id>/triage",
          cells(404, anonymous=401, resident=403, moderator=ALLOWED, staff=ALLOWED, admin=ALLOWED), REQUEST,
          body={"category": "lighting"}),
    # Only the case's resident answers "was it fixed?" (the open case answers 409 feedback_closed).
    Route("POST", "/api/v1/cases/<int:case_id>/feedback", own_case(403, anonymous=401) | {"resident": ALLOWED},
          CASE, body={"outcome": "fixed"}),
    # Only the resident of a case raised anonymously answers whether its body may contact them (this case was not:
    # 409 consent_not_asked); the body and the office may not answer for them.
    Route("POST", "/api/v1/cases/<int:case_id>/contact-consent", own_case(403, anonymous=401) | {"resident": ALLOWED},
          CASE, body={"agree": True}),
    Route("GET", "/api/v1/accountability", cells(200)),
    # --- API: minutes and the archive -----------------------------------------------------------------------------
    Route("GET", "/api/v1/sessions/<int:session_id>/minutes", cells(200), PAST, label="published"),
    Route("GET", "/api/v1/sessions/<int:session_id>/minutes", cells(404, staff=200, admin=200),
          PUBLIC, label="draft"),
    Route("GET", "/api/v1/sessions/<int:session_id>/minutes", invited_read(), INVITED_PAST,
          label="published, invitation-only"),
    Route("PUT", "/api/v1/sessions/<int:session_id>/minutes", api_staff(ALLOWED), PUBLIC, body={"body": "محضر"}),
    Route("POST", "/api/v1/sessions/<int:session_id>/minutes/approve", api_staff(ALLOWED), PUBLIC),
    Route("POST", "/api/v1/sessions/<int:session_id>/minutes/publish", api_staff(ALLOWED), PUBLIC),
    Route("POST", "/api/v1/sessions/<int:session_id>/minutes/revisions", api_staff(ALLOWED), PAST,
          body={"body": "محضر مصحح", "reason": "تصحيح اسم"}),
    Route("GET", "/api/v1/archive", cells(200)),  # what it lists: see test_the_archive_lists_only_readable_minutes
    # A recording of the past session kept for staff (not published with the minutes).
    Route("GET", "/api/v1/sessions/<int:session_id>/attachments/<int:attachment_id>",
          cells(404, staff=200, admin=200), RECORDING),
    Route("PATCH", "/api/v1/sessions/<int:session_id>/attachments/<int:attachment_id>", api_staff(ALLOWED),
          RECORDING, body={"public": False}),
    # --- API: the video service's events (a signature or the event-sync token, never a user's bearer token) -----
    Route("POST", "/api/v1/jitsi/events", cells(401), body={"eventType": "ROOM_CREATED"}),
    Route("POST", "/api/v1/jitsi/events/<path:event>", cells(401), {"event": Lit("occupant/joined")},
          body={"event_name": "muc-occupant-joined"}),
    # --- pages: accounts ------------------------------------------------------------------------------------------
    Route("GET", "/", cells(200)),
    Route("GET", "/healthz", cells(200)),
    Route("GET", "/favicon.ico", cells(200)),
    Route("GET", "/signup", cells(302, anonymous=200)),  # signed-in users go home
    Route("POST", "/signup", cells(302, anonymous=400), body={}),  # anonymous: the empty form is refused
    Route("GET", "/verify", cells(200)),
    Route("POST", "/verify", cells(400), body={}),
    Route("POST", "/verify/resend", cells(302), body={"resend-email": "nobody@example.com"}),
    Route("GET", "/login", cells(302, anonymous=200)),
    Route("POST", "/login", cells(302, anonymous=400), body={}),
    Route("POST", "/logout", page_login(302)),
    Route("GET", "/account", page_login(200)),
    Route("POST", "/account/password", page_login(302), body={}),
    Route("POST", "/account/tokens", page_login(302), body={"label": "phone"}),
    # Another user's token (the resident's spare one): 404, even for the admin.
    Route("POST", "/account/tokens/<int:token_id>/revoke", cells(404, anonymous=LOGIN, resident=302),
          {"token_id": "spare_token"}),
    Route("GET", "/account/data.json", page_login(200)),
    Route("POST", "/account/delete", page_login(302), body={}),  # no password given: nothing is deleted
    Route("POST", "/account/notifications", page_login(302), body={"reminder": "email"}),
    Route("POST", "/account/phone", page_login(302), body={"phone": "+97333123456"}),
    Route("POST", "/account/phone/verify", page_login(302), body={"code": "000000"}),
    # Another user's device (the resident's): 404, even for the admin.
    Route("POST", "/account/push/<int:subscription_id>/delete", cells(404, anonymous=LOGIN, resident=302),
          {"subscription_id": "push_subscription"}),
    # A stop link is its own credential (no sign-in); a forged one is not found.
    Route("GET", "/stop/<token>", cells(200), {"token": "stop_token"}, label="signed"),
    Route("GET", "/stop/<token>", cells(404), {"token": Lit("AQdGb3JnZWRmb3JnZWQ")}, label="forged"),
    Route("POST", "/stop/<token>", cells(200), {"token": "stop_token"}, label="signed"),
    Route("GET", "/manifest-<language>.webmanifest", cells(200), {"language": Lit("en")}),
    Route("GET", "/sw.js", cells(200)),
    # login_required, then an admin check: anonymous visitors are sent to sign in (not 401 as on roles_required pages).
    Route("GET", "/admin/audit", cells(403, anonymous=401, admin=200)),
    # --- pages: calendar feeds ------------------------------------------------------------------------------------
    Route("GET", "/calendar/majlis.ics", cells(200)),
    Route("GET", "/calendar/series/<int:series_id>.ics", cells(200), {"series_id": "weekly"}, label="public"),
    Route("GET", "/calendar/series/<int:series_id>.ics", cells(404), {"series_id": "coordinating"},
          label="invitation-only"),
    Route("GET", "/calendar/sessions/<int:session_id>.ics", cells(200), PUBLIC, label="public"),
    Route("GET", "/calendar/sessions/<int:session_id>.ics", invited_read(), INVITED, label="invitation-only"),
    # The personal feed URL is the capability: whoever holds a live secret reads it; a revoked or unknown one is 404.
    Route("GET", "/calendar/feed/<secret>.ics", cells(200), {"secret": "feed_secret"}, label="live secret"),
    Route("GET", "/calendar/feed/<secret>.ics", cells(404), {"secret": "revoked_secret"}, label="revoked secret"),
    Route("GET", "/calendar/feed/<secret>.ics", cells(404), {"secret": Lit("x" * 32)}, label="unknown secret"),
    Route("POST", "/calendar/personal", page_login(302), body={}),
    Route("POST", "/calendar/personal/revoke", page_login(302), body={}),
    # --- pages: sessions, joining, questions ----------------------------------------------------------------------
    Route("GET", "/sessions/<int:session_id>", cells(200), PUBLIC, label="public"),
    Route("GET", "/sessions/<int:session_id>", invited_read(), INVITED, label="invitation-only"),
    Route("GET", "/sessions/<int:session_id>/join",
          cells(200, anonymous=LOGIN, other_resident=403, official=403, other_official=403), PUBLIC, label="public"),
    Route("GET", "/sessions/<int:session_id>/join", cells(200, anonymous=LOGIN, resident=404, other_resident=404,
                                                          other_official=403), INVITED, label="invitation-only"),
    Route("GET", "/sessions/<int:session_id>/questions", cells(200), PUBLIC, label="public"),
    Route("GET", "/sessions/<int:session_id>/questions", invited_read(), INVITED, label="invitation-only"),
    Route("GET", "/sessions/<int:session_id>/events", cells(200), PUBLIC, label="public"),
    Route("GET", "/sessions/<int:session_id>/events", invited_read(), INVITED, label="invitation-only"),
    Route("POST", "/sessions/<int:session_id>/ask", page_login(302), PUBLIC, body=QUESTION),
    Route("POST", "/questions/<int:question_id>/vote", page_login(302), APPROVED_Q, body={}),
    Route("POST", "/questions/<int:question_id>/withdraw", page_login(302), PENDING_Q, body={}),
    Route("POST", "/sessions/<int:session_id>/register", page_login(302), UPCOMING, body={}),
    # The question before cancelling: the registered resident; everyone else is sent back to the session page.
    Route("GET", "/sessions/<int:session_id>/unregister", page_login(302) | {"resident": 200}, UPCOMING),
    Route("POST", "/sessions/<int:session_id>/unregister", page_login(302), UPCOMING, body={}),
    # A resident's answer to an invitation-only session: the 404 is flashed and the answer is a redirect.
    Route("POST", "/sessions/<int:session_id>/invitation", page_login(302), INVITED, body={"answer": "accept"}),
    Route("GET", "/sessions/<int:session_id>/moderate", page_office(200), PUBLIC),
    Route("GET", "/sessions/<int:session_id>/moderate/queue", page_office(200), PUBLIC),
    Route("GET", "/sessions/<int:session_id>/present", page_office(200), PUBLIC),
    Route("GET", "/sessions/<int:session_id>/present/board", page_office(200), PUBLIC),
    Route("POST", "/questions/<int:question_id>/moderate", page_office(302), PENDING_Q, body={"action": "approve"}),
    Route("POST", "/sessions/<int:session_id>/notes", page_office(302), PUBLIC, body={"body": "ملاحظات"}),
    # --- pages: cases ---------------------------------------------------------------------------------------------
    Route("GET", "/cases", page_login(200)),
    Route("GET", "/cases/<int:case_id>", own_case(200, anonymous=LOGIN), CASE),
    Route("POST", "/cases/<int:case_id>/updates", own_case(302, anonymous=LOGIN), CASE, body={"text": "تمت المتابعة"}),
    Route("POST", "/cases/<int:case_id>/contact-consent", own_case(302, anonymous=LOGIN), CASE, body={"agree": "yes"}),
    Route("POST", "/questions/<int:question_id>/case", page_office(302), FREE_Q, body=_open_case),
    Route("GET", "/staff/agenda", page_office(200)),
    Route("GET", "/accountability", cells(200)),
    Route("GET", "/requests/new", cells(403, anonymous=LOGIN, resident=200, other_resident=200)),
    Route("POST", "/requests/new", cells(403, anonymous=LOGIN, resident=400, other_resident=400), body={}),
    Route("GET", "/cases/new", page_office(200)),
    Route("POST", "/cases/new", page_office(400), body={}),
    Route("GET", "/staff/requests", page_office(200)),
    Route("POST", "/staff/requests/<int:case_id>/triage", page_office(302), REQUEST, body={}),
    Route("GET", "/staff/categories", page_staff(200)),
    Route("POST", "/staff/categories", page_staff(400), body={}),
    Route("GET", "/staff/categories/<int:category_id>", page_staff(200), {"category_id": "category"}),
    Route("POST", "/staff/categories/<int:category_id>", page_staff(400), {"category_id": "category"}, body={}),
    # Without a signed link, the case's parties see the page (which says the case is not waiting for an answer);
    # anonymous visitors and outsiders get 404.
    Route("GET", "/cases/<int:case_id>/feedback", own_case(200, anonymous=404), CASE),
    Route("POST", "/cases/<int:case_id>/feedback", own_case(200, anonymous=404), CASE, body={}),
    # --- open data and Open311: public ----------------------------------------------------------------------------
    Route("GET", "/open-data", cells(200)),
    Route("GET", "/open-data/cases.csv", cells(200)),
    Route("GET", "/open-data/cases.json", cells(200)),
    *[Route("GET", f"/open311/v2/{name}.{fmt}", cells(200)) for name in ("discovery", "services", "requests")
      for fmt in ("json", "xml")],
    *[Route("GET", f"/open311/v2/requests/<request_id>.{fmt}", cells(200), {"request_id": "case"})
      for fmt in ("json", "xml")],
    Route("GET", "/open311/v2/<path:rest>", cells(404), {"rest": Lit("nothing.json")}),
    # --- pages: minutes -------------------------------------------------------------------------------------------
    Route("GET", "/archive", cells(200)),  # what it lists: see test_the_archive_lists_only_readable_minutes
    Route("GET", "/sessions/<int:session_id>/attachments/<int:attachment_id>", cells(404, staff=200, admin=200),
          RECORDING),
    Route("GET", "/sessions/<int:session_id>/viewer", cells(200), PUBLIC),
    Route("GET", "/sessions/<int:session_id>/viewer", invited_read(), INVITED, label="invitation-only"),
    Route("GET", "/sessions/<int:session_id>/minutes", cells(200), PAST, label="published"),
    Route("GET", "/sessions/<int:session_id>/minutes", cells(404, staff=200, admin=200), PUBLIC, label="draft"),
    Route("GET", "/sessions/<int:session_id>/minutes", invited_read(), INVITED_PAST,
          label="published, invitation-only"),
    Route("GET", "/sessions/<int:session_id>/minutes.<any(md, json):fmt>", cells(200), {**PAST, "fmt": Lit("md")},
          label="published md"),
    Route("GET", "/sessions/<int:session_id>/minutes.<any(md, json):fmt>", cells(200),
          {**PAST, "fmt": Lit("json")}, label="published json"),
    Route("GET", "/sessions/<int:session_id>/minutes.<any(md, json):fmt>", cells(404, staff=200, admin=200),
          {**PUBLIC, "fmt": Lit("json")}, label="draft json"),
    Route("GET", "/sessions/<int:session_id>/minutes.<any(md, json):fmt>", invited_read(),
          {**INVITED_PAST, "fmt": Lit("md")}, label="published md, invitation-only"),
    Route("GET", "/staff/sessions/<int:session_id>/minutes", page_staff(200), PUBLIC),
    Route("POST", "/staff/sessions/<int:session_id>/minutes", page_staff(302), PUBLIC,
          body={"action": "save", "body": "محضر"}),
    # --- pages: the staff desk and planning -----------------------------------------------------------------------
    Route("GET", "/staff/", page_staff(200)),
    Route("GET", "/staff/calendar", page_staff(200)),
    Route("GET", "/staff/calendar/week", page_staff(200)),
    Route("GET", "/staff/calendar/export.ics", page_staff(200)),
    Route("GET", "/staff/series", page_staff(200)),
    Route("GET", "/staff/series/new", page_staff(200)),
    Route("POST", "/staff/series/new", page_staff(400), body={}),  # the empty form: refused after the role check
    Route("GET", "/staff/series/<int:series_id>", page_staff(200), {"series_id": "coordinating"}),
    Route("POST", "/staff/series/<int:series_id>/edit", page_staff(400), {"series_id": "weekly"}, body={}),
    Route("POST", "/staff/series/<int:series_id>/end", page_staff(400), {"series_id": "weekly"}, body={}),
    Route("GET", "/staff/sessions/new", page_staff(200)),
    Route("POST", "/staff/sessions/new", page_staff(400), body={}),
    Route("GET", "/staff/sessions/<int:session_id>", page_staff(200), INVITED),
    Route("POST", "/staff/sessions/<int:session_id>/update", page_staff(400), UPCOMING, body={}),
    Route("POST", "/staff/sessions/<int:session_id>/cancel", page_staff(400), UPCOMING, body={}),
    Route("GET", "/staff/sessions/<int:session_id>/invitations", page_staff(200), INVITED),
    Route("POST", "/staff/sessions/<int:session_id>/invitations", page_staff(200), INVITED, body={}),  # form again
    Route("GET", "/staff/sessions/<int:session_id>/registrants", page_office(200), PUBLIC),
    Route("GET", "/sessions/<int:session_id>/check-in", page_office(200), PUBLIC),
    Route("POST", "/sessions/<int:session_id>/check-in", page_office(400), PUBLIC, body={}),
    Route("GET", "/staff/sessions/<int:session_id>/registrants.csv", page_office(200), PUBLIC),
]


# --- the world ------------------------------------------------------------------------------------------------------


PASSWORD_HASH = hash_password(factories.PASSWORD, fast=True)  # hashed once: the world is built ~250 times


@pytest.fixture
def world(app, db):
    """Two bodies, one user per role, and the objects the resident owns (see the module docstring)."""

    from majlis.auth import services as auth_services
    from majlis.auth.services import AccountPolicy
    from majlis.calendar import services as calendar_services
    from majlis.followups import services as followup_services
    from majlis.minutes import services as minutes_services
    from majlis.notifications import push
    from majlis.notifications.preferences import stop_token
    from majlis.sessions import services as session_services

    public_key, private_key = push.new_vapid_keys()
    app.config.update(JITSI_APP_ID="majlis", JITSI_APP_SECRET="x" * 40, JITSI_SUB="meet.jitsi",
                      MAJLIS_LIVE_STREAM_SECONDS=0, MAJLIS_HORIZON_WEEKS=4, MAJLIS_VAPID_PUBLIC_KEY=public_key,
                      MAJLIS_VAPID_PRIVATE_KEY=private_key)
    push_keys = {"p256dh": push.new_vapid_keys()[0], "auth": "AAECAwQFBgcICQoLDA0ODw"}
    zone = ZoneInfo(app.config["MAJLIS_TIMEZONE"])
    now = datetime.now(UTC).replace(microsecond=0)
    first_start = (now + timedelta(days=3)).astimezone(zone).strftime("%Y-%m-%dT19:00")
    with app.test_request_context(), unit_of_work(db):
        body_a, body_b = factories.body(db), factories.body(db)
        people = {
            role: factories.user(db, role=role_value, password_hash=PASSWORD_HASH, **extra)
            for role, role_value, extra in (
                ("resident", Role.RESIDENT, {}), ("other_resident", Role.RESIDENT, {}),
                ("official", Role.OFFICIAL, {"body": body_a}), ("other_official", Role.OFFICIAL, {"body": body_b}),
                ("moderator", Role.MODERATOR, {}), ("staff", Role.STAFF, {}), ("admin", Role.ADMIN, {}))
        }
        resident, staff = people["resident"], people["staff"]
        policy = AccountPolicy.from_config(app.config)
        bearer = {role: auth_services.issue_api_token(db, user, label="matrix", policy=policy, now=now)[0]
                  for role, user in people.items()}
        weekly = session_services.create_series(
            db, {"kind": "weekly", "title_ar": "المجلس الأسبوعي", "title_en": "Weekly majlis", "rrule": "FREQ=WEEKLY",
                 "first_start": first_start, "duration_minutes": 90, "capacity": 50, "visibility": "public"},
            actor=None, zone=zone, now=now, horizon=timedelta(weeks=2))
        coordinating = session_services.create_series(
            db, {"kind": "coordinating", "title_ar": "المجلس التنسيقي", "title_en": "Coordinating majlis",
                 "rrule": "FREQ=MONTHLY", "first_start": first_start, "duration_minutes": 120, "capacity": 40,
                 "visibility": "invited"},
            actor=None, zone=zone, now=now, horizon=timedelta(weeks=2))
        public = factories.majlis_session(
            db, starts_at=now - timedelta(minutes=10), registration_opens_at=now - timedelta(days=3),
            registration_closes_at=now + timedelta(minutes=60), confirmed_count=1)
        upcoming = factories.majlis_session(db, starts_at=now + timedelta(days=2), confirmed_count=1)
        invited = factories.majlis_session(
            db, starts_at=now - timedelta(minutes=5), kind=SeriesKind.COORDINATING, visibility=Visibility.INVITED,
            title_ar="المجلس التنسيقي", title_en="Coordinating majlis", registration_opens_at=now - timedelta(days=3),
            registration_closes_at=now + timedelta(minutes=60))
        past = factories.majlis_session(db, starts_at=now - timedelta(days=3), status=SessionStatus.ENDED)
        invited_past = factories.majlis_session(
            db, starts_at=now - timedelta(days=5), status=SessionStatus.ENDED, kind=SeriesKind.COORDINATING,
            visibility=Visibility.INVITED, title_ar="المجلس التنسيقي", title_en="Coordinating majlis")
        for row in (invited, invited_past):
            db.add(Invitation(session_id=row.id, body_id=body_a.id, invited_by_id=staff.id, created_at=now))
        for row in (public, upcoming):
            db.add(Registration(session_id=row.id, user_id=resident.id, status=RegistrationStatus.CONFIRMED,
                                queued_at=now, confirmed_at=now, created_at=now, updated_at=now))
        questions = {
            name: Question(session_id=public.id, author_id=resident.id, body=text, status=status, created_at=now,
                           updated_at=now)
            for name, text, status in (("q_approved", "متى يصلح الطريق؟", QuestionStatus.APPROVED),
                                       ("q_pending", "أين الحديقة الجديدة؟", QuestionStatus.PENDING),
                                       ("q_free", "متى تفتح المدرسة؟", QuestionStatus.APPROVED))
        }
        db.add_all(questions.values())
        db.flush()
        case = followup_services.open_case(db, questions["q_approved"], people["moderator"], body_id=body_a.id,
                                           now=now, zone=zone)
        category = CaseCategory(code="lighting", body_id=body_a.id, name_ar="الإنارة", name_en="Lighting",
                                days_to_resolve=10, created_at=now, updated_at=now)
        db.add(category)
        db.flush()
        request = followup_services.submit_request(db, {"category": "lighting", "description": "عمود مطفأ"},
                                                   resident, channel=CaseChannel.APP, now=now, zone=zone)
        minutes_services.edit_draft(db, public, staff, body="مسودة المحضر", now=now)
        for row, text in ((past, PUBLIC_MINUTES), (invited_past, COORDINATING_MINUTES)):
            minutes_services.edit_draft(db, row, staff, body=text, now=now)
            minutes_services.approve(db, row, staff, now=now)
            minutes_services.publish(db, row, staff, now=now)
        recording = _stored_recording(app, db, past.id, now)
        revoked_feed = calendar_services.issue_feed(db, resident, now=now)
        feed = calendar_services.issue_feed(db, resident, now=now)  # revokes the first one
        _, spare_token = auth_services.issue_api_token(db, resident, label="spare", policy=policy, now=now)
        subscription = push.subscribe(db, resident, {"endpoint": "https://push.example.com/send/mine",
                                                     "keys": push_keys}, production=False, configured=True, now=now)
    world = {
        "people": people,
        "headers": {role: {"Authorization": f"Bearer {token}"} for role, token in bearer.items()},
        "body_a": body_a.id,
        "weekly": weekly.id, "coordinating": coordinating.id,
        "public": public.id, "upcoming": upcoming.id, "invited": invited.id, "past": past.id,
        "invited_past": invited_past.id,
        **{name: question.id for name, question in questions.items()},
        "case": case.id, "recording": recording, "request": request.id, "category": category.id,
        "feed_secret": feed.secret, "revoked_secret": revoked_feed.secret,
        "spare_token": spare_token.id,
        "push_keys": push_keys, "push_subscription": subscription.id,
        "stop_token": stop_token(app.config["SECRET_KEY"], resident.id, "reminder"),
        "wall_start": (now + timedelta(days=10)).astimezone(zone).strftime("%Y-%m-%dT18:00"),
    }
    assert world["feed_secret"] != world["revoked_secret"]
    return world


def _stored_recording(app, db, session_id: int, now) -> int:
    """A recording in the folder store, attached to the session and not published."""
    import hashlib
    from pathlib import Path

    from majlis.enums import AttachmentKind, AttachmentStatus
    from majlis.minutes.models import Attachment

    key = f"sessions/{session_id}/recording-matrix.mp4"
    path = Path(app.instance_path) / "attachments" / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not really a video")
    row = Attachment(session_id=session_id, kind=AttachmentKind.RECORDING, status=AttachmentStatus.STORED,
                     storage_key=key, content_type="video/mp4", sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                     size=path.stat().st_size, is_public=False, created_at=now, stored_at=now)
    db.add(row)
    db.flush()
    return row.id


class Visitors:
    """The API caller (bearer headers, no cookies) and one signed-in page client per role, made when first needed."""

    def __init__(self, app, world):
        self.app, self.world = app, world
        self.api = app.test_client(use_cookies=False)
        self.pages: dict = {}
        self.tokens: dict = {}

    def page_client(self, role: str):
        if role not in self.pages:
            client = self.app.test_client()
            if role != "anonymous":
                user = self.world["people"][role]
                response = form_post(client, "/login", {"email": user.email, "password": factories.PASSWORD})
                assert response.status_code == 302, f"{role} could not sign in"
            self.pages[role] = client
        return self.pages[role]

    def csrf_token(self, role: str) -> str:
        """A CSRF token of this client's session (any form's token is valid for the whole session).

        Taken from the small /verify form, which anyone may load (the account page costs five times more).
        """
        if role not in self.tokens:
            self.tokens[role] = csrf_token_from(self.page_client(role).get("/verify").get_data(as_text=True))
        return self.tokens[role]

    def call(self, route: Route, role: str, path: str):
        payload = route.payload(self.world, role)
        if route.is_api:
            headers = {} if role == "anonymous" else self.world["headers"][role]
            return self.api.open(path, method=route.method, headers=headers, json=payload)
        client = self.page_client(role)
        if route.method == "GET":
            return client.get(path)
        return client.open(path, method=route.method, data={**(payload or {}), "csrf_token": self.csrf_token(role)})


def matches(expected, response) -> bool:
    status = response.status_code
    if expected == LOGIN:
        return status == 302 and urlsplit(response.headers.get("Location", "")).path == "/login"
    if expected == ALLOWED:
        return status not in (401, 403, 404) and status < 500
    return status == expected


def outcome(response) -> str:
    text = str(response.status_code)
    if response.status_code in (301, 302, 303):
        text += f" → {urlsplit(response.headers.get('Location', '')).path}"
    elif response.is_json and isinstance(response.get_json(), dict) and "error" in response.get_json():
        text += f" {response.get_json()['error'].get('code')}"
    return text


def _by_route(routes: list[Route]) -> dict[tuple[str, str], list[Route]]:
    """One test per route (method and rule); its variants (public or invitation-only session, ...) run inside."""
    grouped: dict[tuple[str, str], list[Route]] = {}
    for route in routes:
        grouped.setdefault((route.method, route.rule), []).append(route)
    return grouped


MATRIX = _by_route(ROUTES)


@pytest.mark.parametrize("key", list(MATRIX), ids=[f"{method} {rule}" for method, rule in MATRIX])
def test_route_answers_every_role(app, world, key):
    visitors = Visitors(app, world)
    mismatches = []
    for route in MATRIX[key]:
        path = route.path(world)
        for role in ROLES:
            response = visitors.call(route, role, path)
            try:
                if not matches(route.expect[role], response):
                    mismatches.append(f"  {route.method} {path}{f' [{route.label}]' if route.label else ''} as "
                                      f"{role}: expected {route.expect[role]}, got {outcome(response)}")
            finally:
                response.close()
    assert not mismatches, "\n" + "\n".join(mismatches)


# --- object-level checks beyond the status ----------------------------------------------------------------------------


def test_cancelling_a_registration_touches_only_ones_own(app, world):
    api = app.test_client(use_cookies=False)
    url = f"/api/v1/sessions/{world['upcoming']}/registrations/me"
    for role in ("other_resident", "official", "moderator", "staff", "admin"):
        assert api.delete(url, headers=world["headers"][role]).status_code == 404, role
    assert api.get(url, headers=world["headers"]["resident"]).status_code == 200
    assert api.delete(url, headers=world["headers"]["resident"]).status_code == 204
    assert api.get(url, headers=world["headers"]["resident"]).status_code == 404


def test_lists_show_only_what_a_role_may_see(app, world):
    api = app.test_client(use_cookies=False)

    def get(url, role):
        response = api.get(url, headers=world["headers"][role])
        assert response.status_code == 200, (url, role, response.status_code)
        return response.get_json()

    for role, sees in (("resident", True), ("other_resident", False), ("official", True), ("other_official", False),
                       ("moderator", True), ("staff", True), ("admin", True)):
        cases = {case["id"] for case in get("/api/v1/cases", role)["cases"]}
        assert (world["case"] in cases) is sees, f"{role} lists the case: {not sees}"
        # The request waiting for triage: its resident and the office, not yet the body's officials.
        assert (world["request"] in cases) is (sees and role != "official"), f"{role} lists the waiting request"
    for role, sees in (("resident", False), ("other_resident", False), ("official", True), ("other_official", True),
                       ("moderator", True), ("staff", True), ("admin", True)):
        sessions = {row["id"] for row in get("/api/v1/sessions", role)["sessions"]}
        assert (world["invited"] in sessions) is sees, f"{role} lists the invitation-only session: {not sees}"
        assert world["public"] in sessions
        series = {row["id"] for row in get("/api/v1/series", role)["series"]}
        assert (world["coordinating"] in series) is sees, f"{role} lists the invitation-only series: {not sees}"
    # A pending question: its author and the office see it, nobody else.
    for role, sees in (("resident", True), ("other_resident", False), ("official", False), ("other_official", False),
                       ("moderator", True), ("staff", True), ("admin", True)):
        questions = {q["id"] for q in get(f"/api/v1/sessions/{world['public']}/questions", role)["questions"]}
        assert (world["q_pending"] in questions) is sees, f"{role} sees the pending question: {not sees}"
        assert world["q_approved"] in questions


def test_the_archive_lists_only_readable_minutes(app, world, login_as):
    """Every hit in the archive (page and API) is one the viewer may open; the coordinating minutes are not."""
    api = app.test_client(use_cookies=False)
    visible = {role: role not in ("anonymous", "resident", "other_resident") for role in ROLES}
    leaks = []
    for role in ROLES:
        page = app.test_client()
        if role != "anonymous":
            form_post(page, "/login", {"email": world["people"][role].email, "password": factories.PASSWORD})
        html = page.get("/archive?q=" + "الطرق").get_data(as_text=True)
        html = html.replace("<mark>", "").replace("</mark>", "")  # the words that matched are marked
        assert "صيانة الطرق" in html, role  # the public minutes are found
        if ("ميزانية سرية" in html) != visible[role]:
            leaks.append(f"GET /archive as {role}")
        if role != "anonymous":
            hits = api.get("/api/v1/archive?q=" + "الطرق", headers=world["headers"][role]).get_json()["results"]
            assert world["past"] in {hit["session_id"] for hit in hits}, role
            if (world["invited_past"] in {hit["session_id"] for hit in hits}) != visible[role]:
                leaks.append(f"GET /api/v1/archive as {role}")
    assert not leaks, "the coordinating minutes are listed to viewers who get 404 on them:\n" + "\n".join(leaks)


# --- the matrix covers every route ------------------------------------------------------------------------------------


def test_every_route_is_in_the_matrix(app):
    served = {(method, rule.rule) for rule in app.url_map.iter_rules() if rule.endpoint != "static"
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    covered = {(route.method, route.rule) for route in ROUTES}
    missing = sorted(served - covered, key=lambda pair: (pair[1], pair[0]))
    stale = sorted(covered - served, key=lambda pair: (pair[1], pair[0]))
    assert not missing, "add these routes to ROUTES in tests/test_authorization_matrix.py:\n" + "\n".join(
        f"  {method} {rule}" for method, rule in missing)
    assert not stale, "ROUTES lists routes the app no longer serves:\n" + "\n".join(
        f"  {method} {rule}" for method, rule in stale)
    for route in ROUTES:
        assert set(route.expect) == set(ROLES), (route.method, route.rule, route.label)
        assert set(re.findall(r"<(?:[^<>]*:)?(\w+)>", route.rule)) == set(route.args), (route.method, route.rule)
