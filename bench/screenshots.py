"""`make screenshots`: every page of Majlis at 360 and 1280 px, in Arabic and English, into docs/screenshots/.

A look-at tool, not a test: it starts Majlis under gunicorn on loopback with the demo data (bench/lighthouse.py's
demo_server) plus the browser tests' history (a held session with published minutes and cases, a session starting
in five minutes, a live one with a question on air: tests/browser/conftest.py's seeders, run once before the
server starts), signs in as each role through the real login form in Debian's Chromium (Playwright, the browser
tests' flags), and saves each page, full length, as docs/screenshots/<page>-<lang>-<width>.jpg (JPEG, quality 65),
then writes docs/screenshots/README.md, the index.

Settings (environment): SCREENSHOTS_ONLY=home,case (pages whose keys contain one of these parts; the index is then
not rewritten); SCREENSHOTS_DIR (default docs/screenshots).
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.lighthouse import CHROME, demo_server  # noqa: E402
from tests.browser.conftest import CHROMIUM_ARGS  # noqa: E402

OUT = Path(os.environ.get("SCREENSHOTS_DIR") or ROOT / "docs" / "screenshots")
WIDTHS = (360, 1280)
LANGS = ("ar", "en")
QUALITY = 65
MAX_HEIGHT = 6000  # px: the API reference is longer than that; its top says what the rest looks like


@dataclass(frozen=True)
class Shot:
    key: str
    title: str
    path: str  # formatted with the ids found in the data: {session}, {soon}, {held}, {live}, {case}, {series}
    account: str | None  # demo role to sign in as (None: anonymous)
    submit: bool = False  # send the page's form empty first (to show its errors)


SHOTS = [
    Shot("home", "Home: upcoming sessions", "/", None),
    Shot("session", "A session page, anonymous", "/sessions/{session}", None),
    Shot("session-resident", "A session page, registered resident (room open)", "/sessions/{soon}", "resident"),
    Shot("session-overflow", "A live session, resident in line (stream)", "/sessions/{live}", "follower"),
    Shot("join", "The room (join page)", "/sessions/{soon}/join", "resident"),
    Shot("console", "The moderators' console", "/sessions/{live}/moderate", "moderator"),
    Shot("present", "The presenter view", "/sessions/{live}/present", "moderator"),
    Shot("archive", "Minutes archive", "/archive", None),
    Shot("minutes", "A published minutes page", "/sessions/{held}/minutes", None),
    Shot("accountability", "Accountability dashboard", "/accountability", None),
    Shot("open-data", "Open data", "/open-data", None),
    Shot("cases", "Case list (resident)", "/cases", "resident"),
    Shot("case", "A case page (resident)", "/cases/{case}", "resident"),
    Shot("request-new", "New request", "/requests/new", "resident"),
    Shot("login", "Sign in", "/login", None),
    Shot("signup", "Sign up", "/signup", None),
    Shot("signup-errors", "Sign up sent empty: error summary and field errors", "/signup", None, submit=True),
    Shot("account", "My account and notification settings", "/account", "resident"),
    Shot("staff-desk", "Staff desk", "/staff/", "staff"),
    Shot("staff-calendar", "Staff month calendar", "/staff/calendar", "staff"),
    Shot("staff-week", "Staff week calendar", "/staff/calendar/week", "staff"),
    Shot("series-list", "Series list", "/staff/series", "staff"),
    Shot("series", "A series page", "/staff/series/{series}", "staff"),
    Shot("series-new", "New series form", "/staff/series/new", "staff"),
    Shot("session-new", "New session form", "/staff/sessions/new", "staff"),
    Shot("session-manage", "Managing a session (staff)", "/staff/sessions/{session}", "staff"),
    Shot("registrants", "Registrants (staff)", "/staff/sessions/{session}/registrants", "staff"),
    Shot("triage", "Triage of new requests", "/staff/requests", "staff"),
    Shot("agenda", "Follow-up agenda", "/staff/agenda", "staff"),
    Shot("case-new", "New case (moderator)", "/cases/new", "moderator"),
    Shot("audit", "Audit log (admin)", "/admin/audit", "admin"),
    Shot("api-docs", "API documentation", "/api/v1/docs", None),
    Shot("error-404", "Error 404", "/no-such-page", None),
]

IDS: dict[str, int] = {}


def seed(env: dict) -> None:
    """The browser tests' history and live sessions, in the scratch database, before the server starts."""
    os.environ["MAJLIS_INSTANCE_PATH"] = env["MAJLIS_INSTANCE_PATH"]
    os.environ["MAJLIS_ENV"] = env["MAJLIS_ENV"]
    from datetime import UTC, datetime

    from majlis import create_app
    from majlis.db import get_database, unit_of_work
    from tests.browser import conftest

    app = create_app()
    now = datetime.now(UTC)
    with app.app_context(), unit_of_work(get_database(app).session_factory()) as db_session:
        conftest._session_starting_soon(db_session, now)
        conftest._overflowing_session(db_session, now)
        conftest._cases_from_every_channel(db_session, now, app.config["SECRET_KEY"])
    IDS.update(soon=conftest.SOON["id"], held=conftest.HISTORY["session"], case=conftest.HISTORY["case"],
               live=conftest.OVERFLOW["id"])


def accounts() -> dict[str, tuple[str, str]]:
    from majlis.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
    from tests.browser.conftest import FOLLOWER_PASSWORD

    found = {role: (email, DEMO_PASSWORD) for role, email in DEMO_ACCOUNTS}
    found["follower"] = ("follower@demo.majlis", FOLLOWER_PASSWORD)
    return found


def sign_in(page, base: str, email: str, password: str) -> None:
    """Through the real form, as a resident would."""
    page.goto(base + "/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_load_state("load")
    if page.url.rstrip("/").endswith("/login"):
        raise SystemExit(f"signing in as {email} failed")


def first_link(page, base: str, path: str, pattern: str) -> int:
    page.goto(base + path)
    found = re.search(pattern, page.content())
    if not found:
        raise SystemExit(f"no link matching {pattern} on {path}")
    return int(found.group(1))


def main() -> int:
    from playwright.sync_api import sync_playwright

    only = [part for part in os.environ.get("SCREENSHOTS_ONLY", "").split(",") if part]
    shots = [shot for shot in SHOTS if not only or any(part in shot.key for part in only)]
    OUT.mkdir(parents=True, exist_ok=True)
    logins = accounts()
    with demo_server("majlis-screenshots-", seed) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROME, args=CHROMIUM_ARGS)
        contexts = {}

        def context_for(role: str | None):
            if role not in contexts:
                context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ar-BH")
                page = context.new_page()
                if role:
                    sign_in(page, base, *logins[role])
                contexts[role] = (context, page)
            return contexts[role][1]

        anonymous = context_for(None)
        IDS["session"] = first_link(anonymous, base, "/?lang=en", r'href="/sessions/(\d+)"')
        IDS["series"] = first_link(context_for("staff"), base, "/staff/series", r'href="/staff/series/(\d+)"')
        for shot in shots:
            page = context_for(shot.account)
            for lang in LANGS:
                for width in WIDTHS:
                    page.set_viewport_size({"width": width, "height": 800})
                    page.goto(f"{base}{shot.path.format(**IDS)}?lang={lang}", wait_until="load")
                    if shot.submit:
                        page.locator("main form button[type=submit]").last.click()
                        page.wait_for_load_state("load")
                    page.evaluate("document.fonts.ready.then(() => true)")
                    target = OUT / f"{shot.key}-{lang}-{width}.jpg"
                    height = min(page.evaluate("document.documentElement.scrollHeight"), MAX_HEIGHT)
                    page.screenshot(path=str(target), full_page=True, type="jpeg", quality=QUALITY,
                                    animations="disabled", clip={"x": 0, "y": 0, "width": width, "height": height})
                    print(f"  {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}", flush=True)
        browser.close()
    if not only:
        write_index()
    return 0


def write_index() -> None:
    total = sum(path.stat().st_size for path in OUT.glob("*.jpg"))
    lines = ["# Screenshots", "",
             "Every page of Majlis with the demo data, at 360 px (a phone) and 1280 px (a laptop), in Arabic and "
             "English; full length, JPEG. Made by `make screenshots` (bench/screenshots.py); "
             f"{len(SHOTS) * len(LANGS) * len(WIDTHS)} images, {total / 1e6:.1f} MB; pages longer than "
             f"{MAX_HEIGHT} px are cut there.", "",
             "| page | Arabic 360 | Arabic 1280 | English 360 | English 1280 |",
             "|------|------------|-------------|-------------|--------------|"]
    for shot in SHOTS:
        cells = " | ".join(f"[{lang} {width}]({shot.key}-{lang}-{width}.jpg)" for lang in LANGS for width in WIDTHS)
        lines.append(f"| {shot.title} (`{shot.path}`) | {cells} |")
    (OUT / "README.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
